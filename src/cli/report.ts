import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { runDir } from '../activities/artifacts';
import { loadConfig } from '../config';
import type { RunFacts } from '../domain/run';
import { writeReportFiles } from '../report';
import { UsageError } from './context';

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

export function register(program: Command): void {
  program
    .command('report')
    .description("Re-render a finished run's report (report.md and report.html) from its artifacts")
    .argument('<run-id>', 'workflow id of the run')
    .option('--out <dir>', "directory to write the report into (default: the run's artifacts folder)")
    .action(async (runId: string, options: { out?: string }) => {
      const config = loadConfig();
      let dir: string;
      try {
        dir = runDir(config.artifactsDir, runId);
      } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      }
      const facts = await readRunFacts(path.join(dir, 'run.json'), runId);
      const written = await writeReportFiles({ facts, runDir: dir, outDir: options.out ? path.resolve(options.out) : dir });
      console.log(written.html);
      console.log(written.markdown);
    });
}
