// The Together AI adapter: files, fine-tunes, metrics, checkpoints and dedicated endpoints through the together-ai SDK.
import { openAsBlob } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import { APIConnectionError, APIError, Together } from 'together-ai';
import type { FileResponse } from 'together-ai/resources/files';
import type { FinetuneEvent, FinetuneResponse, FineTuningCreateParams } from 'together-ai/resources/fine-tuning';
import type { DedicatedEndpoint } from 'together-ai/resources/endpoints/endpoints';
import type { TogetherConfig } from '../config';
import type { CheckpointSummary } from '../domain/checkpoints';
import type { TrainingMetricsRow } from '../domain/run';
import { createProviderClient } from './client';
import { httpFailure } from './errors';
import type { CreateJobSpec, FineTuneProvider, JobProgressSince, JobTags, ModelServing, ProviderJob, ServingState, UploadSpec } from './types';

/** The fields of a job every Together answer (full or truncated) carries. */
type JobView = Pick<FinetuneResponse, 'id' | 'status'> &
  Partial<Pick<FinetuneResponse, 'model' | 'model_output_name' | 'training_file' | 'token_count' | 'n_epochs' | 'n_checkpoints' | 'n_evals' | 'batch_size' | 'learning_rate' | 'training_type' | 'created_at' | 'progress'>> & {
    suffix?: string;
    events?: FinetuneEvent[];
  };

// ---------------------------------------------------------------------------------------------
// Statuses

/** Together's statuses in tuneflow's vocabulary; anything still billed or still changing is not terminal. */
export function togetherStatusToTuneflow(status: string): string {
  switch (status) {
    case 'pending':
    case 'queued':
      return 'queued';
    case 'running':
    case 'compressing':
    case 'uploading':
      return 'running';
    case 'cancel_requested':
      // Still training (and billed) until Together reports `cancelled`.
      return 'running';
    case 'completed':
      return 'succeeded';
    case 'error':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'running';
  }
}

// ---------------------------------------------------------------------------------------------
// Run tags: Together jobs have no metadata, so the suffix carries them.

/** `tf` + run id + fingerprint, each 128 bits as 25 base-36 digits (lowercase: model names are case-folded by some tools). */
const TAG_PATTERN = /(?:^|-)tf([0-9a-z]{25})([0-9a-z]{25})?$/;
const TAG_DIGITS = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX128 = /^[0-9a-f]{32}$/i;
/** Longest suffix Together takes. */
export const TOGETHER_SUFFIX_MAX = 64;
/** Characters tuneflow's tag takes in the suffix (and the dash before it when a suffix is given). */
export const RUN_TAG_LENGTH = 2 + 2 * TAG_DIGITS;

function toBase36(hex: string): string {
  return BigInt(`0x${hex}`).toString(36).padStart(TAG_DIGITS, '0');
}

function fromBase36(digits: string): string {
  let n = 0n;
  for (const ch of digits) n = n * 36n + BigInt(parseInt(ch, 36));
  return n.toString(16).padStart(32, '0');
}

const uuidHex = (uuid: string): string => uuid.replace(/-/g, '').toLowerCase();
const hexUuid = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** The tag a job's suffix ends with. Null when the run id is not a UUID (Temporal's always are) or the fingerprint not 32 hex digits. */
export function encodeRunTag(tags: Pick<JobTags, 'runId' | 'fingerprint'>): string | null {
  if (!UUID.test(tags.runId)) return null;
  if (tags.fingerprint !== null && !HEX128.test(tags.fingerprint)) return null;
  return `tf${toBase36(uuidHex(tags.runId))}${tags.fingerprint ? toBase36(tags.fingerprint.toLowerCase()) : ''}`;
}

