import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { runDir } from '../artifacts';
import type { RunFacts } from '../domain/run';
import { cliConfig, UsageError } from './context';

/** Reads a run's run.json, with advice when it is not there. */
async function readRunFacts(file: string, runId: string): Promise<RunFacts> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(
      `No run.json for run ${JSON.stringify(runId)} at ${file}. The report is written when a run finishes; ` +
        'check the run id with `tuneflow status`, or set TUNEFLOW_ARTIFACTS_DIR to where the worker wrote artifacts.',
    );
  }
  try {
    return JSON.parse(text) as RunFacts;
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * A run's folder from a workflow id (or `<workflow id>/<first run id>`): the folder itself when it holds
 * run.json (runs before 0.2), else the newest run under it that finished.
 */
async function locateRunDir(artifactsDir: string, id: string): Promise<string> {
  const top = runDir(artifactsDir, id);
  const finished = async (dir: string) => (await stat(path.join(dir, 'run.json')).catch(() => null))?.mtimeMs ?? null;
  if ((await finished(top)) !== null) return top;
  const entries = await readdir(top, { withFileTypes: true }).catch(() => []);
  let newest: { dir: string; at: number } | null = null;
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = path.join(top, e.name);
    const at = await finished(dir);
    if (at !== null && (newest === null || at > newest.at)) newest = { dir, at };
  }
  return newest?.dir ?? top;
}

export function register(program: Command): void {
  program
    .command('report')
    .description("Re-render a finished run's report (report.md and report.html) from its artifacts")
    .argument('<run-id>', 'workflow id of the run (its newest finished run), or <workflow id>/<first run id>')
    .option('--out <dir>', "directory to write the report into (default: the run's artifacts folder)")
    .action(async (runId: string, options: { out?: string }) => {
      const config = await cliConfig();
      let dir: string;
      try {
        dir = await locateRunDir(config.artifactsDir, runId);
      } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      }
      const facts = await readRunFacts(path.join(dir, 'run.json'), runId);
      const { writeReportFiles } = await import('../report');
      const written = await writeReportFiles({ facts, runDir: dir, outDir: options.out ? path.resolve(options.out) : dir });
      console.log(written.html);
      console.log(written.markdown);
    });
}
