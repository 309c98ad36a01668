import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { CheckpointSummary } from '../domain/checkpoints';
import type { LatestMetrics, UploadedFile } from '../domain/pipeline';
import { JOB_METADATA_KEYS } from '../domain/job-tags';
import { DEFAULT_POLLING_POLICY, pollDelaySeconds, type PollingPolicy } from '../domain/polling';
import type { JobTrouble } from '../domain/provider-trouble';
import { isTerminalJobStatus } from '../domain/stages';
import { jobTrouble } from '../provider/errors';
import type { CreateJobSpec, FineTuneProvider, ProviderJob } from '../provider/types';
import { withLocalFile, type Storage } from '../store';
import { withProgressHeartbeat } from './heartbeat';
import { appendMetricsRows } from './training-metrics';

export interface ProviderJobDeps {
  /** The run store: split files to upload come from it, metrics.jsonl goes to it. */
  storage: Storage;
  logger: Logger;
  provider: () => FineTuneProvider;
  /** Whether webhooks wake runs (TUNEFLOW_WEBHOOKS), for `nextPollSeconds`; absent: they do not. */
  pollingPolicy?: PollingPolicy | undefined;
  /** The worker's clock (ms), against the job's `estimated_finish`. */
  nowMs?: () => number;
}

/** What the workflow asks a poll for; `pollIntervalSeconds` is the run's own interval, the floor of `nextPollSeconds`. */
export interface PollRequest {
  runId: string;
  jobId: string;
  lastEventId: string | null;
  /** Absent (runs that do not send it): the pipeline's default, 30 s. */
  pollIntervalSeconds?: number | undefined;
}

/** The pipeline's default poll interval, for requests that do not carry the run's own. */
const DEFAULT_POLL_INTERVAL_SECONDS = 30;

export interface UploadRequest {
  runId: string;
  role: 'train' | 'valid';
  path: string;
  sha256: string;
  examples: number;
  bytes: number;
}

