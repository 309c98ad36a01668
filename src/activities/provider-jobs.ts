import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type OpenAI from 'openai';
import type { Logger } from 'pino';
import type { CheckpointSummary } from '../domain/checkpoints';
import type { LatestMetrics, UploadedFile } from '../domain/pipeline';
import { finiteOrNull as num, type TrainingMetricsRow } from '../domain/run';
import { JOB_METADATA_KEYS } from '../domain/job-tags';
import type { JobTrouble } from '../domain/provider-trouble';
import { isTerminalJobStatus } from '../domain/stages';
import { callProvider, jobTrouble } from '../provider/errors';
import { uploadFileFromDisk } from '../provider/upload';
import { withLocalFile, type Storage } from '../store';
import { withProgressHeartbeat } from './heartbeat';
import { appendMetricsRows } from './training-metrics';

export interface ProviderJobDeps {
  /** The run store: split files to upload come from it, metrics.jsonl goes to it. */
  storage: Storage;
  logger: Logger;
  provider: () => OpenAI;
}

export interface UploadRequest {
  runId: string;
  role: 'train' | 'valid';
  path: string;
  sha256: string;
  examples: number;
  bytes: number;
}

export interface JobRequest {
  workflowId: string;
  /** First run id of the workflow: stays the same across continue-as-new, differs when an id is reused. */
  runId: string;
  model: string;
  trainingFileId: string;
  validationFileId: string;
  seed: number;
  suffix?: string | undefined;
  hyperparameters?: Record<string, unknown> | undefined;
  /** What the job is made from; with it a re-run of the workflow id can adopt an earlier run's live job. Absent in runs started before 0.2. */
  datasetSha256?: string | undefined;
  validRatio?: number | undefined;
}

export interface JobCreated {
  jobId: string;
  status: string;
  reused: boolean;
  /** First run id of the earlier run whose job this run adopted, or null. */
  adoptedFrom?: string | null;
}

export interface JobError {
  code: string | null;
  message: string;
  param: string | null;
}

export interface JobPoll {
  status: string;
  fineTunedModel: string | null;
  trainedTokens: number | null;
  estimatedFinish: number | null;
  hyperparameters: Record<string, unknown> | null;
  error: JobError | null;
  newEvents: number;
  lastEventId: string | null;
  /** Newest metrics seen in this poll; null fields when this poll brought none. */
  latest: LatestMetrics;
  /** Set when the provider could not be asked (unreachable, or refusing the key); the other fields then say nothing. */
  trouble?: JobTrouble;
}

export { JOB_METADATA_KEYS };

/**
 * What makes two jobs interchangeable: the same data (and split), base model and training settings.
 * Key order is fixed so the same settings always give the same fingerprint.
 */
