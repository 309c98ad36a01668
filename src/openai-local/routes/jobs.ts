// /v1/fine_tuning/jobs: create, list (metadata filter, paging), retrieve, cancel, pause, resume, events, checkpoints.
import type { FastifyInstance } from 'fastify';
import { toSec } from '../clock';
import type { BackendContext } from '../context';
import { ApiError, badRequest } from '../errors';
import type { CreateJobInput } from '../jobs';
import { page, type Query, queryLimit, queryString } from '../query';
import { eventIdOf } from '../timeline';
import type { AutoOr, JobRecord, RequestedHyperparameters } from '../types';

type JobParams = { Params: { fine_tuning_job_id: string } };

/**
 * Mirrors the provider's permission error ("You have insufficient permissions for this operation. Missing
 * scopes: ... Check that you have the correct role ..."), prefixed with what is unavailable.
 */
export const REFUSAL_MESSAGE =
  'Fine-tuning is not available for your organization. You have insufficient permissions for this operation. ' +
  'Missing scopes: api.fine_tuning.jobs.write. Check that you have the correct role in your organization ' +
  "(Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has " +
  'the necessary scopes. To keep working, run the pipeline against a provider or project where fine-tuning is enabled.';

/** What differs between dialects that share OpenAI's fine-tuning job API. */
export interface JobRouteOptions {
  /** Path of the API root, e.g. '/v1' or Azure's '/openai/v1'. */
  prefix: string;
  /** Whether the list honours `metadata[k]=v` (OpenAI's does; Azure's v1 spec has no such parameter). */
  metadataFilter: boolean;
  /** The answer to a create while `refuseFineTuning` is on. */
  refusal: () => ApiError;
  /** Whose ids and model names new jobs get. */
  dialect?: 'azure';
}

const OPENAI_JOB_ROUTES: JobRouteOptions = {
  prefix: '/v1',
  metadataFilter: true,
  refusal: () => new ApiError(403, REFUSAL_MESSAGE, 'invalid_request_error', null, 'permission_denied'),
};

export function registerJobRoutes(app: FastifyInstance, ctx: BackendContext, opts: JobRouteOptions = OPENAI_JOB_ROUTES): void {
  const p = opts.prefix;
  app.post(`${p}/fine_tuning/jobs`, { config: { operationId: 'createFineTuningJob' } }, async (request) => {
    if (ctx.settings.refuseFineTuning) throw opts.refusal();
    const job = await ctx.jobs.create({ ...parseCreateJob(request.body), ...(opts.dialect ? { dialect: opts.dialect } : {}) });
    ctx.stats.created.jobs += 1;
    return ctx.jobs.toApi(job);
  });

  app.get(`${p}/fine_tuning/jobs`, { config: { operationId: 'listPaginatedFineTuningJobs' } }, async (request) => {
    const q = request.query as Query;
    const limit = queryLimit(q, 20, 10_000);
    const filter = opts.metadataFilter ? metadataFilter(q) : undefined;
    const jobs = ctx.jobs.list().filter((j) => matchesMetadata(j, filter));
    const { data, hasMore } = page(jobs, (j) => j.id, queryString(q, 'after'), limit);
    for (const j of data) await ctx.jobs.refresh(j);
    return { object: 'list', data: data.map((j) => ctx.jobs.toApi(j)), has_more: hasMore };
  });

  app.get<JobParams>(`${p}/fine_tuning/jobs/:fine_tuning_job_id`, { config: { operationId: 'retrieveFineTuningJob' } }, async (request) =>
    ctx.jobs.toApi(await ctx.jobs.get(request.params.fine_tuning_job_id)),
  );

  app.post<JobParams>(`${p}/fine_tuning/jobs/:fine_tuning_job_id/cancel`, { config: { operationId: 'cancelFineTuningJob' } }, async (request) =>
    ctx.jobs.toApi(await ctx.jobs.cancel(request.params.fine_tuning_job_id)),
  );

  app.post<JobParams>(`${p}/fine_tuning/jobs/:fine_tuning_job_id/pause`, { config: { operationId: 'pauseFineTuningJob' } }, async (request) =>
    ctx.jobs.toApi(await ctx.jobs.pause(request.params.fine_tuning_job_id)),
  );

  app.post<JobParams>(`${p}/fine_tuning/jobs/:fine_tuning_job_id/resume`, { config: { operationId: 'resumeFineTuningJob' } }, async (request) =>
    ctx.jobs.toApi(await ctx.jobs.resume(request.params.fine_tuning_job_id)),
  );

  app.get<JobParams>(`${p}/fine_tuning/jobs/:fine_tuning_job_id/events`, { config: { operationId: 'listFineTuningEvents' } }, async (request) => {
    const q = request.query as Query;
    const job = await ctx.jobs.get(request.params.fine_tuning_job_id);
    const limit = queryLimit(q, 20, 10_000);
    // Newest first, like the provider; `after` continues towards older events.
    const events = ctx.jobs.events(job).reverse();
    const { data, hasMore } = page(events, (e) => eventIdOf(job, e), queryString(q, 'after'), limit);
    return {
      object: 'list',
      data: data.map((e) => ({
        object: 'fine_tuning.job.event',
        id: eventIdOf(job, e),
        created_at: toSec(e.atMs),
        level: e.level,
        message: e.message,
        type: e.type,
        data: e.data ?? {},
      })),
      has_more: hasMore,
    };
  });

  app.get<JobParams>(`${p}/fine_tuning/jobs/:fine_tuning_job_id/checkpoints`, { config: { operationId: 'listFineTuningJobCheckpoints' } }, async (request) => {
    const q = request.query as Query;
    const job = await ctx.jobs.get(request.params.fine_tuning_job_id);
    const limit = queryLimit(q, 10, 10_000);
    const { data, hasMore } = page(ctx.jobs.checkpoints(job), (c) => c.id, queryString(q, 'after'), limit);
    return {
      object: 'list',
      data: data.map((c) => ({
        object: 'fine_tuning.job.checkpoint',
        id: c.id,
        created_at: toSec(c.atMs),
        fine_tuned_model_checkpoint: c.model,
        fine_tuning_job_id: job.id,
        metrics: c.metrics,
        step_number: c.step,
      })),
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: hasMore,
    };
  });
}

