import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devBanner } from '../../src/cli/dev';
import { LOCAL_API_KEY, startLocalStack } from '../../src/cli/local-stack';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../helpers/stack';

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
});
