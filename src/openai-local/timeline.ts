// Pure derivation of a job's state at a simulated instant: the same record and instant always give the same answer.
import { fullValidMetrics, stepMetrics } from './curves';
import { azureCheckpointId, azureEventId, azureResultFileId, checkpointId, derivedHex32, eventId, modelShortId, resultFileId } from './ids';
import { azureFineTunedModelName, checkpointModelName, fineTunedModelName } from './models';
import { FINALIZE_MS, VALIDATING_MS } from './plan';
import type { JobError, JobRecord, TrainingPlan } from './types';

export type JobStatus = 'validating_files' | 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

export interface JobState {
  status: JobStatus;
  /** Training steps completed at this instant. */
  stepsDone: number;
  /** When the job reached its terminal status (simulated ms), if it did. */
  endedAtMs: number | null;
  error: JobError | null;
  /** Predicted end of training if nothing intervenes (simulated ms). */
  expectedFinishMs: number | null;
}

export interface DerivedEvent {
  key: string;
  atMs: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  type: 'message' | 'metrics';
  data?: Record<string, unknown>;
}

export interface DerivedCheckpoint {
  id: string;
  step: number;
  atMs: number;
  model: string;
  metrics: Record<string, number>;
}

const JOB_FAILED_MESSAGE =
  'The job encountered an internal error during training and could not be completed. Please try again; if the problem persists, contact support.';

export function validatedAtMs(job: JobRecord): number | null {
  if (!job.validation) return null;
  return Math.max(job.createdAtMs + VALIDATING_MS, job.validation.doneAtMs);
}

/** Simulated time at which training step k completes, shifted by any pause that began before it. */
export function timeOfStep(job: JobRecord, plan: TrainingPlan, k: number): number {
  let t = plan.runStartMs + k * plan.stepMs;
  for (const p of [...job.pauses].sort((a, b) => a.startMs - b.startMs)) {
    if (p.startMs >= t) break;
    if (p.endMs === null) return Infinity;
    t += p.endMs - p.startMs;
  }
  return t;
}

function pausedBefore(job: JobRecord, t: number): number {
  let total = 0;
  for (const p of job.pauses) {
    if (p.startMs >= t) continue;
    total += Math.min(p.endMs ?? t, t) - p.startMs;
  }
  return total;
}

export function stepsDoneAt(job: JobRecord, plan: TrainingPlan, t: number): number {
  const running = t - plan.runStartMs - pausedBefore(job, t);
  return Math.max(0, Math.min(plan.totalSteps, Math.floor(running / plan.stepMs)));
}

/** The step at which job-failure mode makes this job fail, if it does. */
export function failStep(job: JobRecord, plan: TrainingPlan): number | null {
  if (job.failAtStep === null) return null;
  // -1 means "midway", recorded before the number of steps was known.
  const step = job.failAtStep === -1 ? Math.floor(plan.totalSteps / 2) : job.failAtStep;
  return Math.min(plan.totalSteps, Math.max(1, step));
}

