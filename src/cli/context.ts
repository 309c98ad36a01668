import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { loadConfig, type AppConfig } from '../config';
import { createLogger } from '../log';

export interface CliContext {
  config: AppConfig;
  logger: Logger;
}

export function cliContext(): CliContext {
  const config = loadConfig();
  return { config, logger: createLogger(config.logLevel ?? 'info') };
}

/** Connects a Temporal client, turning "nothing listening" into advice a person can act on. */
export async function connectClient(config: AppConfig): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 5000 });
  } catch (err) {
    throw new UsageError(
      `Cannot reach Temporal at ${config.temporal.address} (${err instanceof Error ? err.message : String(err)}). ` +
        'Start one with `tuneflow dev`, or set TEMPORAL_ADDRESS.',
    );
  }
  // The OpenTelemetry SDK is loaded only when tracing is on, so commands start as fast without it.
  const telemetry = config.telemetry?.otlpTracesUrl ? await import('../telemetry/tracing') : null;
  const tracing = await telemetry?.startTracing(config.telemetry, 'tuneflow');
  // The command's spans leave with the process: export them once it has nothing else to do.
  if (tracing) process.once('beforeExit', () => void tracing.shutdown());
  return new Client({ connection, namespace: config.temporal.namespace, ...(telemetry ? { interceptors: telemetry.tracingClientInterceptors() } : {}) });
}

/** An error the person can fix from the command line; printed without a stack, exit code 2. */
export class UsageError extends Error {}

export function parseNumber(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new UsageError(`${name} must be a number, got ${JSON.stringify(raw)}`);
    return n;
  };
}
