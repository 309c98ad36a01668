// Fine-tuning job service: creation checks, background file validation, state changes, API views.
import type { Logger } from 'pino';
import type { SimClock } from './clock';
import { toSec } from './clock';
import { checkDataset } from './datasets';
import { badRequest, conflict, jobNotFound } from './errors';
import { newAzureJobId, newJobId } from './ids';
import { fineTunableSnapshot, ORG_ID } from './models';
import { buildPlan, VALIDATING_MS } from './plan';
import { hash32 } from './random';
import type { RuntimeSettings } from './settings';
import type { Store } from './store';
import {
  type DerivedCheckpoint,
  type DerivedEvent,
  deriveCheckpoints,
  deriveEvents,
  deriveState,
  fineTunedModelOf,
  resultFileIdOf,
  resultCsv,
  stepsDoneAt,
} from './timeline';
import type { JobError, JobFinal, JobRecord, RequestedHyperparameters } from './types';

export interface CreateJobInput {
  model: string;
  trainingFile: string;
  validationFile: string | null;
  suffix: string | null;
  seed: number | null;
  metadata: Record<string, string> | null;
  requested: RequestedHyperparameters;
  /** Azure's ids and model names instead of OpenAI's. */
  dialect?: 'azure';
}

export class JobService {
  private readonly validations = new Map<string, Promise<void>>();
  private readonly finalizing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly clock: SimClock,
    private readonly settings: RuntimeSettings,
    private readonly log: Logger,
    /** Called once per job, when its terminal status is first recorded (webhook delivery). */
    private readonly onFinished: ((job: JobRecord, final: JobFinal) => void) | null = null,
  ) {}

  /** Checks what the provider checks synchronously; the file contents are checked later (validating_files). */
  async create(input: CreateJobInput): Promise<JobRecord> {
    const snapshot = fineTunableSnapshot(input.model);
    if (!snapshot) {
      throw badRequest(`Model ${input.model} is not available for fine-tuning or does not exist.`, 'model', 'model_not_available');
    }
    this.checkFileParam(input.trainingFile, 'training_file');
    if (input.validationFile !== null) this.checkFileParam(input.validationFile, 'validation_file');
    const id = input.dialect === 'azure' ? newAzureJobId() : newJobId();
    const job: JobRecord = {
      id,
      ...(input.dialect ? { dialect: input.dialect } : {}),
      seq: this.store.nextSeq(),
      createdAtMs: this.clock.nowSec() * 1000,
      organizationId: ORG_ID,
      model: snapshot,
      trainingFile: input.trainingFile,
      validationFile: input.validationFile,
      suffix: input.suffix,
      seed: input.seed ?? hash32(`seed:${id}`) % 2_147_483_647,
      metadata: input.metadata,
      requested: input.requested,
      validation: null,
      pauses: [],
      cancelledAtMs: null,
      failAtStep: null,
      final: null,
    };
    // failJobs decided at creation: the step is fixed once the plan (and thus total steps) is known.
    if (this.settings.failJobs) job.failAtStep = -1;
    await this.store.putJob(job);
    this.log.info({ jobId: id, model: snapshot, trainingFile: input.trainingFile }, 'fine-tuning job created');
    this.startValidation(job);
    return job;
  }

  private checkFileParam(fileId: string, param: 'training_file' | 'validation_file'): void {
    const file = this.store.files.get(fileId);
    if (!file) throw badRequest(`invalid ${param}: ${fileId}`, param, 'invalid_file');
    if (file.purpose !== 'fine-tune') {
      throw badRequest(`File ${fileId} has purpose '${file.purpose}', but fine-tuning requires purpose 'fine-tune'.`, param, 'invalid_file_purpose');
    }
  }

  /** Validates files in the background; restart-safe because a job without a result is validated again on start. */
  startValidation(job: JobRecord): void {
    if (job.validation || this.validations.has(job.id)) return;
    const run = this.validate(job)
      .catch((err: unknown) => this.log.error({ jobId: job.id, err }, 'file validation crashed'))
      .finally(() => this.validations.delete(job.id));
    this.validations.set(job.id, run);
  }

  private async validate(job: JobRecord): Promise<void> {
    const failed = (param: 'training_file' | 'validation_file', message: string): JobRecord['validation'] => ({
      ok: false,
      doneAtMs: this.clock.nowMs(),
      error: { code: param === 'training_file' ? 'invalid_training_file' : 'invalid_validation_file', message, param },
    });
    let validation: JobRecord['validation'];
    const train = this.store.files.has(job.trainingFile) ? await checkDataset(this.store.blobPath(job.trainingFile), 'training_file') : null;
    if (!train) {
      validation = failed('training_file', `The job failed because the training file ${job.trainingFile} was deleted.`);
    } else if (!train.ok) {
      validation = { ok: false, doneAtMs: this.clock.nowMs(), error: train.error };
    } else {
      let nValid = 0;
      let validError: JobRecord['validation'] = null;
      if (job.validationFile !== null) {
        const valid = this.store.files.has(job.validationFile) ? await checkDataset(this.store.blobPath(job.validationFile), 'validation_file', 0) : null;
        if (!valid) validError = failed('validation_file', `The job failed because the validation file ${job.validationFile} was deleted.`);
        else if (!valid.ok) validError = { ok: false, doneAtMs: this.clock.nowMs(), error: valid.error };
        else nValid = valid.summary.count;
      }
      if (validError) {
        validation = validError;
      } else {
        await this.store.putExamples(job.id, train.summary.examples);
        const doneAtMs = this.clock.nowMs();
        const plan = buildPlan({
          nTrain: train.summary.count,
          nValid,
          tokensPerEpoch: train.summary.tokens,
          requested: job.requested,
          seed: job.seed,
          validatedAtMs: Math.max(job.createdAtMs + VALIDATING_MS, doneAtMs),
        });
        validation = { ok: true, doneAtMs, plan };
        if (job.failAtStep === -1) job.failAtStep = Math.max(1, Math.floor(plan.totalSteps / 2));
      }
    }
    job.validation = validation;
    await this.store.putJob(job);
    this.log.info({ jobId: job.id, ok: validation?.ok }, 'job files validated');
  }

  /** Looks a job up and brings its persisted record up to date with the simulated clock. */
  async get(id: string): Promise<JobRecord> {
    const job = this.store.jobs.get(id);
    if (!job) throw jobNotFound(id);
    await this.refresh(job);
    return job;
  }

  /** Persists a terminal status once it is reached (and the result file on success); idempotent. */
  async refresh(job: JobRecord): Promise<void> {
    if (job.final) return;
    const pending = this.finalizing.get(job.id);
    if (pending) return pending;
    const state = deriveState(job, this.clock.nowMs());
    if (state.status !== 'succeeded' && state.status !== 'failed' && state.status !== 'cancelled') return;
    const run = this.finalize(job, state.status, state.endedAtMs ?? this.clock.nowMs(), state.error).finally(() =>
      this.finalizing.delete(job.id),
    );
    this.finalizing.set(job.id, run);
    return run;
  }

  private async finalize(job: JobRecord, status: 'succeeded' | 'failed' | 'cancelled', endedAtMs: number, error: JobError | null): Promise<void> {
    const plan = job.validation?.ok ? job.validation.plan : null;
    let resultFile: string | null = null;
    if (status === 'succeeded' && plan) {
      resultFile = resultFileIdOf(job);
      const csv = resultCsv(job, plan);
      await this.store.putFileWithContent(
        { id: resultFile, seq: this.store.nextSeq(), bytes: Buffer.byteLength(csv), createdAtMs: endedAtMs, filename: 'step_metrics.csv', purpose: 'fine-tune-results' },
        csv,
      );
    }
    job.final = {
      status,
      finishedAtMs: endedAtMs,
      error,
      resultFileId: resultFile,
      trainedTokens: status === 'succeeded' && plan ? plan.tokensPerEpoch * plan.nEpochs : null,
      fineTunedModel: status === 'succeeded' ? fineTunedModelOf(job) : null,
    };
    await this.store.putJob(job);
    this.log.info({ jobId: job.id, status, fineTunedModel: job.final.fineTunedModel }, 'fine-tuning job finished');
    this.onFinished?.(job, job.final);
  }

  /** Brings every unfinished job up to date (so terminal states persist even when nobody polls). */
  async tick(): Promise<void> {
    for (const job of this.store.jobs.values()) {
      if (!job.final) await this.refresh(job);
    }
  }

  async cancel(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    const state = deriveState(job, this.clock.nowMs());
    if (state.status === 'cancelled') return job;
    if (state.status === 'succeeded' || state.status === 'failed') {
      throw conflict(`Job ${id} has already ${state.status === 'succeeded' ? 'completed' : 'failed'} and cannot be cancelled.`, null, 'invalid_job_state');
    }
    job.cancelledAtMs = this.clock.nowMs();
    this.closeOpenPause(job, job.cancelledAtMs);
    await this.refresh(job);
    this.log.info({ jobId: id }, 'fine-tuning job cancelled');
    return job;
  }

  async pause(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    const state = deriveState(job, this.clock.nowMs());
    if (state.status === 'paused') return job;
    if (state.status !== 'running') throw conflict(`Job ${id} is ${state.status}; only running jobs can be paused.`, null, 'invalid_job_state');
    job.pauses.push({ startMs: this.clock.nowMs(), endMs: null });
    await this.store.putJob(job);
    this.log.info({ jobId: id }, 'fine-tuning job paused');
    return job;
  }

  async resume(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    const state = deriveState(job, this.clock.nowMs());
    if (state.status === 'running') return job;
    if (state.status !== 'paused') throw conflict(`Job ${id} is ${state.status}; only paused jobs can be resumed.`, null, 'invalid_job_state');
    this.closeOpenPause(job, this.clock.nowMs());
    await this.store.putJob(job);
    this.log.info({ jobId: id }, 'fine-tuning job resumed');
    return job;
  }

  private closeOpenPause(job: JobRecord, atMs: number): void {
    for (const p of job.pauses) if (p.endMs === null) p.endMs = atMs;
  }

  /** Job-failure mode switched on at runtime: unfinished jobs fail midway, or at their next step if past it. */
  async applyFailJobs(): Promise<void> {
    const now = this.clock.nowMs();
    for (const job of this.store.jobs.values()) {
      if (job.final || job.failAtStep !== null) continue;
      const state = deriveState(job, now);
      if (state.endedAtMs !== null) continue;
      if (!job.validation?.ok) {
        job.failAtStep = -1;
      } else {
        const plan = job.validation.plan;
        const done = stepsDoneAt(job, plan, now);
        job.failAtStep = Math.min(plan.totalSteps, Math.max(Math.floor(plan.totalSteps / 2), done + 1));
      }
      await this.store.putJob(job);
    }
  }

  list(): JobRecord[] {
    return [...this.store.jobs.values()].sort((a, b) => b.seq - a.seq);
  }

  events(job: JobRecord): DerivedEvent[] {
    return deriveEvents(job, this.clock.nowMs());
  }

  checkpoints(job: JobRecord): DerivedCheckpoint[] {
    return deriveCheckpoints(job, this.clock.nowMs());
  }

  /** Waits for background validations (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.validations.values(), ...this.finalizing.values()]);
  }

  /** The FineTuningJob object of the API. */
  toApi(job: JobRecord): Record<string, unknown> {
    const state = deriveState(job, this.clock.nowMs());
    const plan = job.validation?.ok ? job.validation.plan : null;
    const hyperparameters = plan
      ? { batch_size: plan.batchSize, learning_rate_multiplier: plan.learningRateMultiplier, n_epochs: plan.nEpochs }
      : { ...job.requested };
    const succeeded = state.status === 'succeeded';
    return {
      object: 'fine_tuning.job',
      id: job.id,
      created_at: toSec(job.createdAtMs),
      error: state.error,
      fine_tuned_model: succeeded ? fineTunedModelOf(job) : null,
      finished_at: state.endedAtMs !== null ? toSec(state.endedAtMs) : null,
      hyperparameters,
      model: job.model,
      organization_id: job.organizationId,
      result_files: succeeded ? [resultFileIdOf(job)] : [],
      status: state.status,
      trained_tokens: succeeded && plan ? plan.tokensPerEpoch * plan.nEpochs : null,
      training_file: job.trainingFile,
      validation_file: job.validationFile,
      integrations: null,
      seed: job.seed,
      // On the caller's wall clock, not the simulated one: a client paces its polls by it (src/domain/polling.ts).
      estimated_finish: state.expectedFinishMs !== null ? Math.ceil(this.clock.realMsAt(state.expectedFinishMs) / 1000) : null,
      method: { type: 'supervised', supervised: { hyperparameters } },
      metadata: job.metadata,
      user_provided_suffix: job.suffix,
    };
  }
}
