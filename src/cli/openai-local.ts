// `tuneflow openai-local`: runs the local OpenAI-compatible backend in the foreground.
import { type Command, InvalidArgumentError } from 'commander';
import type { Dialect, LocalBackendOptions } from '../openai-local/index';
import { cliConfig } from './context';

export const DEFAULT_LOCAL_PORT = 8787;
export const DEFAULT_LOCAL_STATE_DIR = '.tuneflow/openai-local';

/** Raw flag values as commander hands them over (see addLocalBackendOptions). */
export interface LocalBackendFlags {
  dialect?: string;
  port?: string;
  stateDir?: string;
  rpm?: string;
  tpm?: string;
  faultRate?: string;
  failJobs?: boolean;
  refuseFineTuning?: boolean;
  outage?: boolean;
  latencyMs?: string;
  latencyOperations?: string;
  uploadBytesPerSecond?: string;
  timeScale?: string;
  seed?: string;
  deploymentSeconds?: string;
  refuseDeployments?: string;
  webhookUrl?: string;
  webhookSecret?: string;
}

const DIALECT_NAMES: readonly Dialect[] = ['openai', 'azure', 'together'];
const REFUSALS = ['forbidden', 'quota'] as const;

/** Adds the backend flags to a command, so `tuneflow dev` can offer exactly the same ones. */
export function addLocalBackendOptions(cmd: Command): Command {
  return cmd
    .option('--dialect <name>', `which provider's API to speak: ${DIALECT_NAMES.join(', ')} (default openai)`)
    .option('--port <p>', `port to listen on (0 = any free port, default ${DEFAULT_LOCAL_PORT})`)
    .option('--state-dir <dir>', `where files and jobs are persisted (default ${DEFAULT_LOCAL_STATE_DIR})`)
    .option('--rpm <n>', 'requests per minute limit, 0 = unlimited (env TUNEFLOW_LOCAL_RPM)')
    .option('--tpm <n>', 'chat completion tokens per minute limit (prompt + max_tokens to get in), 0 = unlimited (env TUNEFLOW_LOCAL_TPM)')
    .option('--fault-rate <p>', 'share 0..1 of /v1 requests that fail transiently (env TUNEFLOW_LOCAL_FAULT_RATE)')
    .option('--fail-jobs', 'running fine-tuning jobs fail midway')
    .option('--refuse-fine-tuning', 'job creation answers 403 permission_denied')
    .option('--outage', 'start unreachable: every /v1 request has its connection dropped (switch off via /_admin/settings)')
    .option('--latency-ms <ms>', 'real milliseconds each /v1 request (or those of --latency-operations) waits before it is handled')
    .option('--latency-operations <ids>', 'comma-separated operationIds --latency-ms applies to, e.g. createFile,retrieveFineTuningJob (default: all)')
    .option('--upload-bytes-per-second <n>', 'read upload bodies no faster than this, to simulate a slow link (0 = unlimited)')
    .option('--time-scale <x>', 'simulated seconds per real second (default 100)')
    .option('--seed <n>', 'seed for fault injection')
    .option('--deployment-seconds <s>', 'azure: simulated seconds an ARM deployment takes to provision (default 240)')
    .option('--refuse-deployments <why>', `azure: refuse ARM deployment creation: ${REFUSALS.join(' (403) or ')} (400 InsufficientQuota)`)
    .option('--webhook-url <url>', 'POST signed fine_tuning.job.succeeded|failed|cancelled webhooks there, as OpenAI does (e.g. to `tuneflow webhooks`)')
    .option('--webhook-secret <whsec_…>', 'the signing secret for --webhook-url (env OPENAI_WEBHOOK_SECRET)');
}

