import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { devBanner } from '../../src/cli/dev';
import { LOCAL_API_KEY, startLocalStack } from '../../src/cli/local-stack';
import { loadConfig, storageSettings } from '../../src/config';
import { startPipeline } from '../../src/starter';
import { openStorage } from '../../src/store';
import { SAMPLE_DATASET, silentLogger } from '../helpers/stack';
import { trained } from '../helpers/runs';

describe('the local stack behind tuneflow dev', () => {
  it('uses and prints the local key, never the real OPENAI_API_KEY from the environment, and reads data under the current directory by default', async () => {
    const realKey = 'sk-proj-REAL-user-key-do-not-print-0123456789';
    const home = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-local-stack-'));
    const config = loadConfig({ OPENAI_API_KEY: realKey, TUNEFLOW_HOME: home, TUNEFLOW_DATA_ROOTS: '' });
    const stack = await startLocalStack({ config, logger: silentLogger, worker: false, server: {}, backend: { port: 0, stateDir: path.join(home, 'openai-local') } });
    try {
      expect(stack.config.provider.apiKey).toBe(LOCAL_API_KEY);
      expect(stack.config.dataRoots).toEqual([await realpath(process.cwd())]);
      const banner = devBanner(stack, path.join(home, 'temporal.db'));
      expect(banner).not.toContain(realKey);
      expect(banner).toContain(`OPENAI_API_KEY=${LOCAL_API_KEY}`);
      expect(banner).toContain(`OPENAI_BASE_URL=${stack.backend.url}`);
    } finally {
      await stack.stop();
      await rm(home, { recursive: true, force: true });
    }
  }, 120_000);

  it('with --store s3, keeps every run file in the S3 server it started and prints the exports another shell needs', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-local-stack-'));
    const config = loadConfig({ TUNEFLOW_HOME: home, TUNEFLOW_DATA_ROOTS: '' });
    const stack = await startLocalStack({
      config,
      logger: silentLogger,
      worker: true,
      server: {},
      backend: { port: 0, stateDir: path.join(home, 'openai-local'), timeScale: 40 },
      s3: { binary: inject('s3ServerPath'), dataDir: path.join(home, 's3'), bucket: 'tuneflow', prefix: 'runs' },
    });
    try {
      const banner = devBanner(stack, path.join(home, 'temporal.db'));
      const s3 = stack.s3;
      if (!s3) throw new Error('no S3 server');
      const exportLine = banner.split('\n').find((l) => l.trim().startsWith('export ')) ?? '';
      const exported = Object.fromEntries(exportLine.trim().slice('export '.length).split(' ').map((kv) => kv.split('=') as [string, string]));
      expect(exported).toMatchObject({
        TUNEFLOW_STORE: 's3://tuneflow/runs',
        AWS_ENDPOINT_URL: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_REGION: s3.region,
      });
      const handle = await startPipeline(stack.client, stack.config, { datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1, eval: { maxExamples: 8 } });
      const result = trained(await handle.result());
      const runKey = `${handle.workflowId}/${handle.firstExecutionRunId}`;
      expect(result.artifactsDir).toBe(`s3://tuneflow/runs/${runKey}`);
      // Another shell with only the printed exports finds the run's files.
      const other = storageSettings(loadConfig({ ...exported, TUNEFLOW_HOME: path.join(home, 'other') }));
      const { store } = openStorage(other.location, other.s3);
      try {
        const keys = (await store.list(`${runKey}/`)).map((e) => e.key.slice(runKey.length + 1));
        expect(keys).toEqual(expect.arrayContaining(['split/train.jsonl', 'split/valid.jsonl', 'metrics.jsonl', 'eval/eval-set.jsonl', 'eval/results.jsonl', 'run.json', 'report.html', 'report.md']));
      } finally {
        store.close();
      }
    } finally {
      await stack.stop();
      await rm(home, { recursive: true, force: true });
    }
  }, 180_000);
});
