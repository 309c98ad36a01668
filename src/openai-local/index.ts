// Public entry point of the local OpenAI-compatible backend (contract used by the CLI and tests).
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { REDACTED, REDACTED_LOG_PATHS } from '../log';
import { ChatService } from './chat';
import { SimClock } from './clock';
import type { BackendContext, BackendDialect } from './context';
import { JobService } from './jobs';
import { FaultInjector, RateLimiter, TokenRateLimiter } from './limits';
import { buildServer } from './server';
import { DEFAULT_TIME_SCALE, type RuntimeSettings } from './settings';
import { Stats } from './stats';
import { Store } from './store';

export interface LocalBackendOptions {
  host?: string;
  port?: number;
  stateDir: string;
  /** Which provider's API to speak (default openai). */
  dialect?: BackendDialect;
  timeScale?: number;
  rpm?: number;
  tpm?: number;
  faultRate?: number;
  failJobs?: boolean;
  refuseFineTuning?: boolean;
  outage?: boolean;
  latencyMs?: number;
  latencyOperations?: string[];
  /** Simulated slow link for uploads, bytes per second; 0 (default) = unlimited. */
  uploadBytesPerSecond?: number;
  seed?: number;
  logger?: Logger;
}

export interface LocalBackend {
  url: string;
  port: number;
  close(): Promise<void>;
}

export { DEFAULT_TIME_SCALE } from './settings';
export type { BackendDialect } from './context';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startLocalBackend(opts: LocalBackendOptions): Promise<LocalBackend> {
  const host = opts.host ?? '127.0.0.1';
  // The backend accepts any bearer token, so it must never be reachable from outside this machine.
  if (!LOOPBACK.has(host)) throw new Error(`openai-local only listens on loopback, not on ${host}`);
  const timeScale = opts.timeScale ?? DEFAULT_TIME_SCALE;
  if (!(timeScale > 0)) throw new Error('timeScale must be > 0');
  // Requests carry bearer keys: whatever logger it is given, the backend never writes one out.
  const log = (opts.logger ?? pino({ level: 'silent' })).child({}, { redact: { paths: REDACTED_LOG_PATHS, censor: REDACTED } });
  const store = await Store.open(opts.stateDir);
  const clock = new SimClock(timeScale, await store.readClock());
  const settings: RuntimeSettings = {
    rpm: opts.rpm ?? 0,
    tpm: opts.tpm ?? 0,
    faultRate: opts.faultRate ?? 0,
    failJobs: opts.failJobs ?? false,
    refuseFineTuning: opts.refuseFineTuning ?? false,
    revokedKeys: false,
    outage: opts.outage ?? false,
    latencyMs: opts.latencyMs ?? 0,
    latencyOperations: [...(opts.latencyOperations ?? [])],
    uploadBytesPerSecond: opts.uploadBytesPerSecond ?? 0,
    timeScale,
  };
  const jobs = new JobService(store, clock, settings, log);
  const ctx: BackendContext = {
    dialect: opts.dialect ?? 'openai',
    store,
    clock,
    jobs,
    chat: new ChatService(store, clock),
    settings,
    stats: new Stats(),
    limiter: new RateLimiter(settings.rpm),
    tokenLimiter: new TokenRateLimiter(settings.tpm),
    faults: new FaultInjector(opts.seed ?? 0),
    log,
  };
  // Jobs whose file validation was interrupted by a restart are validated again.
  for (const job of store.jobs.values()) if (!job.validation && !job.final) jobs.startValidation(job);

  const app = await buildServer(ctx);
  await app.listen({ host, port: opts.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : '127.0.0.1';

  // Persist terminal states and the simulated clock even when nobody polls.
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void Promise.all([jobs.tick(), store.writeClock(clock.state())])
      .catch((err: unknown) => log.error({ err }, 'background tick failed'))
      .finally(() => {
        ticking = false;
      });
  }, 250);
  ticker.unref();
  log.info({ port, stateDir: opts.stateDir, settings }, 'openai-local listening');

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    close: () => {
      closing ??= (async () => {
        clearInterval(ticker);
        await app.close();
        await jobs.drain();
        await store.writeClock(clock.state());
        await store.flush();
        log.info({ port }, 'openai-local closed');
      })();
      return closing;
    },
  };
}
