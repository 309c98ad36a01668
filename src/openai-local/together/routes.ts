// The Together dialect: /v1/files/upload, /v1/files, /v1/fine-tunes (events, checkpoints, metrics, cancel), /v1/endpoints, /v1/chat/completions.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { toSec } from '../clock';
import type { BackendContext } from '../context';
import { ORG_ID } from '../models';
import { keepUpload, receiveUpload, type ReceivedUpload } from '../multipart';
import { hash32 } from '../random';
import type { FileRecord, JobRecord } from '../types';
import { findTogetherBaseModel, modelOutputName, TOGETHER_HARDWARE, TOGETHER_NAMESPACE, togetherBaseModels } from './catalog';
import { notServedError, TogetherChat, togetherError } from './chat';
import { EndpointRegistry, endpointState } from './endpoints';
import type { EndpointRecord, TogetherFilePurpose, TogetherFileType, TogetherJobExtras, TogetherTrainingType } from './records';
import {
  CANCEL_REQUEST_MS,
  eventHash,
  evalSteps,
  extrasOf,
  isFinalStatus,
  isoOf,
  planOf,
  togetherCheckpoints,
  togetherEvents,
  togetherMetrics,
  togetherState,
} from './timeline';

const PURPOSES: TogetherFilePurpose[] = ['fine-tune', 'eval', 'eval-sample', 'eval-output', 'eval-summary', 'batch-generated', 'batch-api'];
const FILE_TYPES: TogetherFileType[] = ['jsonl', 'csv', 'parquet'];
/** Defaults Together documents for a job that names no LoRA settings. */
const DEFAULT_LORA = { lora_r: 8, lora_alpha: 16, lora_dropout: 0, lora_trainable_modules: 'all-linear' };

type IdParams = { Params: { id: string } };

export const REFUSAL_MESSAGE =
  'Fine-tuning is not enabled for this account. Add a payment method or contact support@together.ai to enable fine-tuning, then try again.';

