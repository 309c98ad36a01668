import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { AppConfig } from '../config';

// Imported by every command at start: only types and commander-level helpers here; the rest loads on use.

export interface CliContext {
  config: AppConfig;
  logger: Logger;
}

export async function cliConfig(): Promise<AppConfig> {
  const { loadConfig } = await import('../config');
  return loadConfig();
}

/** Config and a logger, for the commands that log (a pretty logger on a terminal starts a thread). */
export async function cliContext(): Promise<CliContext> {
  const config = await cliConfig();
  const { createLogger } = await import('../log');
  return { config, logger: createLogger(config.logLevel ?? 'info') };
}

/** Connects a Temporal client, turning "nothing listening" into advice a person can act on. */
export async function connectClient(config: AppConfig): Promise<Client> {
  const { Client, Connection } = await import('@temporalio/client');
  let connection: Awaited<ReturnType<typeof Connection.connect>>;
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
