import { realpathSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { AppConfig } from '../config';
import { DEFAULT_WEBHOOK_FALLBACK_SECONDS } from '../domain/polling';
import type { WebhookReceiver } from '../webhooks/receiver';
import type { ProviderKind } from '../provider/types';
import { startLocalBackend, type LocalBackend, type LocalBackendOptions } from '../openai-local';
import { connectClient, openWorkerConnection } from '../temporal/connect';
import { startDevServer, type DevServer, type DevServerOptions } from '../temporal/dev-server';
import { localTemporalSettings } from '../temporal/settings';
import type { S3Server, S3ServerOptions } from '../dev/s3-server';
import { createWorker, installTemporalLogging } from '../worker';
import { LOCAL_API_KEY } from './local-key';
import { localProvider } from './local-provider';

export { LOCAL_API_KEY };

/** Temporal, the local backend and (optionally) a worker, started together and stopped in reverse. */
export interface LocalStack {
  server: DevServer;
  backend: LocalBackend;
  /** The S3-compatible server holding the run store, when started with one. */
  s3: S3Server | null;
  /** The in-process webhook receiver the backend delivers to, when started with one. */
  webhooks: WebhookReceiver | null;
  config: AppConfig;
  client: Client;
  worker: Worker | null;
  workerDone: Promise<void> | null;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: {
  config: AppConfig;
  logger: Logger;
  server: DevServerOptions;
  backend: LocalBackendOptions;
  worker: boolean;
  taskQueue?: string;
  /** Which provider the local backend plays (its dialect) and the worker speaks to; default openai. */
  provider?: ProviderKind;
  /** Also start an S3-compatible server and keep the run store in `bucket` under `prefix` there. */
  s3?: S3ServerOptions & { bucket: string; prefix: string };
  /** Also receive the backend's webhooks (`tuneflow webhooks` in-process on `port`), and tell the worker runs are woken by them. */
  webhooks?: { port: number; secret: string };
}): Promise<LocalStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => opts.logger.warn({ err }, 'error while stopping'));
    stops.length = 0;
  };
  try {
    const server = await startDevServer(opts.server);
    stops.push(() => server.stop());
    const backend = await startLocalBackend({ ...opts.backend, dialect: opts.provider ?? opts.backend.dialect ?? 'openai' });
    stops.push(() => backend.close());
    let s3: S3Server | null = null;
    if (opts.s3) {
      const { startS3Server } = await import('../dev/s3-server');
      const started = await startS3Server({ ...opts.s3, buckets: [opts.s3.bucket] });
      s3 = started;
      stops.push(() => started.stop());
    }
    const config: AppConfig = {
      ...opts.config,
      // Its own dev server, whatever profile, key or TLS the user's Temporal config names.
      temporal: { ...localTemporalSettings(server.address, opts.server.namespace), uiUrl: server.uiUrl, taskQueue: opts.taskQueue ?? opts.config.temporal.taskQueue },
      // The local backend accepts any key: the user's real one is neither needed nor shown.
      provider: localProvider(opts.provider ?? opts.backend.dialect ?? 'openai', backend.url).config,
      // Unset roots on a local stack mean the current directory's tree (a shared worker must name them).
      dataRoots: [
        ...(opts.config.dataRoots.length > 0 ? opts.config.dataRoots : [realpathSync(process.cwd())]),
        // With a bucket of its own, datasets may also be put there: tuneflow dev --store s3.
        ...(opts.s3 ? [`s3://${opts.s3.bucket}/`] : []),
      ],
      ...(s3 && opts.s3
        ? {
            store: { kind: 's3' as const, bucket: opts.s3.bucket, prefix: opts.s3.prefix },
            s3: { endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
          }
        : {}),
      ...(opts.webhooks ? { webhooks: { enabled: true, fallbackSeconds: opts.config.webhooks?.fallbackSeconds ?? DEFAULT_WEBHOOK_FALLBACK_SECONDS, secret: opts.webhooks.secret } } : {}),
    };
    const client = await connectClient(config.temporal, { codec: config.codec });
    stops.push(() => client.connection.close());
    let webhooks: WebhookReceiver | null = null;
    if (opts.webhooks) {
      const [{ createProvider }, { startWebhookReceiver }] = await Promise.all([import('../provider'), import('../webhooks/receiver')]);
      const provider = createProvider(config.provider);
      const receiver = await startWebhookReceiver({ host: '127.0.0.1', port: opts.webhooks.port, secret: opts.webhooks.secret, client, provider: () => provider, logger: opts.logger });
      webhooks = receiver;
      stops.push(() => receiver.close());
    }
    let worker: Worker | null = null;
    let workerDone: Promise<void> | null = null;
    if (opts.worker) {
      installTemporalLogging(opts.logger);
      const workerConnection = await openWorkerConnection(config.temporal);
      stops.push(() => workerConnection.close());
      const w = await createWorker({ config, logger: opts.logger, connection: workerConnection });
      worker = w;
      workerDone = w.run();
      const done = workerDone;
      stops.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        await done;
      });
    }
    return { server, backend, s3, webhooks, config, client, worker, workerDone, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