export function deriveState(job: JobRecord, nowMs: number): JobState {
  const plan = job.validation?.ok ? job.validation.plan : null;
  const stepsAt = (t: number): number => (plan ? stepsDoneAt(job, plan, t) : 0);
  if (job.final) {
    return { status: job.final.status, stepsDone: stepsAt(job.final.finishedAtMs), endedAtMs: job.final.finishedAtMs, error: job.final.error, expectedFinishMs: null };
  }
  if (job.cancelledAtMs !== null && job.cancelledAtMs <= nowMs) {
    return { status: 'cancelled', stepsDone: stepsAt(job.cancelledAtMs), endedAtMs: job.cancelledAtMs, error: null, expectedFinishMs: null };
  }
  const validatedAt = validatedAtMs(job);
  if (!job.validation || validatedAt === null || nowMs < validatedAt) {
    return { status: 'validating_files', stepsDone: 0, endedAtMs: null, error: null, expectedFinishMs: null };
  }
  if (!job.validation.ok) {
    return { status: 'failed', stepsDone: 0, endedAtMs: validatedAt, error: job.validation.error, expectedFinishMs: null };
  }
  const p = job.validation.plan;
  const fail = failStep(job, p);
  if (fail !== null) {
    const failAt = timeOfStep(job, p, fail);
    if (failAt <= nowMs) {
      return { status: 'failed', stepsDone: fail, endedAtMs: failAt, error: { code: 'server_error', message: JOB_FAILED_MESSAGE, param: null }, expectedFinishMs: null };
    }
  }
  const finishAt = timeOfStep(job, p, p.totalSteps) + FINALIZE_MS;
  if (finishAt <= nowMs) {
    return { status: 'succeeded', stepsDone: p.totalSteps, endedAtMs: finishAt, error: null, expectedFinishMs: null };
  }
  const openPause = job.pauses.find((x) => x.endMs === null && x.startMs <= nowMs);
  // While paused, predict as if resumed now.
  const expected = Number.isFinite(finishAt) ? finishAt : nowMs + (p.totalSteps - stepsAt(nowMs)) * p.stepMs + FINALIZE_MS;
  const status: JobStatus = nowMs < p.runStartMs ? 'queued' : openPause ? 'paused' : 'running';
  return { status, stepsDone: stepsAt(nowMs), endedAtMs: null, error: null, expectedFinishMs: expected };
}

export function fineTunedModelOf(job: JobRecord): string {
  if (job.dialect === 'azure') return azureFineTunedModelName(job.model, derivedHex32(`${job.id}:model`));
  return fineTunedModelName(job.model, job.suffix, modelShortId(job.id));
}

export const resultFileIdOf = (job: JobRecord): string => (job.dialect === 'azure' ? azureResultFileId(job.id) : resultFileId(job.id));

/** All events that have happened by nowMs, oldest first. */
export function deriveEvents(job: JobRecord, nowMs: number): DerivedEvent[] {
  const state = deriveState(job, nowMs);
  const until = Math.min(nowMs, state.endedAtMs ?? Infinity);
  const out: DerivedEvent[] = [];
  const add = (e: DerivedEvent): void => {
    if (e.atMs <= until) out.push(e);
  };
  const info = (key: string, atMs: number, message: string): void => add({ key, atMs, level: 'info', message, type: 'message' });

  info('created', job.createdAtMs, `Created fine-tuning job: ${job.id}`);
  info(
    'validating',
    job.createdAtMs,
    job.validationFile
      ? `Validating training file: ${job.trainingFile} and validation file: ${job.validationFile}`
      : `Validating training file: ${job.trainingFile}`,
  );
  const validatedAt = validatedAtMs(job);
  if (job.validation && validatedAt !== null) {
    if (!job.validation.ok) {
      add({ key: 'validation-failed', atMs: validatedAt, level: 'error', message: job.validation.error.message, type: 'message' });
    } else {
      const plan = job.validation.plan;
      info('validated', validatedAt, 'Files validated, moving job to queued state');
      info('started', plan.runStartMs, 'Fine-tuning job started');
      job.pauses.forEach((p, i) => {
        info(`paused:${i}`, p.startMs, 'Fine-tuning job paused');
        if (p.endMs !== null) info(`resumed:${i}`, p.endMs, 'Fine-tuning job resumed');
      });
      const lastStep = Math.min(state.stepsDone, plan.totalSteps);
      for (let k = 1; k <= lastStep; k++) {
        const at = timeOfStep(job, plan, k);
        const withValid = job.validationFile !== null && (k % plan.validEvery === 0 || k === plan.totalSteps);
        const m = stepMetrics(job.seed, plan.bestEpoch, plan.stepsPerEpoch, k, withValid);
        const message =
          `Step ${k}/${plan.totalSteps}: training loss=${m.train_loss.toFixed(2)}` +
          (m.valid_loss !== undefined ? `, validation loss=${m.valid_loss.toFixed(2)}` : '');
        add({ key: `step:${k}`, atMs: at, level: 'info', message, type: 'metrics', data: { ...m, total_steps: plan.totalSteps } });
        if (k % plan.stepsPerEpoch === 0) info(`ckpt:${k}`, at, `Checkpoint created at step ${k}`);
      }
      if (state.status === 'succeeded' && state.endedAtMs !== null) {
        info('model-created', state.endedAtMs - FINALIZE_MS / 2, `New fine-tuned model created: ${fineTunedModelOf(job)}`);
        info('usage-policies', state.endedAtMs - FINALIZE_MS / 4, 'Evaluating model against our usage policies');
        info('succeeded', state.endedAtMs, 'The job has successfully completed');
      }
      if (state.status === 'failed' && state.endedAtMs !== null && state.error) {
        add({ key: 'failed', atMs: state.endedAtMs, level: 'error', message: state.error.message, type: 'message' });
      }
    }
  }
  if (state.status === 'cancelled' && state.endedAtMs !== null) info('cancelled', state.endedAtMs, 'Fine-tuning job cancelled');
  // Stable sort keeps generation order for events at the same instant.
  return out.map((e, i) => ({ e, i })).sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i).map((x) => x.e);
}