/** `metadata[k]=v` pairs from the query; `metadata=null` selects jobs without metadata. */
function metadataFilter(q: Query): Record<string, string> | null | undefined {
  if (queryString(q, 'metadata') === 'null') return null;
  const out: Record<string, string> = {};
  let any = false;
  for (const key of Object.keys(q)) {
    const m = /^metadata\[(.+)\]$/.exec(key);
    const value = queryString(q, key);
    if (m?.[1] !== undefined && value !== undefined) {
      out[m[1]] = value;
      any = true;
    }
  }
  return any ? out : undefined;
}

function matchesMetadata(job: JobRecord, filter: Record<string, string> | null | undefined): boolean {
  if (filter === undefined) return true;
  if (filter === null) return !job.metadata || Object.keys(job.metadata).length === 0;
  return Object.entries(filter).every(([k, v]) => job.metadata?.[k] === v);
}

function parseCreateJob(body: unknown): CreateJobInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof b.training_file !== 'string' || b.training_file === '') {
    throw badRequest("Missing required parameter: 'training_file'.", 'training_file', 'missing_required_parameter');
  }
  const validationFile = b.validation_file ?? null;
  if (validationFile !== null && typeof validationFile !== 'string') throw badRequest("Invalid 'validation_file': expected a file id.", 'validation_file', 'invalid_type');
  const suffix = b.suffix ?? null;
  if (suffix !== null && (typeof suffix !== 'string' || suffix.length < 1 || suffix.length > 64)) {
    throw badRequest("Invalid 'suffix': must be a string of 1 to 64 characters.", 'suffix', 'invalid_value');
  }
  if (typeof suffix === 'string' && !/^[A-Za-z0-9_-]+$/.test(suffix)) {
    throw badRequest("Invalid 'suffix': only letters, digits, '-' and '_' are allowed.", 'suffix', 'invalid_value');
  }
  const seed = b.seed ?? null;
  if (seed !== null && (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2147483647)) {
    throw badRequest("Invalid 'seed': expected an integer between 0 and 2147483647.", 'seed', 'invalid_value');
  }
  const metadata = parseMetadata(b.metadata);
  const method = b.method as { type?: unknown; supervised?: { hyperparameters?: unknown } } | undefined | null;
  if (method && method.type !== undefined && method.type !== 'supervised') {
    throw badRequest(`Invalid 'method.type': the local backend supports only 'supervised' fine-tuning.`, 'method.type', 'unsupported_value');
  }
  // method.supervised.hyperparameters supersedes the deprecated top-level hyperparameters.
  const hp = (method?.supervised?.hyperparameters ?? b.hyperparameters ?? {}) as Record<string, unknown>;
  const requested: RequestedHyperparameters = {
    n_epochs: hyper(hp.n_epochs, 'n_epochs', true, 1, 50),
    batch_size: hyper(hp.batch_size, 'batch_size', true, 1, 256),
    learning_rate_multiplier: hyper(hp.learning_rate_multiplier, 'learning_rate_multiplier', false, 0, Infinity),
  };
  return {
    model: b.model,
    trainingFile: b.training_file,
    validationFile,
    suffix: suffix as string | null,
    seed: seed as number | null,
    metadata,
    requested,
  };
}

function hyper(value: unknown, name: string, integer: boolean, min: number, max: number): AutoOr<number> {
  if (value === undefined || value === null || value === 'auto') return 'auto';
  const ok = typeof value === 'number' && (integer ? Number.isInteger(value) && value >= min : value > min) && value <= max;
  if (!ok) {
    const range = integer ? `an integer between ${min} and ${max}` : `a number greater than ${min}`;
    throw badRequest(`Invalid 'hyperparameters.${name}': expected 'auto' or ${range}.`, `hyperparameters.${name}`, 'invalid_value');
  }
  return value;
}

function parseMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest("Invalid 'metadata': expected an object.", 'metadata', 'invalid_type');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 16) throw badRequest("Invalid 'metadata': at most 16 keys.", 'metadata', 'invalid_value');
  for (const [k, v] of entries) {
    if (k.length > 64 || typeof v !== 'string' || v.length > 512) {
      throw badRequest("Invalid 'metadata': keys up to 64 characters, values strings up to 512 characters.", 'metadata', 'invalid_value');
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
