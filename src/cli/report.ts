import path from 'node:path';
import type { Command } from 'commander';
import type { RunFacts } from '../domain/run';
import type { ArtifactStore } from '../store';
import { cliConfig, UsageError } from './context';

/** Reads a run's run.json from the store, with advice when it is not there. */
async function readRunFacts(store: ArtifactStore, key: string, runId: string): Promise<RunFacts> {
  let text: string;
  try {
    text = (await store.read(key)).toString('utf8');
  } catch {
    throw new UsageError(
      `No run.json for run ${JSON.stringify(runId)} at ${store.url(key)}. The report is written when a run finishes; ` +
        'check the run id with `tuneflow status`, or set TUNEFLOW_STORE (or TUNEFLOW_ARTIFACTS_DIR) to where the workers write run files.',
    );
  }
  try {
    return JSON.parse(text) as RunFacts;
  } catch (err) {
    throw new UsageError(`${store.url(key)} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * A run's key from a workflow id (or `<workflow id>/<first run id>`): the id itself when it holds
 * run.json (runs before 0.2), else the newest run under it that finished.
 */
async function locateRunKey(store: ArtifactStore, id: string): Promise<string> {
  const { assertRunKey, RUN_FILES, runObjectKey } = await import('../store');
  assertRunKey(id);
  if (await store.exists(runObjectKey(id, RUN_FILES.runJson))) return id;
  if (id.includes('/')) return id;
  let newest: { runKey: string; at: number } | null = null;
  for (const entry of await store.list(`${id}/`)) {
    const parts = entry.key.split('/');
    if (parts.length !== 3 || parts[2] !== RUN_FILES.runJson) continue;
    const at = entry.modified.getTime();
    if (newest === null || at > newest.at) newest = { runKey: `${parts[0]}/${parts[1]}`, at };
  }
  return newest?.runKey ?? id;
}

export function register(program: Command): void {
  program
    .command('report')
    .description("Re-render a finished run's report (report.md and report.html) from its files in the store")
    .argument('<run-id>', 'workflow id of the run (its newest finished run), or <workflow id>/<first run id>')
    .option('--out <dir>', "local directory to write the report into (default: the run's place in the store)")
    .action(async (runId: string, options: { out?: string }) => {
      const config = await cliConfig();
      const [{ openStorage, RUN_FILES, runObjectKey }, { storageSettings }] = await Promise.all([import('../store'), import('../config')]);
      const settings = storageSettings(config);
      const storage = openStorage(settings.location, settings.s3);
      try {
        let runKey: string;
        try {
          runKey = await locateRunKey(storage.store, runId);
        } catch (err) {
          throw new UsageError(err instanceof Error ? err.message : String(err));
        }
        const facts = await readRunFacts(storage.store, runObjectKey(runKey, RUN_FILES.runJson), runId);
        const { writeReportFiles } = await import('../report');
        const written = await writeReportFiles({ facts, store: storage.store, runKey, ...(options.out ? { outDir: path.resolve(options.out) } : {}) });
        console.log(written.html);
        console.log(written.markdown);
      } finally {
        storage.close();
      }
    });
}