function num(name: string, raw: string | undefined, min: number, max: number, integer = false): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got '${raw}'`);
  }
  return n;
}

/** Flags (with env fallbacks TUNEFLOW_LOCAL_RPM / TUNEFLOW_LOCAL_TPM / TUNEFLOW_LOCAL_FAULT_RATE) to startLocalBackend options. */
export function parseLocalBackendFlags(flags: LocalBackendFlags, env: NodeJS.ProcessEnv = process.env): LocalBackendOptions {
  if (flags.dialect !== undefined && !(DIALECT_NAMES as readonly string[]).includes(flags.dialect)) {
    throw new InvalidArgumentError(`--dialect must be one of ${DIALECT_NAMES.join(', ')}, got '${flags.dialect}'`);
  }
  if (flags.refuseDeployments !== undefined && !(REFUSALS as readonly string[]).includes(flags.refuseDeployments)) {
    throw new InvalidArgumentError(`--refuse-deployments must be one of ${REFUSALS.join(', ')}, got '${flags.refuseDeployments}'`);
  }
  return {
    // Set only when given, so callers that spread these options keep their own defaults.
    ...(flags.dialect !== undefined ? { dialect: flags.dialect as Dialect } : {}),
    ...(flags.deploymentSeconds !== undefined ? { deploymentSeconds: num('--deployment-seconds', flags.deploymentSeconds, 0, 1e7) } : {}),
    ...(flags.refuseDeployments !== undefined ? { refuseDeployments: flags.refuseDeployments as (typeof REFUSALS)[number] } : {}),
    ...webhookOptions(flags, env),
    port: num('--port', flags.port, 0, 65535, true) ?? DEFAULT_LOCAL_PORT,
    stateDir: flags.stateDir ?? DEFAULT_LOCAL_STATE_DIR,
    rpm: num('--rpm', flags.rpm ?? env.TUNEFLOW_LOCAL_RPM, 0, 1e9) ?? 0,
    tpm: num('--tpm', flags.tpm ?? env.TUNEFLOW_LOCAL_TPM, 0, 1e12) ?? 0,
    faultRate: num('--fault-rate', flags.faultRate ?? env.TUNEFLOW_LOCAL_FAULT_RATE, 0, 1) ?? 0,
    failJobs: flags.failJobs ?? false,
    refuseFineTuning: flags.refuseFineTuning ?? false,
    outage: flags.outage ?? false,
    latencyMs: num('--latency-ms', flags.latencyMs, 0, 3_600_000) ?? 0,
    latencyOperations: (flags.latencyOperations ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    uploadBytesPerSecond: num('--upload-bytes-per-second', flags.uploadBytesPerSecond, 0, 1e12),
    timeScale: num('--time-scale', flags.timeScale, 1e-6, 1e9),
    seed: num('--seed', flags.seed, 0, 2 ** 32, true),
  };
}

function webhookOptions(flags: LocalBackendFlags, env: NodeJS.ProcessEnv): Pick<LocalBackendOptions, 'webhookUrl' | 'webhookSecret'> {
  const secret = flags.webhookSecret ?? (flags.webhookUrl !== undefined ? env.OPENAI_WEBHOOK_SECRET : undefined);
  if (flags.webhookUrl === undefined && secret === undefined) return {};
  if (flags.webhookUrl === undefined) throw new InvalidArgumentError('--webhook-secret needs --webhook-url');
  if (!secret) throw new InvalidArgumentError('--webhook-url needs --webhook-secret (or OPENAI_WEBHOOK_SECRET): a webhook is always signed');
  if (!URL.canParse(flags.webhookUrl)) throw new InvalidArgumentError(`--webhook-url must be a URL, got '${flags.webhookUrl}'`);
  return { webhookUrl: flags.webhookUrl, webhookSecret: secret };
}

export function register(program: Command): void {
  addLocalBackendOptions(program.command('openai-local').description('run the local OpenAI-compatible fine-tuning backend')).action(
    async (flags: LocalBackendFlags) => {
      // Logs go to stderr: stdout carries only the base URL line, for scripts to read.
      const config = await cliConfig();
      const [{ createLogger }, { startLocalBackend }] = await Promise.all([import('../log'), import('../openai-local/index')]);
      const logger = createLogger(config.logLevel ?? 'info', 'openai-local');
      const backend = await startLocalBackend({ ...parseLocalBackendFlags(flags), logger });
      process.stdout.write(`${backend.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, 'shutting down');
          backend.close().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    },
  );
}
