import type OpenAI from 'openai';
import type { CheckpointSummary } from '../domain/checkpoints';
import { JOB_METADATA_KEYS } from '../domain/job-tags';
import { finiteOrNull as num, type TrainingMetricsRow } from '../domain/run';
import { createProviderClient, type ProviderSettings } from './client';
import { callProvider as callOpenAI } from './errors';
import type { CreateJobSpec, FineTuneProvider, JobProgressSince, JobTags, ProviderJob } from './types';
import { uploadFileFromDisk } from './upload';

type Job = OpenAI.FineTuning.Jobs.FineTuningJob;
type JobEvent = OpenAI.FineTuning.Jobs.FineTuningJobEvent;
type MetricsRow = Required<TrainingMetricsRow>;

/** The run tags tuneflow put in a job's metadata, or null for a job it did not make. */
export function tagsFromMetadata(metadata: Record<string, string> | null | undefined): JobTags | null {
  const workflowId = metadata?.[JOB_METADATA_KEYS.workflowId];
  const runId = metadata?.[JOB_METADATA_KEYS.runId];
  if (!workflowId || !runId) return null;
  return { workflowId, runId, fingerprint: metadata[JOB_METADATA_KEYS.fingerprint] ?? null };
}

export function metadataFromTags(tags: JobTags): Record<string, string> {
  return {
    [JOB_METADATA_KEYS.workflowId]: tags.workflowId,
    [JOB_METADATA_KEYS.runId]: tags.runId,
    ...(tags.fingerprint ? { [JOB_METADATA_KEYS.fingerprint]: tags.fingerprint } : {}),
  };
}

/** A job in OpenAI's shape (also Azure's v1 data plane) as tuneflow sees it. */
export function openAIJob(job: Job): ProviderJob {
  return {
    id: job.id,
    status: job.status,
    providerStatus: job.status,
    fineTunedModel: job.fine_tuned_model ?? null,
    trainedTokens: job.trained_tokens ?? null,
    estimatedFinish: job.estimated_finish ?? null,
    hyperparameters: (job.method?.supervised?.hyperparameters ?? job.hyperparameters ?? null) as Record<string, unknown> | null,
    error: job.error && job.error.message ? { code: job.error.code ?? null, message: job.error.message, param: job.error.param ?? null } : null,
    tags: tagsFromMetadata(job.metadata),
  };
}

function metricsRow(event: JobEvent): MetricsRow | null {
  if (event.type !== 'metrics' || !event.data || typeof event.data !== 'object') return null;
  const d = event.data as Record<string, unknown>;
  const step = num(d.step);
  if (step === null) return null;
  return {
    step,
    trainLoss: num(d.train_loss),
    trainAccuracy: num(d.train_mean_token_accuracy),
    validLoss: num(d.valid_loss),
    validAccuracy: num(d.valid_mean_token_accuracy),
    fullValidLoss: num(d.full_valid_loss),
  };
}

/** The job's planned step count, as the latest metrics event gives it. */
function totalStepsOf(events: JobEvent[]): number | null {
  let total: number | null = null;
  for (const ev of events) {
    if (ev.type === 'metrics' && ev.data && typeof ev.data === 'object') total = num((ev.data as Record<string, unknown>).total_steps) ?? total;
  }
  return total;
}

/**
 * The calls OpenAI's fine-tuning API and Azure's v1 data plane share; the Azure adapter builds on it
 * with its own client and adds deployments.
 */
