/**
 * Records the golden history the replay test checks the workflow against: one whole successful run
 * of the sample dataset on a throwaway local stack. Re-record only for an intended, patched() change:
 * `npx tsx scripts/record-history.ts`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { SAMPLE_DATASET, DEMO_MODEL } from '../src/cli/demo';
import { startLocalStack } from '../src/cli/local-stack';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { startPipeline } from '../src/starter';
import { findTemporalCli } from '../src/temporal/cli';

const out = fileURLToPath(new URL('../test/fixtures/histories/fine-tune-pipeline.json', import.meta.url));
const state = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-record-'));
// A recognisable key, so the replay test can prove that secrets never reach history.
export const RECORDING_API_KEY = 'sk-golden-recording-secret';
const base = loadConfig();
const config = { ...base, artifactsDir: path.join(state, 'artifacts'), provider: { ...base.provider, apiKey: RECORDING_API_KEY } };
const stack = await startLocalStack({ config, logger: createLogger('warn'), worker: true, taskQueue: 'record', server: {}, backend: { port: 0, stateDir: state } });
try {
  const handle = await startPipeline(stack.client, stack.config, { datasetPath: SAMPLE_DATASET, model: DEMO_MODEL, pollIntervalSeconds: 1, eval: { compare: [], maxExamples: 12, batchSize: 6, concurrency: 4, maxTokens: 256 } }, { workflowId: 'golden-run' });
  await handle.result();
  // The CLI writes the history in the JSON form Worker.runReplayHistory reads.
  const cli = await findTemporalCli();
  if (!cli.path) throw new Error('recording needs the Temporal CLI binary');
  const json = execFileSync(cli.path, ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', stack.server.address, '--output', 'json'], { maxBuffer: 64 << 20 });
  await writeFile(out, json);
  console.log(`wrote ${out}`);
} finally {
  await stack.stop();
  await rm(state, { recursive: true, force: true });
}