/** What the workflow asks for: the job as the provider interface takes it, with the run it is tagged by. */
export interface JobRequest extends Omit<CreateJobSpec, 'tags'> {
  workflowId: string;
  /** First run id of the workflow: stays the same across continue-as-new, differs when an id is reused. */
  runId: string;
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

export type { JobError } from '../provider/types';
import type { JobError } from '../provider/types';

export interface JobPoll {
  /** In tuneflow's vocabulary (OpenAI's statuses). */
  status: string;
  /** The provider's own word when it differs (e.g. Together's `compressing`). */
  providerStatus?: string;
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
  /** How long to wait before the next poll (src/domain/polling.ts); absent in polls recorded before 0.4. */
  nextPollSeconds?: number;
  /** True when the worker is told a webhook receiver signals runs (the poll is then only the safety net). */
  webhooks?: boolean;
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


export function createProviderJobActivities({ storage, logger, provider, pollingPolicy = DEFAULT_POLLING_POLICY, nowMs = Date.now }: ProviderJobDeps) {
  async function pollOnce(req: PollRequest): Promise<JobPoll> {
    const p = provider();
    const job = await p.getJob(req.jobId);
    const fresh = await p.progressSince(req.jobId, req.lastEventId);
    const rows = fresh.metrics;
    await appendMetricsRows(storage.store, req.runId, rows);
    const latest: LatestMetrics = { step: null, trainLoss: null, validLoss: null, fullValidLoss: null, totalSteps: fresh.totalSteps };
    for (const r of rows) {
      latest.step = r.step;
      latest.trainLoss = r.trainLoss ?? latest.trainLoss;
      latest.validLoss = r.validLoss ?? latest.validLoss;
      latest.fullValidLoss = r.fullValidLoss ?? latest.fullValidLoss;
    }
    return {
      status: job.status,
      ...(job.providerStatus !== job.status ? { providerStatus: job.providerStatus } : {}),
      fineTunedModel: job.fineTunedModel,
      trainedTokens: job.trainedTokens,
      estimatedFinish: job.estimatedFinish,
      hyperparameters: job.hyperparameters,
      error: job.error,
      newEvents: fresh.newEvents,
      lastEventId: fresh.cursor,
      latest,
      nextPollSeconds: pollDelaySeconds({
        status: job.status,
        estimatedFinishSec: job.estimatedFinish,
        nowSec: Math.floor(nowMs() / 1000),
        baseSeconds: req.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS,
        webhooks: pollingPolicy.webhooks,
        fallbackSeconds: pollingPolicy.fallbackSeconds,
      }),
      webhooks: pollingPolicy.webhooks,
    };
  }

  return {
    /** Uploads one split file unless an earlier attempt of this run already did. */
    async uploadTrainingFile(req: UploadRequest): Promise<UploadedFile> {
      const p = provider();
      const filename = uploadFilename(req.runId, req.role, req.sha256);
      const existing = await p.findFile(filename);
      const file =
        existing ??
        (await withProgressHeartbeat({ bytesSent: 0, bytes: req.bytes }, (reporter) =>
          // A split file in a bucket is downloaded to a temporary file first (see withLocalFile).
          withLocalFile(storage, req.path, (file) =>
            p.uploadFile({
              path: file,
              filename,
              bytes: req.bytes,
              signal: Context.current().cancellationSignal,
              onProgress: (progress) => reporter.update(progress),
            }),
          ),
        ));
      logger.info({ runId: req.runId, role: req.role, fileId: file.id, reused: existing !== null }, 'training file ready');
      return { fileId: file.id, filename, sha256: req.sha256, examples: req.examples, bytes: req.bytes };
    },

    /**
     * Creates the job, or finds the one an earlier attempt of this run created, or adopts the live or
     * succeeded job of an earlier run of the same workflow id made from the same data and settings:
     * jobs are tagged with the workflow, the run and a fingerprint.
     */
    async createFineTuningJob(req: JobRequest): Promise<JobCreated> {
      const p = provider();
      const fingerprint = jobFingerprint(req);
      const jobs = await p.jobsOfWorkflow(req.workflowId);
      const own = jobs.find((j) => j.tags?.runId === req.runId);
      if (own) {
        logger.info({ workflowId: req.workflowId, jobId: own.id }, 'fine-tuning job already exists for this run');
        return { jobId: own.id, status: own.status, reused: true, adoptedFrom: null };
      }
      const adoptable = fingerprint ? jobs.find((j) => j.tags?.fingerprint === fingerprint && mayAdopt(j.status)) : undefined;
      if (adoptable) {
        const from = adoptable.tags?.runId ?? null;
        logger.info({ workflowId: req.workflowId, jobId: adoptable.id, status: adoptable.status, adoptedFrom: from }, "adopted an earlier run's fine-tuning job");
        return { jobId: adoptable.id, status: adoptable.status, reused: true, adoptedFrom: from };
      }
      const job = await p.createJob({
        model: req.model,
        trainingFileId: req.trainingFileId,
        validationFileId: req.validationFileId,
        seed: req.seed,
        suffix: req.suffix,
        hyperparameters: req.hyperparameters,
        tags: { workflowId: req.workflowId, runId: req.runId, fingerprint },
      });
      logger.info({ workflowId: req.workflowId, jobId: job.id }, 'fine-tuning job created');
      return { jobId: job.id, status: job.status, reused: false, adoptedFrom: null };
    },

    /**
     * One look at the job: its status and the events since the last one the workflow has seen. A
     * provider that cannot be reached, or that refuses the key, is an answer here, not a failure: the
     * workflow keeps following the job (and shows why it waits) instead of abandoning a paid job.
     */
    async pollFineTuningJob(req: PollRequest): Promise<JobPoll> {
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
      return provider().listCheckpoints(req.jobId);
    },

    /**
     * Cancels the run's provider job. Called from the workflow (never from an activity's own
     * cancellation, which a worker shutdown raises too). Finds the job by tag when the workflow
     * was cancelled before it learnt the id.
     */
    async cancelFineTuningJob(req: { workflowId: string; runId: string; jobId: string | null }): Promise<{ jobId: string; status: string } | null> {
      const p = provider();
      const jobId = req.jobId ?? (await p.jobsOfWorkflow(req.workflowId)).find((job: ProviderJob) => job.tags?.runId === req.runId)?.id;
      if (!jobId) return null;
      const job = await p.getJob(jobId);
      if (isTerminalJobStatus(job.status)) return { jobId, status: job.status };
      const cancelled = await p.cancelJob(jobId);
      logger.info({ workflowId: req.workflowId, jobId, status: cancelled.status }, 'fine-tuning job cancelled');
      return { jobId, status: cancelled.status };
    },
  };
}