export function jobFingerprint(req: Pick<JobRequest, 'model' | 'seed' | 'suffix' | 'hyperparameters' | 'datasetSha256' | 'validRatio'>): string | null {
  if (!req.datasetSha256) return null;
  const hp = req.hyperparameters ?? {};
  const canonical = JSON.stringify([req.datasetSha256, req.validRatio ?? null, req.model, req.seed, req.suffix ?? null, Object.keys(hp).sort().map((k) => [k, hp[k]])]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** A job an earlier run of the workflow id made may still serve while it is live or once it succeeded: never failed or cancelled. */
function mayAdopt(status: string): boolean {
  return !isTerminalJobStatus(status) || status === 'succeeded';
}

/** The provider has no idempotency key, so the file name carries run, role and content hash. */
export function uploadFilename(runId: string, role: string, sha256: string): string {
  return `tuneflow-${runId}-${role}-${sha256.slice(0, 16)}.jsonl`;
}

type MetricsRow = Required<TrainingMetricsRow>;

function metricsRow(event: OpenAI.FineTuning.Jobs.FineTuningJobEvent): MetricsRow | null {
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
function totalStepsOf(events: OpenAI.FineTuning.Jobs.FineTuningJobEvent[]): number | null {
  let total: number | null = null;
  for (const ev of events) {
    if (ev.type === 'metrics' && ev.data && typeof ev.data === 'object') total = num((ev.data as Record<string, unknown>).total_steps) ?? total;
  }
  return total;
}

export function createProviderJobActivities({ storage, logger, provider }: ProviderJobDeps) {
  async function pollOnce(req: { runId: string; jobId: string; lastEventId: string | null }): Promise<JobPoll> {
    const client = provider();
    const job = await callProvider('Fetching the fine-tuning job', () => client.fineTuning.jobs.retrieve(req.jobId));
    const fresh = await callProvider('Listing job events', async () => {
      const events: OpenAI.FineTuning.Jobs.FineTuningJobEvent[] = [];
      // Events come newest first; read back until the one seen last time.
      for await (const ev of client.fineTuning.jobs.listEvents(req.jobId, { limit: 100 })) {
        if (ev.id === req.lastEventId) break;
        events.push(ev);
      }
      return events.reverse();
    });
    const rows = fresh.map(metricsRow).filter((r): r is MetricsRow => r !== null);
    await appendMetricsRows(storage.store, req.runId, rows);
    const latest: LatestMetrics = { step: null, trainLoss: null, validLoss: null, fullValidLoss: null, totalSteps: totalStepsOf(fresh) };
    for (const r of rows) {
      latest.step = r.step;
      latest.trainLoss = r.trainLoss ?? latest.trainLoss;
      latest.validLoss = r.validLoss ?? latest.validLoss;
      latest.fullValidLoss = r.fullValidLoss ?? latest.fullValidLoss;
    }
    const err = job.error && job.error.message ? { code: job.error.code ?? null, message: job.error.message, param: job.error.param ?? null } : null;
    return {
      status: job.status,
      fineTunedModel: job.fine_tuned_model ?? null,
      trainedTokens: job.trained_tokens ?? null,
      estimatedFinish: job.estimated_finish ?? null,
      hyperparameters: (job.method?.supervised?.hyperparameters ?? job.hyperparameters ?? null) as Record<string, unknown> | null,
      error: err,
      newEvents: fresh.length,
      lastEventId: fresh.at(-1)?.id ?? req.lastEventId,
      latest,
    };
  }

  return {
    /** Uploads one split file unless an earlier attempt of this run already did. */
    async uploadTrainingFile(req: UploadRequest): Promise<UploadedFile> {
      const client = provider();
      const filename = uploadFilename(req.runId, req.role, req.sha256);
      const existing = await callProvider('Listing uploaded files', async () => {
        for await (const f of client.files.list({ purpose: 'fine-tune', order: 'desc', limit: 100 })) {
          if (f.filename === filename && f.status !== 'error') return f;
        }
        return undefined;
      });
      const file =
        existing ??
        (await withProgressHeartbeat({ bytesSent: 0, bytes: req.bytes }, (reporter) =>
          // A split file in a bucket is downloaded to a temporary file first (see withLocalFile).
          withLocalFile(storage, req.path, (file) =>
            callProvider(`Uploading ${req.role} file`, () =>
              uploadFileFromDisk(client, {
                path: file,
                filename,
                purpose: 'fine-tune',
                signal: Context.current().cancellationSignal,
                onProgress: (p) => reporter.update(p),
              }),
            ),
          ),
        ));
      logger.info({ runId: req.runId, role: req.role, fileId: file.id, reused: existing !== undefined }, 'training file ready');
      return { fileId: file.id, filename, sha256: req.sha256, examples: req.examples, bytes: req.bytes };
    },

    /**
     * Creates the job, or finds the one an earlier attempt of this run created, or adopts the live or
     * succeeded job of an earlier run of the same workflow id made from the same data and settings:
     * jobs are tagged with the workflow, the run and a fingerprint.
     */
    async createFineTuningJob(req: JobRequest): Promise<JobCreated> {
      const client = provider();
      const fingerprint = jobFingerprint(req);
      const jobs = await jobsOfWorkflow(client, req.workflowId);
      const own = jobs.find((j) => j.metadata?.[JOB_METADATA_KEYS.runId] === req.runId);
      if (own) {
        logger.info({ workflowId: req.workflowId, jobId: own.id }, 'fine-tuning job already exists for this run');
        return { jobId: own.id, status: own.status, reused: true, adoptedFrom: null };
      }
      const adoptable = fingerprint
        ? jobs.find((j) => j.metadata?.[JOB_METADATA_KEYS.fingerprint] === fingerprint && mayAdopt(j.status))
        : undefined;
      if (adoptable) {
        const from = adoptable.metadata?.[JOB_METADATA_KEYS.runId] ?? null;
        logger.info({ workflowId: req.workflowId, jobId: adoptable.id, status: adoptable.status, adoptedFrom: from }, "adopted an earlier run's fine-tuning job");
        return { jobId: adoptable.id, status: adoptable.status, reused: true, adoptedFrom: from };
      }
      const job = await callProvider('Creating the fine-tuning job', () =>
        client.fineTuning.jobs.create({
          model: req.model,
          training_file: req.trainingFileId,
          validation_file: req.validationFileId,
          seed: req.seed,
          ...(req.suffix ? { suffix: req.suffix } : {}),
          metadata: {
            [JOB_METADATA_KEYS.workflowId]: req.workflowId,
            [JOB_METADATA_KEYS.runId]: req.runId,
            ...(fingerprint ? { [JOB_METADATA_KEYS.fingerprint]: fingerprint } : {}),
          },
          method: { type: 'supervised', supervised: { hyperparameters: req.hyperparameters ?? {} } },
        }),
      );
      logger.info({ workflowId: req.workflowId, jobId: job.id }, 'fine-tuning job created');
      return { jobId: job.id, status: job.status, reused: false, adoptedFrom: null };
    },

    /**
     * One look at the job: its status and the events since the last one the workflow has seen. A
     * provider that cannot be reached, or that refuses the key, is an answer here, not a failure: the
     * workflow keeps following the job (and shows why it waits) instead of abandoning a paid job.
     */
    async pollFineTuningJob(req: { runId: string; jobId: string; lastEventId: string | null }): Promise<JobPoll> {
      try {
        // A slow provider (two calls of up to a minute each) must not look like a dead worker.
        return await withProgressHeartbeat({ events: 0 }, () => pollOnce(req));
      } catch (err) {
        const trouble = jobTrouble(err);
        if (!trouble) throw err;
        logger.warn({ runId: req.runId, jobId: req.jobId, trouble }, 'could not follow the fine-tuning job this time');
        return {
          status: 'unknown',
          fineTunedModel: null,
          trainedTokens: null,
          estimatedFinish: null,
          hyperparameters: null,
          error: null,
          newEvents: 0,
          lastEventId: req.lastEventId,
          latest: { step: null, trainLoss: null, validLoss: null, fullValidLoss: null },
          trouble,
        };
      }
    },
    async listJobCheckpoints(req: { jobId: string }): Promise<CheckpointSummary[]> {
      const client = provider();
      return callProvider('Listing checkpoints', async () => {
        const out: CheckpointSummary[] = [];
        for await (const c of client.fineTuning.jobs.checkpoints.list(req.jobId, { limit: 100 })) {
          out.push({
            model: c.fine_tuned_model_checkpoint,
            step: c.step_number,
            fullValidLoss: num(c.metrics.full_valid_loss),
            fullValidMeanTokenAccuracy: num(c.metrics.full_valid_mean_token_accuracy),
          });
        }
        return out.sort((a, b) => a.step - b.step);
      });
    },

    /**
     * Cancels the run's provider job. Called from the workflow (never from an activity's own
     * cancellation, which a worker shutdown raises too). Finds the job by tag when the workflow
     * was cancelled before it learnt the id.
     */
    async cancelFineTuningJob(req: { workflowId: string; runId: string; jobId: string | null }): Promise<{ jobId: string; status: string } | null> {
      const client = provider();
      const jobId = req.jobId ?? (await findJobForRun(client, req.workflowId, req.runId))?.id;
      if (!jobId) return null;
      const job = await callProvider('Fetching the fine-tuning job', () => client.fineTuning.jobs.retrieve(jobId));
      if (isTerminalJobStatus(job.status)) return { jobId, status: job.status };
      const cancelled = await callProvider('Cancelling the fine-tuning job', () => client.fineTuning.jobs.cancel(jobId));
      logger.info({ workflowId: req.workflowId, jobId, status: cancelled.status }, 'fine-tuning job cancelled');
      return { jobId, status: cancelled.status };
    },
  };
}

/** Every job tagged with the workflow id, of any of its runs, newest first. */
async function jobsOfWorkflow(client: OpenAI, workflowId: string): Promise<OpenAI.FineTuning.Jobs.FineTuningJob[]> {
  return callProvider('Looking for existing jobs', async () => {
    const out: OpenAI.FineTuning.Jobs.FineTuningJob[] = [];
    for await (const job of client.fineTuning.jobs.list({ metadata: { [JOB_METADATA_KEYS.workflowId]: workflowId }, limit: 20 })) out.push(job);
    return out;
  });
}

async function findJobForRun(client: OpenAI, workflowId: string, runId: string) {
  return (await jobsOfWorkflow(client, workflowId)).find((job) => job.metadata?.[JOB_METADATA_KEYS.runId] === runId);
}