export const eventIdOf = (job: JobRecord, e: DerivedEvent): string => (job.dialect === 'azure' ? azureEventId : eventId)(job.id, e.key);

/** Checkpoints that exist at nowMs, newest first: one per finished epoch, only the last three are kept. */
export function deriveCheckpoints(job: JobRecord, nowMs: number): DerivedCheckpoint[] {
  if (!job.validation?.ok) return [];
  const plan = job.validation.plan;
  const state = deriveState(job, nowMs);
  const all: DerivedCheckpoint[] = [];
  for (let epoch = 1; epoch <= plan.nEpochs; epoch++) {
    const step = epoch * plan.stepsPerEpoch;
    if (step > state.stepsDone) break;
    all.push(checkpointAt(job, plan, step));
  }
  return all.slice(-3).reverse();
}

export function checkpointAt(job: JobRecord, plan: TrainingPlan, step: number): DerivedCheckpoint {
  const withValid = job.validationFile !== null;
  const metrics: Record<string, number> = { ...stepMetrics(job.seed, plan.bestEpoch, plan.stepsPerEpoch, step, withValid) };
  if (withValid) Object.assign(metrics, fullValidMetrics(job.seed, plan.bestEpoch, step / plan.stepsPerEpoch));
  return {
    id: job.dialect === 'azure' ? azureCheckpointId(job.id, step) : checkpointId(job.id, step),
    step,
    atMs: timeOfStep(job, plan, step),
    // Azure reports `<model>:ckpt-step-<n>` but deploys a checkpoint by its `ftchkpt-…` id.
    model: job.dialect === 'azure' ? `${fineTunedModelOf(job)}:ckpt-step-${step}` : checkpointModelName(job.model, job.suffix, modelShortId(job.id), step),
    metrics,
  };
}

/** The CSV the provider attaches as the result file (one row per step). */
export function resultCsv(job: JobRecord, plan: TrainingPlan): string {
  const rows = ['step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy'];
  for (let k = 1; k <= plan.totalSteps; k++) {
    const withValid = job.validationFile !== null && (k % plan.validEvery === 0 || k === plan.totalSteps);
    const m = stepMetrics(job.seed, plan.bestEpoch, plan.stepsPerEpoch, k, withValid);
    rows.push([k, m.train_loss, m.train_mean_token_accuracy, m.valid_loss ?? '', m.valid_mean_token_accuracy ?? ''].join(','));
  }
  return rows.join('\n') + '\n';
}