/** Run id and fingerprint read back from a suffix (or a model output name's suffix part); null for an untagged job. */
export function decodeRunTag(suffix: string | null | undefined): Pick<JobTags, 'runId' | 'fingerprint'> | null {
  const m = suffix ? TAG_PATTERN.exec(suffix) : null;
  if (!m?.[1]) return null;
  return { runId: hexUuid(fromBase36(m[1])), fingerprint: m[2] ? fromBase36(m[2]) : null };
}

/** The suffix a tagged job is created with: the user's suffix, a dash, the tag. */
export function taggedSuffix(userSuffix: string | undefined, tag: string): string {
  return userSuffix ? `${userSuffix}-${tag}` : tag;
}

/** The suffix of a job: as Together echoes it, else cut from `<namespace>/<base>-<suffix>-<hash>`. */
function suffixOf(job: JobView): string | null {
  if (job.suffix) return job.suffix;
  const m = /-(tf[0-9a-z]{25}(?:[0-9a-z]{25})?)-[0-9a-z]+$/.exec(job.model_output_name ?? '');
  return m?.[1] ?? null;
}

/** The workflow id in an upload name `tuneflow-<workflow id>-<role>-<16 hex>.jsonl` (see the upload activity). */
export function workflowIdOfUpload(filename: string): string | null {
  return /^tuneflow-(.+)-[a-z]+-[0-9a-f]{16}\.jsonl$/.exec(filename)?.[1] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Options

const OPTIONS = new Set([
  'n_epochs',
  'batch_size',
  'learning_rate',
  'n_checkpoints',
  'n_evals',
  'warmup_ratio',
  'weight_decay',
  'max_grad_norm',
  'lora',
  'lora_r',
  'lora_alpha',
  'lora_dropout',
  'lora_trainable_modules',
]);

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isNum = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min;

/** What Together cannot do with tuneflow's options, one sentence each naming the option. */
export function togetherOptionProblems(spec: { model: string; suffix?: string | undefined; hyperparameters?: Record<string, unknown> | undefined }): string[] {
  const out: string[] = [];
  if (!spec.model.includes('/')) {
    out.push(`model: "${spec.model}" is not a Together model id; Together fine-tunes open models named <organization>/<model>, e.g. meta-llama/Meta-Llama-3.1-8B-Instruct-Reference.`);
  }
  const room = TOGETHER_SUFFIX_MAX - RUN_TAG_LENGTH - 1;
  if (spec.suffix !== undefined && spec.suffix.length > room) {
    out.push(`suffix: Together takes ${TOGETHER_SUFFIX_MAX} characters and tuneflow's run tag needs ${RUN_TAG_LENGTH + 1} of them, so keep the suffix to ${room} characters.`);
  }
  if (spec.suffix !== undefined && !/^[A-Za-z0-9_.-]*$/.test(spec.suffix)) out.push(`suffix: Together allows only letters, digits, '.', '-' and '_'.`);
  const hp = spec.hyperparameters ?? {};
  for (const [key, value] of Object.entries(hp)) {
    if (value === undefined) continue;
    if (key === 'learning_rate_multiplier') {
      out.push('hyperparameters.learning_rate_multiplier: Together takes an absolute learning_rate (its default is 1e-5), not a multiplier.');
    } else if (!OPTIONS.has(key)) {
      out.push(`hyperparameters.${key}: not an option of Together fine-tuning (it takes ${[...OPTIONS].join(', ')}).`);
    } else if (value === 'auto') {
      const hint = key === 'batch_size' ? ' Use "max" or a number.' : key === 'n_epochs' ? ' Give a number (Together defaults to 1).' : ' Give a value or leave it out.';
      out.push(`hyperparameters.${key}: Together has no "auto".${hint}`);
    } else if (key === 'batch_size' && !(value === 'max' || isInt(value, 1))) {
      out.push('hyperparameters.batch_size: Together takes a positive integer or "max".');
    } else if ((key === 'n_epochs' || key === 'n_checkpoints' || key === 'lora_r' || key === 'lora_alpha') && !isInt(value, 1)) {
      out.push(`hyperparameters.${key}: Together takes a positive integer.`);
    } else if (key === 'n_evals' && !isInt(value, 0)) {
      out.push('hyperparameters.n_evals: Together takes an integer of 0 or more.');
    } else if ((key === 'learning_rate' && !(isNum(value, 0) && value > 0)) || ((key === 'warmup_ratio' || key === 'weight_decay' || key === 'max_grad_norm' || key === 'lora_dropout') && !isNum(value, 0))) {
      out.push(`hyperparameters.${key}: Together takes a number${key === 'learning_rate' ? ' above 0' : ' of 0 or more'}.`);
    } else if (key === 'lora' && typeof value !== 'boolean') {
      out.push('hyperparameters.lora: true (LoRA, the default) or false (full fine-tuning).');
    } else if (key === 'lora_trainable_modules' && (typeof value !== 'string' || value === '')) {
      out.push('hyperparameters.lora_trainable_modules: Together takes a string such as "all-linear".');
    }
  }
  if (hp.lora === false) {
    for (const key of ['lora_r', 'lora_alpha', 'lora_dropout', 'lora_trainable_modules']) {
      if (hp[key] !== undefined) out.push(`hyperparameters.${key}: only applies to LoRA, but hyperparameters.lora is false (full fine-tuning).`);
    }
  }
  return out;
}

/** The create request for tuneflow's options (checked by togetherOptionProblems first). */
export function togetherCreateParams(spec: CreateJobSpec, suffix: string): FineTuningCreateParams {
  const hp = spec.hyperparameters ?? {};
  const nEpochs = isInt(hp.n_epochs, 1) ? hp.n_epochs : 1;
  // One checkpoint per epoch (as OpenAI keeps), each evaluated on the validation file so it has a loss.
  const nCheckpoints = isInt(hp.n_checkpoints, 1) ? hp.n_checkpoints : nEpochs;
  const nEvals = isInt(hp.n_evals, 0) ? hp.n_evals : nCheckpoints;
  const lora = hp.lora !== false;
  const params: FineTuningCreateParams = {
    model: spec.model,
    training_file: spec.trainingFileId,
    validation_file: spec.validationFileId,
    suffix,
    random_seed: spec.seed,
    n_epochs: nEpochs,
    n_checkpoints: nCheckpoints,
    n_evals: nEvals,
    training_type: lora
      ? {
          type: 'Lora',
          lora_r: isInt(hp.lora_r, 1) ? hp.lora_r : 8,
          lora_alpha: isInt(hp.lora_alpha, 1) ? hp.lora_alpha : 16,
          ...(isNum(hp.lora_dropout, 0) ? { lora_dropout: hp.lora_dropout } : {}),
          ...(typeof hp.lora_trainable_modules === 'string' ? { lora_trainable_modules: hp.lora_trainable_modules } : {}),
        }
      : { type: 'Full' },
  };
  if (hp.batch_size === 'max' || isInt(hp.batch_size, 1)) params.batch_size = hp.batch_size;
  if (isNum(hp.learning_rate, 0)) params.learning_rate = hp.learning_rate;
  if (isNum(hp.warmup_ratio, 0)) params.warmup_ratio = hp.warmup_ratio;
  if (isNum(hp.weight_decay, 0)) params.weight_decay = hp.weight_decay;
  if (isNum(hp.max_grad_norm, 0)) params.max_grad_norm = hp.max_grad_norm;
  return params;
}

// ---------------------------------------------------------------------------------------------
// Errors

const TOGETHER_ADVICE: Record<number, string> = {
  401: 'Check TOGETHER_API_KEY (and TOGETHER_BASE_URL).',
  403: 'Together refused this key: check that fine-tuning and dedicated endpoints are enabled for the account (billing), or use another key.',
  404: 'Check that the model, file, job or endpoint exists at Together and that this key can see it.',
  400: 'Together rejected the request as invalid; fix the input named above and start a new run.',
  422: 'Together rejected the request as invalid; fix the input named above and start a new run.',
};

/** The one classification of this adapter: Together SDK errors to the failures Temporal retries or not. */
export function classifyTogetherError(err: unknown, operation: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof APIConnectionError) return httpFailure({ operation, status: undefined, message: err.message, cause: err });
  if (err instanceof APIError) {
    type ErrorFields = { message?: unknown; code?: unknown; type?: unknown };
    const body = (err.error ?? {}) as ErrorFields & { error?: ErrorFields };
    const inner: ErrorFields = body.error ?? body;
    const message = typeof inner.message === 'string' ? inner.message : err.message;
    const code = typeof (body.error?.code ?? null) === 'string' ? (body.error?.code as string) : undefined;
    return httpFailure({
      operation,
      status: err.status,
      message,
      code,
      headers: err.headers,
      advice: err.status !== undefined ? TOGETHER_ADVICE[err.status] : undefined,
      details: { status: err.status, code: code ?? null, type: typeof inner.type === 'string' ? inner.type : null },
      cause: err,
    });
  }
  return err;
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyTogetherError(err, operation);
  }
}

