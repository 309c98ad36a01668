import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { cliContext, UsageError } from './context';
import { exportLine, LOCAL_SAMPLE_MODEL, localProvider } from './local-provider';
import type { LocalStack } from './local-stack';
import { DEFAULT_LOCAL_PORT, parseLocalBackendFlags, type LocalBackendFlags } from './openai-local';
import { DEFAULT_WEBHOOK_PORT } from './webhooks';

/** Where `tuneflow dev --store s3` serves the run store: versitygw's own default port, on loopback. */
export const DEFAULT_S3_PORT = 7070;
/** The dev S3 server's bucket and key prefix: TUNEFLOW_STORE=s3://tuneflow/runs. */
export const DEV_S3_BUCKET = 'tuneflow';
export const DEV_S3_PREFIX = 'runs';
/** Loopback-only dev credentials, fixed so the exports printed once keep working across restarts. */
export const DEV_S3_ACCESS_KEY_ID = 'tuneflow-local';
export const DEV_S3_SECRET_ACCESS_KEY = 'tuneflow-local-secret';

function storeKind(raw: string): 'local' | 's3' {
  if (raw === 'local' || raw === 's3') return raw;
  throw new UsageError(`--store must be local or s3, got ${JSON.stringify(raw)}`);
}

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
    .option('--provider <name>', 'which provider the local backend plays and the worker speaks to: openai, azure or together (default openai)')
    .option('--deployment-seconds <n>', 'local backend, azure: simulated seconds a deployment takes to provision')
    .option('--webhooks', `local backend delivers fine-tuning webhooks to a receiver on ${DEFAULT_WEBHOOK_PORT} (as \`tuneflow webhooks\`), and the worker polls at the fallback pace`)
    .option('--store <kind>', `where run files live: local (.tuneflow/artifacts) or s3 (an S3-compatible server on ${DEFAULT_S3_PORT}, data in .tuneflow/s3)`, storeKind, 'local' as const)
    .action(async (o: Omit<LocalBackendFlags, 'dialect'> & { worker: boolean; provider?: string; store: 'local' | 's3'; webhooks?: boolean }) => {
      const { config, logger } = await cliContext();
      const [{ isListening }, { startLocalStack }] = await Promise.all([import('../temporal/dev-server'), import('./local-stack')]);
      const ports = ['127.0.0.1:7233', '127.0.0.1:8233', `127.0.0.1:${DEFAULT_LOCAL_PORT}`, ...(o.store === 's3' ? [`127.0.0.1:${DEFAULT_S3_PORT}`] : []), ...(o.webhooks ? [`127.0.0.1:${DEFAULT_WEBHOOK_PORT}`] : [])];
      for (const addr of ports) {
        if (await isListening(addr)) throw new UsageError(`${addr} is already in use: is another \`tuneflow dev\` running?`);
      }
      const { worker, provider, store, webhooks, ...flags } = o;
      if (webhooks && provider !== undefined && provider !== 'openai') throw new UsageError(`--webhooks: webhooks are OpenAI's; --provider ${provider} sends none.`);
      // A fresh secret each start unless one is set: the backend signs with it and the receiver verifies, both in this process.
      const webhookSecret = webhooks ? (config.webhooks?.secret ?? `whsec_${randomBytes(32).toString('base64')}`) : undefined;
      const backendOptions = parseLocalBackendFlags({ ...flags, ...(provider !== undefined ? { dialect: provider } : {}), port: String(DEFAULT_LOCAL_PORT), stateDir: path.join(config.home, `openai-local${provider && provider !== 'openai' ? `-${provider}` : ''}`) });
      const stack = await startLocalStack({
        config,
        logger,
        worker,
        provider: backendOptions.dialect ?? 'openai',
        server: { port: 7233, uiPort: 8233, dbFile: path.join(config.home, 'temporal.db') },
        backend: {
          ...backendOptions,
          ...(webhookSecret ? { webhookUrl: `http://127.0.0.1:${DEFAULT_WEBHOOK_PORT}/webhooks`, webhookSecret } : {}),
          logger: logger.child({ component: 'openai-local' }),
        },
        ...(webhookSecret ? { webhooks: { port: DEFAULT_WEBHOOK_PORT, secret: webhookSecret } } : {}),
        ...(store === 's3'
          ? {
              s3: {
                dataDir: path.join(config.home, 's3'),
                port: DEFAULT_S3_PORT,
                bucket: DEV_S3_BUCKET,
                prefix: DEV_S3_PREFIX,
                accessKeyId: DEV_S3_ACCESS_KEY_ID,
                secretAccessKey: DEV_S3_SECRET_ACCESS_KEY,
                say: (m: string) => process.stderr.write(`${m}\n`),
              },
            }
          : {}),
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
export function devBanner(stack: Pick<LocalStack, 'server' | 'backend' | 'config' | 'worker'> & Partial<Pick<LocalStack, 's3' | 'webhooks'>>, dbFile: string): string {
  const kind = stack.config.provider.kind;
  const local = localProvider(kind, stack.backend.url);
  const store = stack.config.store?.kind === 's3' ? stack.config.store : null;
  const s3 = stack.s3 && store ? { ...stack.s3.env, TUNEFLOW_STORE: `s3://${store.bucket}/${store.prefix}` } : null;
  return [
    'tuneflow dev is up:',
    `  Temporal     ${stack.server.address} (database ${dbFile})`,
    `  Temporal UI  ${stack.server.uiUrl}`,
    `  local backend  ${stack.backend.url} (speaks ${kind === 'openai' ? 'OpenAI' : kind === 'azure' ? 'Azure OpenAI, with ARM deployments' : 'Together AI'})`,
    `  worker       ${stack.worker ? `task queue ${stack.config.temporal.taskQueue}` : 'not started (--no-worker)'}`,
    ...(s3 ? [`  S3 store     ${s3.TUNEFLOW_STORE} at ${s3.AWS_ENDPOINT_URL} (versitygw)`] : []),
    ...(stack.webhooks ? [`  webhooks     the backend delivers to ${stack.webhooks.url}; the worker polls every ${stack.config.webhooks?.fallbackSeconds ?? 600} s as a fallback`] : []),
    `  data roots   ${stack.config.dataRoots.join(path.delimiter)} (TUNEFLOW_DATA_ROOTS)`,
    '',
    'In another shell:',
    `  ${exportLine({ TEMPORAL_ADDRESS: stack.server.address, ...local.env, ...(s3 ?? {}) })}`,
    `  npx tuneflow run data/sample/support-conversations.jsonl --model ${LOCAL_SAMPLE_MODEL[kind]} --poll-interval 2 --wait`,
    '',
    'Ctrl-C stops all of it.',
  ].join('\n');
}
