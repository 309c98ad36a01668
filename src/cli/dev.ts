import path from 'node:path';
import type { Command } from 'commander';
import { cliContext, UsageError } from './context';
import { LOCAL_API_KEY } from './local-key';
import type { LocalStack } from './local-stack';
import { DEFAULT_LOCAL_PORT, parseLocalBackendFlags, type LocalBackendFlags } from './openai-local';

export function register(program: Command): void {
  program
    .command('dev')
    .description('run Temporal (UI on 8233), the local OpenAI-compatible backend and a worker, until Ctrl-C')
    .option('--no-worker', 'do not start a worker (run `tuneflow worker` yourself)')
    .option('--rpm <n>', 'local backend: requests per minute limit (env TUNEFLOW_LOCAL_RPM)')
    .option('--tpm <n>', 'local backend: chat completion tokens per minute limit (env TUNEFLOW_LOCAL_TPM)')
    .option('--fault-rate <p>', 'local backend: share of requests that fail transiently (env TUNEFLOW_LOCAL_FAULT_RATE)')
    .option('--fail-jobs', 'local backend: running jobs fail midway')
    .option('--refuse-fine-tuning', 'local backend: refuse job creation with 403, like a provider without fine-tuning access')
    .option('--time-scale <x>', 'local backend: simulated seconds per real second')
    .action(async (o: LocalBackendFlags & { worker: boolean }) => {
      const { config, logger } = await cliContext();
      const [{ isListening }, { startLocalStack }] = await Promise.all([import('../temporal/dev-server'), import('./local-stack')]);
      for (const addr of ['127.0.0.1:7233', '127.0.0.1:8233', `127.0.0.1:${DEFAULT_LOCAL_PORT}`]) {
        if (await isListening(addr)) throw new UsageError(`${addr} is already in use: is another \`tuneflow dev\` running?`);
      }
      const { worker, ...flags } = o;
      const stack = await startLocalStack({
        config,
        logger,
        worker,
        server: { port: 7233, uiPort: 8233, dbFile: path.join(config.home, 'temporal.db') },
        backend: {
          ...parseLocalBackendFlags({ ...flags, port: String(DEFAULT_LOCAL_PORT), stateDir: path.join(config.home, 'openai-local') }),
          logger: logger.child({ component: 'openai-local' }),
        },
      });
      console.log(devBanner(stack, path.join(config.home, 'temporal.db')));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.log('\nStopping…');
      await stack.stop();
    });
}

/** What `tuneflow dev` prints once it is up. The key is the local one: the user's real key never appears. */
export function devBanner(stack: Pick<LocalStack, 'server' | 'backend' | 'config' | 'worker'>, dbFile: string): string {
  return [
    'tuneflow dev is up:',
    `  Temporal     ${stack.server.address} (database ${dbFile})`,
    `  Temporal UI  ${stack.server.uiUrl}`,
    `  OpenAI-compatible backend  ${stack.backend.url}`,
    `  worker       ${stack.worker ? `task queue ${stack.config.temporal.taskQueue}` : 'not started (--no-worker)'}`,
    `  data roots   ${stack.config.dataRoots.join(path.delimiter)} (TUNEFLOW_DATA_ROOTS)`,
    '',
    'In another shell:',
    `  export TEMPORAL_ADDRESS=${stack.server.address} OPENAI_BASE_URL=${stack.backend.url} OPENAI_API_KEY=${LOCAL_API_KEY}`,
    '  npx tuneflow run data/sample/support-conversations.jsonl --model gpt-4o-mini-2024-07-18 --poll-interval 2 --wait',
    '',
    'Ctrl-C stops all of it.',
  ].join('\n');
}