const statusOf = (err: unknown): number | undefined => (err instanceof APIError ? err.status : undefined);

// ---------------------------------------------------------------------------------------------
// The adapter

const ENDPOINT_STATES: Record<string, ServingState['state']> = {
  PENDING: 'provisioning',
  STARTING: 'provisioning',
  STARTED: 'ready',
  STOPPING: 'failed',
  STOPPED: 'failed',
  ERROR: 'failed',
};
/** A leaked endpoint stops itself after this many idle minutes; deleting it is still the run's job. */
const ENDPOINT_INACTIVE_TIMEOUT_MINUTES = 60;

export interface TogetherProviderOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createTogetherProvider(config: TogetherConfig, opts: TogetherProviderOptions = {}): FineTuneProvider {
  if (!config.apiKey) throw new Error('TOGETHER_API_KEY is not set. Set it to your Together API key (any non-empty value for the local backend).');
  const apiKey = config.apiKey;
  const timeout = opts.timeoutMs ?? 60_000;
  // maxRetries 0: Temporal's retry policies own retries, so a failure is retried by exactly one layer.
  const client = new Together({ apiKey, baseURL: config.baseURL, maxRetries: 0, timeout, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  let chatClient: OpenAI | undefined;

  async function filenames(): Promise<Map<string, string>> {
    const files = await call('Listing uploaded files', () => client.files.list());
    return new Map(files.data.map((f) => [f.id, f.filename]));
  }

  function toProviderJob(job: JobView, names: Map<string, string> | null): ProviderJob {
    const run = decodeRunTag(suffixOf(job));
    const workflowId = run && job.training_file ? workflowIdOfUpload(names?.get(job.training_file) ?? '') : null;
    const completed = job.status === 'completed';
    const lastError = [...(job.events ?? [])].reverse().find((e) => e.type === 'job_error');
    const remaining = job.progress?.estimate_available ? job.progress.seconds_remaining : null;
    return {
      id: job.id,
      status: togetherStatusToTuneflow(job.status),
      providerStatus: job.status,
      fineTunedModel: completed ? (job.model_output_name ?? null) : null,
      trainedTokens: completed ? (job.token_count ?? null) : null,
      estimatedFinish: remaining !== null ? Math.round(Date.now() / 1000) + remaining : null,
      hyperparameters: {
        n_epochs: job.n_epochs ?? null,
        batch_size: job.batch_size ?? null,
        learning_rate: job.learning_rate ?? null,
        n_checkpoints: job.n_checkpoints ?? null,
        n_evals: job.n_evals ?? null,
        training_type: job.training_type ?? null,
      },
      error: job.status === 'error' ? { code: 'job_error', message: lastError?.message ?? 'Together reports the job failed (no job_error event).', param: null } : null,
      tags: run && workflowId ? { workflowId, runId: run.runId, fingerprint: run.fingerprint } : null,
    };
  }

  /** The names of the files a job trained on, looked up only for a tagged job (its workflow id is in the name). */
  async function namesFor(job: JobView): Promise<Map<string, string> | null> {
    if (!decodeRunTag(suffixOf(job)) || !job.training_file) return null;
    const id = job.training_file;
    try {
      const f = await client.files.retrieve(id);
      return new Map([[id, f.filename]]);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw classifyTogetherError(err, 'Looking up the training file');
    }
  }

  async function allTaggedJobs(): Promise<ProviderJob[]> {
    const [jobs, names] = await Promise.all([call('Listing fine-tuning jobs', () => client.fineTuning.list()), filenames()]);
    return jobs.data
      .map((j) => ({ job: toProviderJob(j, names), created: j.created_at }))
      .filter((x) => x.job.tags !== null)
      .sort((a, b) => b.created.localeCompare(a.created))
      .map((x) => x.job);
  }

  async function getJobView(id: string): Promise<FinetuneResponse> {
    return call('Fetching the fine-tuning job', () => client.fineTuning.retrieve(id));
  }

  /** Validation loss per global step, from the `eval/loss` records of the metrics endpoint. */
  function evalLosses(metrics: Array<Record<string, number>>): Map<number, number> {
    const out = new Map<number, number>();
    for (const m of metrics) {
      const step = m['train/global_step'];
      const loss = m['eval/loss'];
      if (typeof step === 'number' && typeof loss === 'number' && Number.isFinite(loss)) out.set(step, loss);
    }
    return out;
  }

  const serving: ModelServing = {
    kind: 'endpoint',
    // Base models answer serverless by their own name.
    servedNameOfBase: (model) => model,

    async ensure(req) {
      const existing = await findEndpoint(req.name);
      if (existing) return endpointState(req.name, existing);
      if (await answersServerless(req.model)) return serverlessState(req.name, req.model);
      if (!config.endpointHardware) {
        throw ApplicationFailure.create({
          message: `Making ${req.model} answerable failed: it cannot be served serverless, and TUNEFLOW_TOGETHER_ENDPOINT_HARDWARE is not set — set it to a hardware id of GET /hardware (e.g. 1x_nvidia_h100_80gb_sxm) for the dedicated endpoint.`,
          type: 'TogetherEndpointHardwareMissing',
          nonRetryable: true,
        });
      }
      const hardware = config.endpointHardware;
      const created = await call('Creating a dedicated endpoint', () =>
        client.endpoints.create({
          model: req.model,
          hardware,
          display_name: req.name,
          autoscaling: { min_replicas: 1, max_replicas: 1 },
          inactive_timeout: ENDPOINT_INACTIVE_TIMEOUT_MINUTES,
        }),
      );
      return endpointState(req.name, created);
    },

    async state(req) {
      const existing = await findEndpoint(req.name);
      if (existing) return endpointState(req.name, existing);
      if (await answersServerless(req.model)) return serverlessState(req.name, req.model);
      return { name: req.name, model: req.model, state: 'missing', servedAs: req.model, created: false, detail: 'no endpoint by that name', hourlyCostUsd: null };
    },

    async remove(name) {
      const existing = await findEndpoint(name);
      if (!existing) return 'missing';
      try {
        await client.endpoints.delete(existing.id);
      } catch (err) {
        if (statusOf(err) === 404) return 'missing';
        throw classifyTogetherError(err, 'Deleting the dedicated endpoint');
      }
      return 'deleted';
    },

    async list(prefix) {
      const mine = await dedicatedEndpoints();
      return mine.filter((e) => e.display_name.startsWith(prefix)).map((e) => e.display_name);
    },
  };

  /** Every dedicated endpoint of this account in full (the list omits display names, so each is fetched). */
  async function dedicatedEndpoints(): Promise<DedicatedEndpoint[]> {
    const listed = await call('Listing dedicated endpoints', () => client.endpoints.list({ type: 'dedicated', mine: true }));
    const out: DedicatedEndpoint[] = [];
    for (const e of listed.data) {
      if (e.type !== 'dedicated') continue;
      try {
        out.push(await client.endpoints.retrieve(e.id));
      } catch (err) {
        if (statusOf(err) !== 404) throw classifyTogetherError(err, 'Fetching a dedicated endpoint');
      }
    }
    return out;
  }

  async function findEndpoint(name: string): Promise<DedicatedEndpoint | undefined> {
    return (await dedicatedEndpoints()).find((e) => e.display_name === name);
  }

  function endpointState(name: string, e: DedicatedEndpoint): ServingState {
    const state = ENDPOINT_STATES[e.state] ?? 'provisioning';
    return {
      name,
      model: e.model,
      state,
      // Together answers a dedicated endpoint by its system name.
      servedAs: e.name,
      created: true,
      detail: state === 'ready' ? null : `endpoint ${e.id} is ${e.state}`,
      hourlyCostUsd: null,
    };
  }

  function serverlessState(name: string, model: string): ServingState {
    return { name, model, state: 'ready', servedAs: model, created: false, detail: 'serverless LoRA inference', hourlyCostUsd: 0 };
  }

  /**
   * Whether Together answers the model serverless, asked by a one-token completion: Together publishes
   * which bases take serverless LoRA only in its docs, so the service itself is the only reliable source.
   */
  async function answersServerless(model: string): Promise<boolean> {
    try {
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 });
      return true;
    } catch (err) {
      const s = statusOf(err);
      if (s === 400 || s === 404) return false;
      throw classifyTogetherError(err, 'Asking whether the model answers serverless');
    }
  }