export function openAICompatibleProvider(
  client: OpenAI,
  opts: {
    /** Runs one call and classifies its failure (each adapter names its own variables in the advice). */
    call?: <T>(operation: string, fn: () => Promise<T>) => Promise<T>;
    /** The name a checkpoint is served by (OpenAI: its model name; Azure deploys it by its `ftchkpt-…` id). */
    checkpointModel?: (c: OpenAI.FineTuning.Jobs.Checkpoints.FineTuningJobCheckpoint) => string;
  } = {},
): Omit<FineTuneProvider, 'kind' | 'serving' | 'optionProblems'> {
  const callProvider = opts.call ?? callOpenAI;
  const checkpointModel = opts.checkpointModel ?? ((c) => c.fine_tuned_model_checkpoint);
  const listTagged = (query: OpenAI.FineTuning.Jobs.JobListParams, onPage?: (listed: number) => void) =>
    callProvider('Looking for existing jobs', async () => {
      const out: ProviderJob[] = [];
      let listed = 0;
      for await (const job of client.fineTuning.jobs.list(query)) {
        listed += 1;
        const mapped = openAIJob(job);
        if (mapped.tags) out.push(mapped);
        if (listed % 100 === 0) onPage?.(listed);
      }
      onPage?.(listed);
      return out;
    });

  return {
    checkpointsHaveLoss: true,

    findFile: (filename) =>
      callProvider('Listing uploaded files', async () => {
        for await (const f of client.files.list({ purpose: 'fine-tune', order: 'desc', limit: 100 })) {
          if (f.filename === filename && f.status !== 'error') return { id: f.id };
        }
        return null;
      }),

    uploadFile: async (spec) => {
      const file = await callProvider('Uploading the file', () =>
        uploadFileFromDisk(client, {
          path: spec.path,
          filename: spec.filename,
          purpose: 'fine-tune',
          ...(spec.signal ? { signal: spec.signal } : {}),
          ...(spec.onProgress ? { onProgress: spec.onProgress } : {}),
        }),
      );
      return { id: file.id };
    },

    deleteFile: async (id) => {
      await callProvider('Deleting the file', () => client.files.delete(id));
    },

    jobsOfWorkflow: (workflowId) => listTagged({ metadata: { [JOB_METADATA_KEYS.workflowId]: workflowId }, limit: 20 }),

    taggedJobs: (onPage) => listTagged({ limit: 100 }, onPage),

    createJob: async (spec: CreateJobSpec) =>
      openAIJob(
        await callProvider('Creating the fine-tuning job', () =>
          client.fineTuning.jobs.create({
            model: spec.model,
            training_file: spec.trainingFileId,
            validation_file: spec.validationFileId,
            seed: spec.seed,
            ...(spec.suffix ? { suffix: spec.suffix } : {}),
            metadata: metadataFromTags(spec.tags),
            method: { type: 'supervised', supervised: { hyperparameters: spec.hyperparameters ?? {} } },
          }),
        ),
      ),

    getJob: async (id) => openAIJob(await callProvider('Fetching the fine-tuning job', () => client.fineTuning.jobs.retrieve(id))),

    progressSince: async (id, cursor): Promise<JobProgressSince> => {
      const fresh = await callProvider('Listing job events', async () => {
        const events: JobEvent[] = [];
        // Events come newest first; read back until the one seen last time.
        for await (const ev of client.fineTuning.jobs.listEvents(id, { limit: 100 })) {
          if (ev.id === cursor) break;
          events.push(ev);
        }
        return events.reverse();
      });
      return {
        newEvents: fresh.length,
        cursor: fresh.at(-1)?.id ?? cursor,
        metrics: fresh.map(metricsRow).filter((r): r is MetricsRow => r !== null),
        totalSteps: totalStepsOf(fresh),
      };
    },

    listCheckpoints: (id) =>
      callProvider('Listing checkpoints', async () => {
        const out: CheckpointSummary[] = [];
        for await (const c of client.fineTuning.jobs.checkpoints.list(id, { limit: 100 })) {
          out.push({
            model: checkpointModel(c),
            step: c.step_number,
            fullValidLoss: num(c.metrics.full_valid_loss),
            fullValidMeanTokenAccuracy: num(c.metrics.full_valid_mean_token_accuracy),
          });
        }
        return out.sort((a, b) => a.step - b.step);
      }),

    cancelJob: async (id) => openAIJob(await callProvider('Cancelling the fine-tuning job', () => client.fineTuning.jobs.cancel(id))),

    chat: () => client,
  };
}

const NOT_OPENAI_OPTIONS: Record<string, string> = {
  learning_rate: 'takes learning_rate_multiplier (relative to its own rate), not an absolute learning_rate',
  lora: 'trains the whole model; it has no LoRA option',
  lora_r: 'has no LoRA rank option',
  lora_alpha: 'has no LoRA alpha option',
  lora_dropout: 'has no LoRA dropout option',
  lora_trainable_modules: 'has no LoRA modules option',
  n_checkpoints: 'keeps its own checkpoints (one per epoch); it has no n_checkpoints option',
  n_evals: 'evaluates on the validation file by itself; it has no n_evals option',
};

/** OpenAI's batch_size is a number or "auto"; Together's "max" means nothing to it (nor to Azure, which shares the API). */
export function batchSizeProblems(hyperparameters: Record<string, unknown> | undefined, provider: string): string[] {
  return hyperparameters?.batch_size === 'max' ? [`hyperparameters.batch_size: ${provider} takes a number or "auto", not "max"`] : [];
}

/** OpenAI's fine-tuning API takes only n_epochs, batch_size and learning_rate_multiplier. */
export function openAIOptionProblems(spec: { hyperparameters?: Record<string, unknown> | undefined }): string[] {
  return [
    ...Object.keys(spec.hyperparameters ?? {})
      .filter((k) => k in NOT_OPENAI_OPTIONS)
      .map((k) => `hyperparameters.${k}: OpenAI ${NOT_OPENAI_OPTIONS[k]}`),
    ...batchSizeProblems(spec.hyperparameters, 'OpenAI'),
  ];
}

/** OpenAI, or any endpoint that speaks its fine-tuning API (OPENAI_BASE_URL): models answer as soon as the job succeeds. */
export function createOpenAIProvider(settings: ProviderSettings): FineTuneProvider {
  const client = createProviderClient(settings);
  return {
    kind: 'openai',
    serving: null,
    optionProblems: openAIOptionProblems,
    ...openAICompatibleProvider(client),
  };
}
