import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, type InjectedSinks, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import type { AppConfig } from './config';
import { createProviderClient } from './provider/client';
import { TuneflowMetrics } from './telemetry/metrics';
import { freeLoopbackPort, startMetricsServer } from './telemetry/metrics-server';
import { instrumentedFetch } from './telemetry/provider-fetch';
import { startTracing, tracingWorkerOptions } from './telemetry/tracing';
import type { RunSinks } from './workflows/sinks';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

let runtimeInstalled = false;

/**
 * Routes the Temporal SDK's own logs through pino, once per process; with `prometheusBindAddress`,
 * the SDK's runtime also serves its own metrics there.
 */
export function installTemporalLogging(logger: Logger, telemetry: { prometheusBindAddress?: string } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = logger.child({ component: 'temporal' });
  Runtime.install({
    ...(telemetry.prometheusBindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: telemetry.prometheusBindAddress } } } } : {}),
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => {
      const fields = meta ?? {};
      // The bundler's webpack report is dozens of lines; it matters only when debugging a bundle.
      if (message.startsWith('asset workflow-bundle')) sdk.debug(fields, message);
      else if (level === 'ERROR') sdk.error(fields, message);
      else if (level === 'WARN') sdk.warn(fields, message);
      else if (level === 'INFO') sdk.info(fields, message);
      else sdk.debug(fields, message);
    }),
  });
}

export interface WorkerSetup {
  config: AppConfig;
  logger: Logger;
  connection: NativeConnection;
  /**
   * A prebuilt bundle (tests bundle once per file); otherwise the workflows are bundled at start. Build
   * it with `workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES` (src/telemetry/tracing.ts) for traces.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The project's Prometheus series, when the worker serves metrics. */
  metrics?: TuneflowMetrics | undefined;
}

/** The sink through which runs report their stage transitions; every worker registers it, with or without metrics. */
export function runSinks(metrics?: TuneflowMetrics): InjectedSinks<RunSinks> {
  return { runs: { stageEntered: { fn: (_info, from, to) => metrics?.stageEntered(from, to) } } };
}

export async function createWorker({ config, logger, connection, workflowBundle, metrics }: WorkerSetup): Promise<Worker> {
  const tracing = tracingWorkerOptions(await startTracing(config.telemetry, 'tuneflow-worker'));
  const fetch = instrumentedFetch(metrics);
  const activities = createActivities({
    config,
    logger,
    metrics,
    provider: () => createProviderClient({ apiKey: config.provider.apiKey, baseURL: config.provider.baseURL, fetch }),
  });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    // A prebuilt bundle carries its interceptor modules already (bundleWorkflowCode's workflowInterceptorModules).
    interceptors: workflowBundle ? { activity: tracing.interceptors.activity } : tracing.interceptors,
    sinks: { ...tracing.sinks, ...runSinks(metrics) },
    // Lets in-flight activities finish or heartbeat their progress before the process exits.
    shutdownGraceTime: '10 seconds',
  });
}

/** `tuneflow worker`: runs until SIGINT or SIGTERM, then drains and exits. */
export async function runWorker(config: AppConfig, logger: Logger): Promise<void> {
  const telemetry = config.telemetry;
  const metricsPort = telemetry?.metricsPort;
  const runtimePort = metricsPort !== undefined ? await freeLoopbackPort() : undefined;
  installTemporalLogging(logger, runtimePort !== undefined ? { prometheusBindAddress: `127.0.0.1:${runtimePort}` } : {});
  if (!config.provider.apiKey) throw new Error('OPENAI_API_KEY is not set: the worker needs it to reach the provider.');
  const metrics = metricsPort !== undefined ? new TuneflowMetrics() : undefined;
  const server =
    metrics && metricsPort !== undefined
      ? await startMetricsServer({ host: telemetry?.metricsHost ?? '0.0.0.0', port: metricsPort, metrics, runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`, logger })
      : undefined;
  if (server) logger.info({ port: server.port, runtimePort }, 'serving Prometheus metrics at /metrics');
  const tracing = await startTracing(telemetry, 'tuneflow-worker');
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createWorker({ config, logger, connection, metrics });
    logger.info({ address: config.temporal.address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, provider: config.provider.baseURL ?? 'https://api.openai.com/v1' }, 'worker started');
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
    await server?.close();
    await tracing?.shutdown();
  }
}