export async function registerTogetherRoutes(app: FastifyInstance, ctx: BackendContext): Promise<void> {
  const endpoints = await EndpointRegistry.open(ctx.store);
  const chat = new TogetherChat(ctx.store, ctx.clock, endpoints);
  ctx.stats.endpoints.live = endpoints.all().length;

  const togetherFile = (id: string): FileRecord => {
    const f = ctx.store.files.get(id);
    if (!f?.togetherFileType) throw togetherError(404, `File ${id} not found`, 'file_not_found', 'id');
    return f;
  };
  const togetherJob = async (id: string): Promise<JobRecord> => {
    const job = ctx.store.jobs.get(id);
    if (!job?.together) throw togetherError(404, `Fine-tune job ${id} not found`, 'not_found', 'id');
    await ctx.jobs.refresh(job);
    return job;
  };
  const endpointOf = (id: string): EndpointRecord => {
    const e = endpoints.get(id);
    if (!e) throw togetherError(404, `Endpoint ${id} not found`, 'not_found', 'endpointId');
    return e;
  };

  app.post('/v1/files/upload', { config: { operationId: 'uploadFile' } }, async (request) => {
    if (!request.isMultipart()) throw togetherError(400, 'Expected a multipart/form-data request with `purpose`, `file_name` and `file`.', null, 'file');
    const received: ReceivedUpload = { tmp: null, file: null, fields: {} };
    try {
      await receiveUpload(request, ctx, received);
      const { fields } = received;
      const bytes = received.file?.bytes ?? null;
      const purpose = fields.purpose;
      const fileName = fields.file_name;
      if (bytes === null) throw togetherError(400, "Missing required field 'file'.", null, 'file');
      if (!purpose) throw togetherError(400, "Missing required field 'purpose'.", null, 'purpose');
      if (!PURPOSES.includes(purpose as TogetherFilePurpose)) throw togetherError(400, `Invalid purpose '${purpose}'; expected one of ${PURPOSES.join(', ')}.`, null, 'purpose');
      if (!fileName) throw togetherError(400, "Missing required field 'file_name'.", null, 'file_name');
      const fileType = fields.file_type ?? (fileName.split('.').pop() ?? '').toLowerCase();
      if (!FILE_TYPES.includes(fileType as TogetherFileType)) throw togetherError(400, `Invalid file_type '${fileType}'; expected jsonl, csv or parquet.`, null, 'file_type');
      const rec: FileRecord = {
        id: `file-${randomUUID()}`,
        seq: ctx.store.nextSeq(),
        bytes,
        createdAtMs: ctx.clock.nowMs(),
        filename: fileName,
        purpose: purpose === 'fine-tune' ? 'fine-tune' : 'user_data',
        togetherFileType: fileType as TogetherFileType,
        togetherPurpose: purpose as TogetherFilePurpose,
      };
      await keepUpload(ctx, received, rec);
      ctx.log.info({ fileId: rec.id, bytes: rec.bytes, purpose }, 'file uploaded');
      return fileView(rec);
    } finally {
      if (received.tmp) await rm(received.tmp, { force: true });
    }
  });

  app.get('/v1/files', { config: { operationId: 'listFiles' } }, async () => ({
    data: [...ctx.store.files.values()].filter((f) => f.togetherFileType).sort((a, b) => b.seq - a.seq).map(fileView),
  }));

  app.get<IdParams>('/v1/files/:id', { config: { operationId: 'retrieveFile' } }, async (request) => fileView(togetherFile(request.params.id)));

  app.delete<IdParams>('/v1/files/:id', { config: { operationId: 'deleteFile' } }, async (request) => {
    const f = togetherFile(request.params.id);
    await ctx.store.deleteFile(f.id);
    ctx.log.info({ fileId: f.id }, 'file deleted');
    return { id: f.id, deleted: true };
  });

  app.post('/v1/fine-tunes', { config: { operationId: 'createFineTune' } }, async (request) => {
    if (ctx.settings.refuseFineTuning) throw togetherError(403, REFUSAL_MESSAGE, 'permission_denied');
    const input = parseCreate(request.body);
    const base = findTogetherBaseModel(input.model);
    if (!base) throw togetherError(400, `Model ${input.model} is not supported for fine-tuning. See GET /fine-tunes/models/supported.`, 'model_not_supported', 'model');
    for (const [param, id] of [['training_file', input.trainingFile], ['validation_file', input.validationFile]] as const) {
      if (id === null) continue;
      const f = ctx.store.files.get(id);
      if (!f?.togetherFileType) throw togetherError(400, `File ${id} given as ${param} does not exist.`, 'file_not_found', param);
      if (f.togetherPurpose !== 'fine-tune') throw togetherError(400, `File ${id} has purpose '${f.togetherPurpose ?? f.purpose}', not 'fine-tune'.`, null, param);
    }
    if (input.nEvals > 0 && input.validationFile === null) throw togetherError(400, 'n_evals > 0 needs a validation_file.', null, 'n_evals');
    const batchSize = input.batchSize === 'max' ? base.maxBatchSize : input.batchSize;
    if (batchSize > base.maxBatchSize) throw togetherError(400, `batch_size ${batchSize} is above the maximum ${base.maxBatchSize} for ${base.id}.`, null, 'batch_size');
    const id = `ft-${randomUUID()}`;
    const extras: TogetherJobExtras = {
      outputName: modelOutputName(base.id, input.suffix, id),
      nEpochs: input.nEpochs,
      nCheckpoints: input.nCheckpoints,
      nEvals: input.nEvals,
      batchSize,
      learningRate: input.learningRate,
      warmupRatio: input.warmupRatio,
      maxGradNorm: input.maxGradNorm,
      weightDecay: input.weightDecay,
      randomSeed: input.randomSeed,
      trainingType: input.trainingType,
      cancelRequestedAtMs: null,
    };
    const job: JobRecord = {
      id,
      seq: ctx.store.nextSeq(),
      createdAtMs: ctx.clock.nowSec() * 1000,
      organizationId: ORG_ID,
      model: base.id,
      trainingFile: input.trainingFile,
      validationFile: input.validationFile,
      suffix: input.suffix,
      seed: input.randomSeed ?? hash32(`seed:${id}`) % 2_147_483_647,
      metadata: null,
      requested: { n_epochs: input.nEpochs, batch_size: batchSize, learning_rate_multiplier: 1 },
      validation: null,
      pauses: [],
      cancelledAtMs: null,
      failAtStep: ctx.settings.failJobs ? -1 : null,
      final: null,
      together: extras,
    };
    await ctx.store.putJob(job);
    ctx.jobs.startValidation(job);
    ctx.stats.created.jobs += 1;
    ctx.log.info({ jobId: id, model: base.id }, 'together fine-tune created');
    return truncatedView(job);
  });

  app.get('/v1/fine-tunes', { config: { operationId: 'listFineTunes' } }, async () => {
    const jobs = ctx.jobs.list().filter((j) => j.together);
    for (const j of jobs) await ctx.jobs.refresh(j);
    return { data: jobs.map(truncatedView) };
  });

  app.get<IdParams>('/v1/fine-tunes/:id', { config: { operationId: 'retrieveFineTune' } }, async (request) => fullView(await togetherJob(request.params.id)));

  app.post<IdParams>('/v1/fine-tunes/:id/cancel', { config: { operationId: 'cancelFineTune' } }, async (request) => {
    const job = await togetherJob(request.params.id);
    const status = togetherState(job, ctx.clock.nowMs()).status;
    if (status === 'completed' || status === 'error') throw togetherError(400, `Fine-tune job ${job.id} is ${status} and cannot be cancelled.`, null, 'id');
    if (status !== 'cancelled' && status !== 'cancel_requested') {
      const now = ctx.clock.nowMs();
      extrasOf(job).cancelRequestedAtMs = now;
      job.cancelledAtMs = now + CANCEL_REQUEST_MS;
      await ctx.store.putJob(job);
      ctx.log.info({ jobId: job.id }, 'together fine-tune cancel requested');
    }
    return truncatedView(job);
  });

  app.get<IdParams>('/v1/fine-tunes/:id/events', { config: { operationId: 'listFineTuneEvents' } }, async (request) => {
    const job = await togetherJob(request.params.id);
    return { data: eventsView(job) };
  });

  app.get<IdParams>('/v1/fine-tunes/:id/checkpoints', { config: { operationId: 'listFineTuneCheckpoints' } }, async (request) => {
    const job = await togetherJob(request.params.id);
    return {
      data: togetherCheckpoints(job, ctx.clock.nowMs()).map((c) => ({
        step: c.step,
        path: `s3://together-local/finetune/${job.id}/${c.type === 'Final' ? 'final' : `checkpoint-${c.step}`}`,
        created_at: isoOf(c.atMs),
        checkpoint_type: c.type,
      })),
    };
  });

  app.get<IdParams>('/v1/fine-tunes/:id/metrics', { config: { operationId: 'listFineTuneMetrics' } }, async (request) => {
    const job = await togetherJob(request.params.id);
    // The spec puts the filter in a JSON body of the GET; the SDK sends it as query parameters: both are read.
    const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
    const q = request.query as Record<string, unknown>;
    const from = stepFilter(body.global_step_from ?? q.global_step_from, 'global_step_from') ?? 0;
    const to = stepFilter(body.global_step_to ?? q.global_step_to, 'global_step_to') ?? Infinity;
    return { metrics: togetherMetrics(job, ctx.clock.nowMs(), from, to) };
  });

  app.post('/v1/endpoints', { config: { operationId: 'createEndpoint' } }, async (request) => {
    const b = objectBody(request.body);
    if (typeof b.model !== 'string' || b.model === '') throw togetherError(400, "Missing required field 'model'.", null, 'model');
    if (typeof b.hardware !== 'string' || !(TOGETHER_HARDWARE as readonly string[]).includes(b.hardware)) {
      throw togetherError(400, `Invalid hardware '${String(b.hardware)}'; available: ${TOGETHER_HARDWARE.join(', ')}.`, null, 'hardware');
    }
    const scaling = (b.autoscaling ?? null) as { min_replicas?: unknown; max_replicas?: unknown } | null;
    const min = scaling?.min_replicas;
    const max = scaling?.max_replicas;
    if (typeof min !== 'number' || typeof max !== 'number' || !Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
      throw togetherError(400, "Invalid 'autoscaling': min_replicas and max_replicas must be integers with 1 <= min_replicas <= max_replicas.", null, 'autoscaling');
    }
    if (b.state === 'STOPPED') throw togetherError(400, 'The local backend only creates endpoints in state STARTED.', null, 'state');
    const model = b.model;
    if (!findTogetherBaseModel(model) && !chat.findTuned(model)) throw notServedError(model, ' The model does not exist or is not ready.');
    const inactive = b.inactive_timeout;
    if (inactive !== undefined && inactive !== null && (typeof inactive !== 'number' || !Number.isInteger(inactive) || inactive < 0)) {
      throw togetherError(400, "Invalid 'inactive_timeout': expected minutes as an integer >= 0.", null, 'inactive_timeout');
    }
    const rec = await endpoints.create({
      displayName: typeof b.display_name === 'string' && b.display_name !== '' ? b.display_name : model,
      model,
      hardware: b.hardware,
      minReplicas: min,
      maxReplicas: max,
      inactiveTimeout: typeof inactive === 'number' && inactive > 0 ? inactive : null,
      createdAtMs: ctx.clock.nowMs(),
    });
    ctx.stats.endpoints.created += 1;
    ctx.stats.endpoints.live += 1;
    ctx.log.info({ endpointId: rec.id, model }, 'endpoint created');
    return endpointView(rec);
  });

  app.get('/v1/endpoints', { config: { operationId: 'listEndpoints' } }, async (request) => {
    const q = request.query as Record<string, unknown>;
    const type = q.type;
    if (type !== undefined && type !== 'dedicated' && type !== 'serverless') throw togetherError(400, "Invalid 'type': expected dedicated or serverless.", null, 'type');
    const now = ctx.clock.nowMs();
    const dedicated = type === 'serverless' ? [] : endpoints.all().map((e) => ({ object: 'endpoint', id: e.id, name: e.name, model: e.model, type: 'dedicated', owner: TOGETHER_NAMESPACE, state: endpointState(e, now), created_at: isoOf(e.createdAtMs) }));
    const serverless =
      type === 'dedicated' || q.mine === 'true'
        ? []
        : togetherBaseModels().map((m) => ({ object: 'endpoint', id: `endpoint-serverless-${hash32(m.id).toString(16)}`, name: m.id, model: m.id, type: 'serverless', owner: 'together', state: 'STARTED', created_at: isoOf(m.created * 1000) }));
    return { object: 'list', data: [...dedicated, ...serverless] };
  });

  app.get<{ Params: { endpointId: string } }>('/v1/endpoints/:endpointId', { config: { operationId: 'getEndpoint' } }, async (request) =>
    endpointView(endpointOf(request.params.endpointId)),
  );

  app.delete<{ Params: { endpointId: string } }>('/v1/endpoints/:endpointId', { config: { operationId: 'deleteEndpoint' } }, async (request, reply) => {
    const e = endpointOf(request.params.endpointId);
    await endpoints.delete(e.id);
    ctx.stats.endpoints.deleted += 1;
    ctx.stats.endpoints.live = Math.max(0, ctx.stats.endpoints.live - 1);
    ctx.log.info({ endpointId: e.id }, 'endpoint deleted');
    return reply.status(204).send();
  });

  app.post('/v1/chat/completions', { config: { operationId: 'chat-completions' } }, async (request) => {
    await ctx.jobs.tick();
    return chat.complete(request.body);
  });

  function endpointView(e: EndpointRecord): Record<string, unknown> {
    return {
      object: 'endpoint',
      id: e.id,
      name: e.name,
      display_name: e.displayName,
      model: e.model,
      hardware: e.hardware,
      type: 'dedicated',
      owner: TOGETHER_NAMESPACE,
      state: endpointState(e, ctx.clock.nowMs()),
      autoscaling: { min_replicas: e.minReplicas, max_replicas: e.maxReplicas },
      inactive_timeout: e.inactiveTimeout,
      created_at: isoOf(e.createdAtMs),
    };
  }

  function eventsView(job: JobRecord): Record<string, unknown>[] {
    const plan = planOf(job);
    const base = findTogetherBaseModel(job.model);
    return togetherEvents(job, ctx.clock.nowMs()).map((e) => ({
      object: 'fine-tune-event',
      created_at: isoOf(e.atMs),
      level: e.level,
      message: e.message,
      type: e.type,
      param_count: base?.paramCount ?? 0,
      token_count: plan ? Math.round((plan.tokensPerEpoch * e.step) / plan.stepsPerEpoch) : 0,
      total_steps: plan?.totalSteps ?? 0,
      wandb_url: '',
      step: e.step,
      checkpoint_path: e.checkpointPath,
      model_path: e.modelPath,
      training_offset: 0,
      hash: eventHash(job, e),
    }));
  }

  /** The FinetuneResponseTruncated of POST /fine-tunes, GET /fine-tunes and cancel. */
  function truncatedView(job: JobRecord): Record<string, unknown> {
    const x = extrasOf(job);
    const now = ctx.clock.nowMs();
    const state = togetherState(job, now);
    const plan = planOf(job);
    const events = togetherEvents(job, now);
    const out: Record<string, unknown> = {
      id: job.id,
      status: state.status,
      created_at: isoOf(job.createdAtMs),
      updated_at: isoOf(events.at(-1)?.atMs ?? job.createdAtMs),
      user_id: `user_${ORG_ID.slice(4)}`,
      owner_address: `${TOGETHER_NAMESPACE}@example.com`,
      total_price: 0,
      token_count: plan ? plan.tokensPerEpoch * x.nEpochs : 0,
      events: [],
      training_file: job.trainingFile,
      packing: true,
      model: job.model,
      model_output_name: x.outputName,
      n_epochs: x.nEpochs,
      n_evals: x.nEvals,
      n_checkpoints: x.nCheckpoints,
      batch_size: x.batchSize,
      training_type: x.trainingType,
      learning_rate: x.learningRate,
      lr_scheduler: { lr_scheduler_type: 'linear', lr_scheduler_args: { min_lr_ratio: 0 } },
      warmup_ratio: x.warmupRatio,
      max_grad_norm: x.maxGradNorm,
      weight_decay: x.weightDecay,
      random_seed: x.randomSeed,
    };
    if (job.validationFile !== null) out.validation_file = job.validationFile;
    if (job.suffix !== null) out.suffix = job.suffix;
    if (plan && now >= plan.runStartMs) out.started_at = isoOf(plan.runStartMs);
    const s = deriveProgress(job, now);
    if (s) out.progress = s;
    return out;
  }

  /** The FinetuneResponse of GET /fine-tunes/{id}: the truncated view plus events and training details. */
  function fullView(job: JobRecord): Record<string, unknown> {
    const plan = planOf(job);
    const state = togetherState(job, ctx.clock.nowMs());
    const train = ctx.store.files.get(job.trainingFile);
    const out: Record<string, unknown> = {
      ...truncatedView(job),
      job_id: job.id,
      events: eventsView(job),
      param_count: findTogetherBaseModel(job.model)?.paramCount ?? 0,
      epochs_completed: plan ? Math.floor(state.stepsDone / plan.stepsPerEpoch) : 0,
      queue_depth: state.status === 'queued' ? 1 : 0,
      eval_steps: plan && evalSteps(job, plan).length > 0 ? Math.max(1, Math.round(plan.totalSteps / extrasOf(job).nEvals)) : 0,
    };
    if (plan) out.trainingfile_numlines = plan.nTrain;
    if (train) out.trainingfile_size = train.bytes;
    if (state.status === 'completed') out.model_output_path = `s3://together-local/finetune/${job.id}/final`;
    return out;
  }

  function deriveProgress(job: JobRecord, now: number): { estimate_available: boolean; seconds_remaining: number } | null {
    const state = togetherState(job, now);
    if (isFinalStatus(state.status)) return null;
    const plan = planOf(job);
    if (!plan || now < plan.runStartMs) return { estimate_available: false, seconds_remaining: 0 };
    const left = (plan.totalSteps - state.stepsDone) * plan.stepMs;
    // Real seconds, as the caller's clock counts them: a client paces its polls by it (src/domain/polling.ts).
    return { estimate_available: true, seconds_remaining: Math.max(0, Math.round(left / ctx.clock.timeScale / 1000)) };
  }

}