  return {
    kind: 'together',
    checkpointsHaveLoss: true,
    serving,

    optionProblems: togetherOptionProblems,

    async findFile(filename) {
      const files = await call('Listing uploaded files', () => client.files.list());
      const found = files.data.filter((f) => f.filename === filename).sort((a, b) => b.created_at - a.created_at)[0];
      return found ? { id: found.id } : null;
    },

    async uploadFile(spec: UploadSpec) {
      // The SDK's files.upload uses another flow (a redirect to a signed URL, its base URL read from the
      // environment, the global fetch); the spec's POST /files/upload goes through the SDK's own post.
      const form = new FormData();
      form.append('purpose', 'fine-tune');
      form.append('file_name', spec.filename);
      form.append('file_type', 'jsonl');
      // A file-backed Blob: the body streams from disk, whatever the file's size.
      form.append('file', await openAsBlob(spec.path, { type: 'application/jsonl' }), spec.filename);
      spec.onProgress?.({ bytesSent: 0, bytes: spec.bytes });
      const uploaded = await call('Uploading the training file', () =>
        client.post<FileResponse>('/files/upload', { body: form, ...(spec.signal ? { signal: spec.signal } : {}), timeout: Math.max(timeout, 30 * 60_000) }),
      );
      spec.onProgress?.({ bytesSent: spec.bytes, bytes: spec.bytes });
      return { id: uploaded.id };
    },

    async deleteFile(id) {
      try {
        await client.files.delete(id);
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw classifyTogetherError(err, 'Deleting an uploaded file');
      }
    },

    async jobsOfWorkflow(workflowId) {
      return (await allTaggedJobs()).filter((j) => j.tags?.workflowId === workflowId);
    },

    async taggedJobs(onPage) {
      const jobs = await allTaggedJobs();
      onPage?.(jobs.length);
      return jobs;
    },

    async createJob(spec) {
      const tag = encodeRunTag(spec.tags);
      if (!tag) {
        throw ApplicationFailure.create({
          message: `Creating the fine-tuning job failed: run id ${spec.tags.runId} is not a UUID or the fingerprint is not 32 hex digits, so the job could not be tagged for Together.`,
          type: 'TogetherRunTagInvalid',
          nonRetryable: true,
        });
      }
      const created = await call('Creating the fine-tuning job', () => client.fineTuning.create(togetherCreateParams(spec, taggedSuffix(spec.suffix, tag))));
      return toProviderJob(created, await namesFor(created));
    },

    async getJob(id) {
      const job = await getJobView(id);
      return toProviderJob(job, await namesFor(job));
    },

    async progressSince(id, cursor): Promise<JobProgressSince> {
      const from = cursor === null ? 0 : Number(cursor) + 1;
      const [metrics, events] = await Promise.all([
        call('Reading training metrics', () => client.fineTuning.listMetrics(id, from > 0 ? { global_step_from: from } : {})),
        call('Listing job events', () => client.fineTuning.listEvents(id)),
      ]);
      const records = metrics.metrics ?? [];
      const byStep = new Map<number, Required<TrainingMetricsRow>>();
      for (const m of records) {
        const step = m['train/global_step'];
        if (typeof step !== 'number' || step < from) continue;
        const row = byStep.get(step) ?? { step, trainLoss: null, trainAccuracy: null, validLoss: null, validAccuracy: null, fullValidLoss: null };
        if (typeof m['train/loss'] === 'number') row.trainLoss = m['train/loss'];
        // An evaluation covers the whole validation file, so it is a full validation loss too.
        if (typeof m['eval/loss'] === 'number') row.validLoss = row.fullValidLoss = m['eval/loss'];
        byStep.set(step, row);
      }
      const rows = [...byStep.values()].sort((a, b) => a.step - b.step);
      const totals = events.data.map((e) => e.total_steps).filter((n): n is number => typeof n === 'number' && n > 0);
      return {
        newEvents: records.length,
        cursor: rows.length > 0 ? String(rows[rows.length - 1]?.step) : cursor,
        metrics: rows,
        totalSteps: totals.length > 0 ? Math.max(...totals) : null,
      };
    },

    async listCheckpoints(id): Promise<CheckpointSummary[]> {
      const [job, checkpoints, metrics] = await Promise.all([
        getJobView(id),
        call('Listing checkpoints', () => client.fineTuning.listCheckpoints(id)),
        call('Reading training metrics', () => client.fineTuning.listMetrics(id)),
      ]);
      const output = job.model_output_name ?? id;
      const losses = evalLosses(metrics.metrics ?? []);
      return checkpoints.data
        .map((c) => ({
          // Intermediate checkpoints answer as `<output name>:<step>` (the form from_checkpoint takes); the final one as the output name.
          model: c.checkpoint_type.toLowerCase().includes('intermediate') ? `${output}:${c.step}` : output,
          step: c.step,
          fullValidLoss: losses.get(c.step) ?? null,
          fullValidMeanTokenAccuracy: null,
        }))
        .sort((a, b) => a.step - b.step);
    },

    async cancelJob(id) {
      try {
        const job = await client.fineTuning.cancel(id);
        return toProviderJob(job, await namesFor(job));
      } catch (err) {
        // Together refuses to cancel a job that has already ended: that job is what the caller wants to know.
        if (statusOf(err) === 400) {
          const job = await getJobView(id);
          if (['completed', 'error', 'cancelled'].includes(job.status)) return toProviderJob(job, await namesFor(job));
        }
        throw classifyTogetherError(err, 'Cancelling the fine-tuning job');
      }
    },

    chat() {
      // Together's chat completions are OpenAI-compatible: evaluation talks to them through the openai client.
      chatClient ??= createProviderClient({ apiKey, baseURL: config.baseURL, timeoutMs: timeout, fetch: opts.fetch });
      return chatClient;
    },
  };
}
