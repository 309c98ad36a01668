import os from 'node:os';
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

/** Connects a Temporal client (settings and codec keys from the config), turning "nothing listening" into advice a person can act on. */
export async function connectClient(config: AppConfig): Promise<Client> {
  const temporal = await import('../temporal/connect');
  // The OpenTelemetry SDK is loaded only when tracing is on, so commands start as fast without it.
  const telemetry = config.telemetry?.otlpTracesUrl ? await import('../telemetry/tracing') : null;
  const tracing = await telemetry?.startTracing(config.telemetry, 'tuneflow');
  // The command's spans leave with the process: export them once it has nothing else to do.
  if (tracing) process.once('beforeExit', () => void tracing.shutdown());
  let client: Client;
  try {
    client = await temporal.connectClient(config.temporal, {
      codec: config.codec,
      connectTimeoutMs: 5000,
      ...(telemetry ? { interceptors: telemetry.tracingClientInterceptors() } : {}),
    });
  } catch (err) {
    if (err instanceof temporal.TemporalConnectError) throw new UsageError(err.message);
    throw err;
  }
  return client;
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

/** A commander parser for a port flag (0 = any free port), named in its error. */
export function parsePort(name = '--port') {
  return (raw: string): number => {
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${name} must be a port number 0..65535, got ${JSON.stringify(raw)}`);
    return port;
  };
}

/** Who a person is when `--by` is not given (approve, reject, line promote/rollback): $USER, else the account name. */
export function personName(env: NodeJS.ProcessEnv = process.env): string {
  const user = env.USER?.trim();
  if (user) return user;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