function fileView(f: FileRecord): Record<string, unknown> {
  return {
    id: f.id,
    object: 'file',
    created_at: toSec(f.createdAtMs),
    filename: f.filename,
    bytes: f.bytes,
    purpose: f.togetherPurpose ?? 'fine-tune',
    FileType: f.togetherFileType ?? 'jsonl',
    Processed: true,
  };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw togetherError(400, 'Request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function stepFilter(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw togetherError(400, `Invalid '${name}': expected an integer >= 0.`, null, name);
  return n;
}

/** A create request as asked: the job's Together fields before `max` becomes a batch size and the output is named. */
interface CreateInput extends Omit<TogetherJobExtras, 'outputName' | 'batchSize' | 'cancelRequestedAtMs'> {
  model: string;
  trainingFile: string;
  validationFile: string | null;
  suffix: string | null;
  batchSize: number | 'max';
}

function intField(b: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = b[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw togetherError(400, `Invalid '${name}': expected an integer between ${min} and ${max}.`, null, name);
  return v;
}

function numField(b: Record<string, unknown>, name: string, fallback: number, min: number, max: number, minExclusive = false): number {
  const v = b[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || (minExclusive ? v <= min : v < min) || v > max) {
    throw togetherError(400, `Invalid '${name}': expected a number ${minExclusive ? 'above' : 'from'} ${min} to ${max}.`, null, name);
  }
  return v;
}

function parseCreate(body: unknown): CreateInput {
  const b = objectBody(body);
  if (typeof b.model !== 'string' || b.model === '') throw togetherError(400, "Missing required field 'model'.", null, 'model');
  if (typeof b.training_file !== 'string' || b.training_file === '') throw togetherError(400, "Missing required field 'training_file'.", null, 'training_file');
  const validationFile = b.validation_file ?? null;
  if (validationFile !== null && typeof validationFile !== 'string') throw togetherError(400, "Invalid 'validation_file': expected a file id.", null, 'validation_file');
  for (const unsupported of ['from_checkpoint', 'from_hf_model'] as const) {
    if (b[unsupported] !== undefined && b[unsupported] !== null) throw togetherError(400, `'${unsupported}' is not supported by the local backend.`, null, unsupported);
  }
  const method = (b.training_method ?? null) as { method?: unknown } | null;
  if (method && method.method !== 'sft') throw togetherError(400, "Only training_method 'sft' is supported by the local backend.", null, 'training_method');
  const suffix = b.suffix ?? null;
  if (suffix !== null && (typeof suffix !== 'string' || suffix.length === 0 || suffix.length > 64 || !/^[A-Za-z0-9._-]+$/.test(suffix))) {
    throw togetherError(400, "Invalid 'suffix': at most 64 characters of letters, digits, '.', '-' and '_'.", null, 'suffix');
  }
  const rawBatch = b.batch_size ?? 'max';
  if (rawBatch !== 'max' && (typeof rawBatch !== 'number' || !Number.isInteger(rawBatch) || rawBatch < 1)) {
    throw togetherError(400, "Invalid 'batch_size': expected a positive integer or \"max\".", null, 'batch_size');
  }
  const seed = b.random_seed ?? null;
  if (seed !== null && (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2_147_483_647)) {
    throw togetherError(400, "Invalid 'random_seed': expected an integer between 0 and 2147483647.", null, 'random_seed');
  }
  return {
    model: b.model,
    trainingFile: b.training_file,
    validationFile,
    suffix: suffix as string | null,
    nEpochs: intField(b, 'n_epochs', 1, 1, 20),
    nCheckpoints: intField(b, 'n_checkpoints', 1, 1, 20),
    nEvals: intField(b, 'n_evals', 0, 0, 100),
    batchSize: rawBatch as number | 'max',
    learningRate: numField(b, 'learning_rate', 1e-5, 0, 1, true),
    warmupRatio: numField(b, 'warmup_ratio', 0, 0, 1),
    maxGradNorm: numField(b, 'max_grad_norm', 1, 0, 1e6),
    weightDecay: numField(b, 'weight_decay', 0, 0, 1e6),
    randomSeed: seed as number | null,
    trainingType: parseTrainingType(b.training_type),
  };
}

function parseTrainingType(value: unknown): TogetherTrainingType {
  if (value === undefined || value === null) return { type: 'Lora', ...DEFAULT_LORA };
  if (typeof value !== 'object' || Array.isArray(value)) throw togetherError(400, "Invalid 'training_type': expected an object.", null, 'training_type');
  const t = value as Record<string, unknown>;
  if (t.type === 'Full') return { type: 'Full' };
  if (t.type !== 'Lora') throw togetherError(400, "Invalid 'training_type.type': expected 'Lora' or 'Full'.", null, 'training_type.type');
  const r = intField(t, 'lora_r', Number.NaN, 1, 1024);
  const alpha = intField(t, 'lora_alpha', Number.NaN, 1, 4096);
  if (Number.isNaN(r) || Number.isNaN(alpha)) throw togetherError(400, "'training_type' of type Lora needs lora_r and lora_alpha.", null, 'training_type');
  const dropout = numField(t, 'lora_dropout', 0, 0, 1);
  const modules = t.lora_trainable_modules ?? 'all-linear';
  if (typeof modules !== 'string' || modules === '') throw togetherError(400, "Invalid 'lora_trainable_modules': expected a string such as 'all-linear'.", null, 'training_type.lora_trainable_modules');
  return { type: 'Lora', lora_r: r, lora_alpha: alpha, lora_dropout: dropout, lora_trainable_modules: modules };
}
