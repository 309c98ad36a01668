// Public entry point of the local OpenAI-compatible backend (contract used by the CLI and tests).
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { REDACTED, REDACTED_LOG_PATHS } from '../log';
import { ChatService } from './chat';
import { SimClock } from './clock';
import { AZURE_DATA_PLANE_PREFIX } from './azure-surface';
import type { BackendContext } from './context';
import { type DeploymentAccount, DeploymentService } from './deployments';
import type { Dialect } from './dialects';
import { JobService } from './jobs';
import { FaultInjector, RateLimiter, TokenRateLimiter } from './limits';
import { buildServer } from './server';
import { DEFAULT_DEPLOYMENT_SECONDS, DEFAULT_TIME_SCALE, type DeploymentRefusal, type RuntimeSettings } from './settings';
import { Stats } from './stats';
import { Store } from './store';
import { WebhookSender } from './webhooks';

export interface LocalBackendOptions {
  /** Whose API to speak (default openai). */
  dialect?: Dialect;
  host?: string;
  port?: number;
  stateDir: string;
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
  /** Azure dialect: the one account ARM serves (defaults: LOCAL_AZURE_ACCOUNT). */
  azureAccount?: Partial<DeploymentAccount>;
  /** Azure dialect: simulated seconds a deployment takes to provision (default 240). */
  deploymentSeconds?: number;
  /** Azure dialect: refuse deployment creation with a 403 or a quota error. */
  refuseDeployments?: DeploymentRefusal;
  /** Where to POST OpenAI's fine-tuning webhooks (`fine_tuning.job.succeeded|failed|cancelled`); unset: none are sent. */
  webhookUrl?: string;
  /** The endpoint's signing secret (`whsec_<base64>`); required with webhookUrl. */
  webhookSecret?: string;
  /** Real milliseconds before each retry of a delivery that failed (default 250, 1000, 4000). */
  webhookRetryDelaysMs?: readonly number[];
}

export interface LocalBackend {
  dialect: Dialect;
  /** The base URL an OpenAI client takes: `/v1`, or the Azure data plane's `/openai/v1`. */
  url: string;
  /** Scheme, host and port: Azure's resource endpoint and ARM endpoint. */
  origin: string;
  port: number;
  /** Azure dialect: the subscription, resource group and account ARM serves. */
  azureAccount: DeploymentAccount | null;
  close(): Promise<void>;
}

export { DEFAULT_TIME_SCALE } from './settings';
export { DIALECTS, type Dialect } from './dialects';

/** The account the Azure dialect serves unless told otherwise. */
export const LOCAL_AZURE_ACCOUNT: DeploymentAccount = {
  subscriptionId: '00000000-0000-0000-0000-000000000000',
  resourceGroup: 'tuneflow-local',
  account: 'tuneflow-local',
};

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
    refuseDeployments: opts.refuseDeployments ?? 'none',
    deploymentSeconds: opts.deploymentSeconds ?? DEFAULT_DEPLOYMENT_SECONDS,
    timeScale,
  };
  const dialect = opts.dialect ?? 'openai';
  const stats = new Stats();
  const webhooks = webhookSender(opts, dialect, stats, log);
  // Delivery records carry the real instant of the job's end, so they line up with other clocks (history times).
  const jobs = new JobService(store, clock, settings, log, webhooks ? (job, final) => webhooks.jobFinished(job, final, clock.realMsAt(final.finishedAtMs)) : null);
  const chat = new ChatService(store, clock);
  const azureAccount = dialect === 'azure' ? { ...LOCAL_AZURE_ACCOUNT, ...opts.azureAccount } : null;
  const ctx: BackendContext = {
    dialect,
    store,
    clock,
    jobs,
    chat,
    settings,
    stats,
    deployments: azureAccount ? new DeploymentService(azureAccount, store, clock, chat, settings, stats, log) : null,
    limiter: new RateLimiter(settings.rpm),
    tokenLimiter: new TokenRateLimiter(settings.tpm),
    faults: new FaultInjector(opts.seed ?? 0),
    log,
    webhooks,
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
    void Promise.all([jobs.tick(), ctx.deployments?.tick(), store.writeClock(clock.state())])
      .catch((err: unknown) => log.error({ err }, 'background tick failed'))
      .finally(() => {
        ticking = false;
      });
  }, 250);
  ticker.unref();
  log.info({ port, dialect, stateDir: opts.stateDir, settings, webhookUrl: opts.webhookUrl ?? null }, 'openai-local listening');

  let closing: Promise<void> | null = null;
  const origin = `http://${urlHost}:${port}`;
  return {
    dialect,
    url: dialect === 'azure' ? `${origin}${AZURE_DATA_PLANE_PREFIX}` : `${origin}/v1`,
    origin,
    port,
    azureAccount,
    close: () => {
      closing ??= (async () => {
        clearInterval(ticker);
        await app.close();
        await jobs.drain();
        await webhooks?.drain();
        await store.writeClock(clock.state());
        await store.flush();
        log.info({ port }, 'openai-local closed');
      })();
      return closing;
    },
  };
}

/** OpenAI's webhooks, when asked for: only the openai dialect sends them, and only signed. */
function webhookSender(opts: LocalBackendOptions, dialect: Dialect, stats: Stats, log: Logger): WebhookSender | null {
  if (opts.webhookUrl === undefined && opts.webhookSecret === undefined) return null;
  if (dialect !== 'openai') throw new Error(`webhooks are OpenAI's: the ${dialect} dialect sends none (drop --webhook-url)`);
  if (!opts.webhookUrl || !opts.webhookSecret) throw new Error('webhookUrl and webhookSecret go together: a webhook is always signed');
  let url: URL;
  try {
    url = new URL(opts.webhookUrl);
  } catch {
    throw new Error(`webhookUrl is not a URL: ${opts.webhookUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`webhookUrl must be http or https, not ${url.protocol}`);
  return new WebhookSender({ url: url.href, secret: opts.webhookSecret }, stats, log, opts.webhookRetryDelaysMs);
}
