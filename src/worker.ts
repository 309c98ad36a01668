import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type InjectedSinks, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import { dataRootsHint, type AppConfig } from './config';
import { createProvider, type FineTuneProvider } from './provider';
import { TuneflowMetrics } from './telemetry/metrics';
import { freeLoopbackPort, startMetricsServer } from './telemetry/metrics-server';
import { instrumentedFetch } from './telemetry/provider-fetch';
import { startTracing, tracingWorkerOptions, WORKFLOW_INTERCEPTOR_MODULES } from './telemetry/tracing';
import { openWorkerConnection, tuneflowDataConverter } from './temporal/connect';
import type { RunSinks } from './workflows/sinks';

const HERE = fileURLToPath(import.meta.url);
// The workflows in the same form as this module: src/workflows/index.ts from the sources, .js in dist/.
export const WORKFLOWS_PATH = path.join(path.dirname(HERE), 'workflows', `index${path.extname(HERE)}`);
/** Written by `npm run build` beside the compiled worker; absent when running from the sources. */
export const PREBUILT_WORKFLOW_BUNDLE = path.join(path.dirname(HERE), 'workflow-bundle.js');

/** `npm run build`'s last step: bundles the workflows once, so workers start without webpack work. */
export async function writeWorkflowBundle(file = PREBUILT_WORKFLOW_BUNDLE): Promise<string> {
  const quiet = new DefaultLogger('WARN');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES], logger: quiet });
  await writeFile(file, code);
  return file;
}

/** The prebuilt bundle when there is one; otherwise (running from the sources) the worker bundles at start. */
function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  return existsSync(PREBUILT_WORKFLOW_BUNDLE) ? { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE } } : { workflowsPath: WORKFLOWS_PATH };
}

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
      // The bundler's webpack report is dozens of lines; it matters only when debugging a bundle, or when it failed.
      if (level === 'ERROR') sdk.error(fields, message);
      else if (message.startsWith('asset workflow-bundle')) sdk.debug(fields, message);
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
   * A bundle made by the caller (tests bundle once per file); otherwise the build's, or one made at start.
   * Build it with `workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES` (src/telemetry/tracing.ts) for traces.
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
  // One adapter per worker, built on first use: a worker that is never asked to reach the provider needs no key.
  let provider: FineTuneProvider | undefined;
  const activities = createActivities({
    config,
    logger,
    metrics,
    provider: () => (provider ??= createProvider(config.provider, { fetch })),
  });
  const source = workflowBundle ? { workflowBundle } : workflowSource();
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...source,
    // Encrypts what the worker writes to history when codec keys are set; explains encrypted payloads it cannot read otherwise.
    dataConverter: tuneflowDataConverter(config.codec),
    activities,
    // A prebuilt bundle carries its interceptor modules already (bundleWorkflowCode's workflowInterceptorModules).
    interceptors: 'workflowBundle' in source ? { activity: tracing.interceptors.activity } : tracing.interceptors,
    sinks: { ...tracing.sinks, ...runSinks(metrics) },
    // Lets in-flight activities finish or heartbeat their progress before the process exits.
    shutdownGraceTime: '10 seconds',
  });
}

/** Whoever can start a workflow must not be able to make the worker read (and upload) any file it can see. */
export function dataRootsMissingMessage(cwd = process.cwd()): string {
  return (
    'TUNEFLOW_DATA_ROOTS is not set: the worker reads datasets and eval files named in workflow input only under these folders. ' +
    `Set it to the folders that hold your data (separated by ':'), for example:\n  ${dataRootsHint(cwd)}`
  );
}

/** `tuneflow worker`: runs until SIGINT or SIGTERM, then drains and exits. */
export async function runWorker(config: AppConfig, logger: Logger): Promise<void> {
  const telemetry = config.telemetry;
  const metricsPort = telemetry?.metricsPort;
  const runtimePort = metricsPort !== undefined ? await freeLoopbackPort() : undefined;
  installTemporalLogging(logger, runtimePort !== undefined ? { prometheusBindAddress: `127.0.0.1:${runtimePort}` } : {});
  if (!config.provider.apiKey) throw new Error('OPENAI_API_KEY is not set: the worker needs it to reach the provider.');
  if (config.dataRoots.length === 0) throw new Error(dataRootsMissingMessage());
  const metrics = metricsPort !== undefined ? new TuneflowMetrics() : undefined;
  const server =
    metrics && metricsPort !== undefined
      ? await startMetricsServer({ host: telemetry?.metricsHost ?? '0.0.0.0', port: metricsPort, metrics, runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`, logger })
      : undefined;
  if (server) logger.info({ port: server.port, runtimePort }, 'serving Prometheus metrics at /metrics');
  const tracing = await startTracing(telemetry, 'tuneflow-worker');
  const connection = await openWorkerConnection(config.temporal);
  try {
    const { assertSearchAttributesRegistered } = await import('./temporal/search-attributes');
    // Every run is tagged from its start: a worker on a namespace without the attributes would only fail runs.
    await assertSearchAttributesRegistered(connection.operatorService, config.temporal, (reason) =>
      logger.warn({ namespace: config.temporal.namespace, reason }, "could not check tuneflow's search attributes; starting anyway"),
    );
    const worker = await createWorker({ config, logger, connection, metrics });
    logger.info(
      {
        address: config.temporal.address,
        namespace: config.temporal.namespace,
        temporalSettings: config.temporal.source,
        taskQueue: config.temporal.taskQueue,
        provider: config.provider.baseURL ?? 'https://api.openai.com/v1',
        codecKey: config.codec?.currentId ?? null,
      },
      'worker started',
    );
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
    await server?.close();
    await tracing?.shutdown();
  }
}
