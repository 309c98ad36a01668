import { realpathSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { providerConfig, type AppConfig } from '../config';
import { startLocalBackend, type LocalBackend, type LocalBackendOptions } from '../openai-local';
import { startDevServer, type DevServer, type DevServerOptions } from '../temporal/dev-server';
import type { S3Server, S3ServerOptions } from '../dev/s3-server';
import { createWorker, installTemporalLogging } from '../worker';
import { LOCAL_API_KEY } from './local-key';

export { LOCAL_API_KEY };

/** Temporal, the local backend and (optionally) a worker, started together and stopped in reverse. */
export interface LocalStack {
  server: DevServer;
  backend: LocalBackend;
  /** The S3-compatible server holding the run store, when started with one. */
  s3: S3Server | null;
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
  /** Also start an S3-compatible server and keep the run store in `bucket` under `prefix` there. */
  s3?: S3ServerOptions & { bucket: string; prefix: string };
}): Promise<LocalStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => opts.logger.warn({ err }, 'error while stopping'));
    stops.length = 0;
  };
  try {
    const server = await startDevServer(opts.server);
    stops.push(() => server.stop());
    const backend = await startLocalBackend(opts.backend);
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
      temporal: { ...opts.config.temporal, address: server.address, uiUrl: server.uiUrl, taskQueue: opts.taskQueue ?? opts.config.temporal.taskQueue },
      // The local backend accepts any key: the user's real one is neither needed nor shown.
      provider: providerConfig({ apiKey: LOCAL_API_KEY, baseURL: backend.url }),
      // Unset roots on a local stack mean the current directory's tree (a shared worker must name them).
      dataRoots: opts.config.dataRoots.length > 0 ? opts.config.dataRoots : [realpathSync(process.cwd())],
      ...(s3 && opts.s3
        ? {
            store: { kind: 's3' as const, bucket: opts.s3.bucket, prefix: opts.s3.prefix },
            s3: { endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } },
          }
        : {}),
    };
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: config.temporal.namespace });
    let worker: Worker | null = null;
    let workerDone: Promise<void> | null = null;
    if (opts.worker) {
      installTemporalLogging(opts.logger);
      const workerConnection = await NativeConnection.connect({ address: server.address });
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
    return { server, backend, s3, config, client, worker, workerDone, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
