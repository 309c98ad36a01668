// Together's view of a job at a simulated instant, derived from the shared timeline (same curves, steps and clock).
import { fullValidMetrics, stepMetrics } from '../curves';
import { derivedId } from '../ids';
import { FINALIZE_MS } from '../plan';
import { deriveState, timeOfStep, validatedAtMs } from '../timeline';
import type { JobRecord, TrainingPlan } from '../types';
import { checkpointModelName } from './catalog';
import type { TogetherJobExtras } from './records';

export const TOGETHER_JOB_STATUSES = ['pending', 'queued', 'running', 'compressing', 'uploading', 'cancel_requested', 'cancelled', 'error', 'completed'] as const;
export type TogetherJobStatus = (typeof TOGETHER_JOB_STATUSES)[number];

/** Simulated time between a cancel request and the job being cancelled. */
export const CANCEL_REQUEST_MS = 60_000;

export interface TogetherJobState {
  status: TogetherJobStatus;
  stepsDone: number;
  endedAtMs: number | null;
  errorMessage: string | null;
}

export const isoOf = (ms: number): string => new Date(ms).toISOString();

export function extrasOf(job: JobRecord): TogetherJobExtras {
  if (!job.together) throw new Error(`job ${job.id} was not created through the Together dialect`);
  return job.together;
}

export function planOf(job: JobRecord): TrainingPlan | null {
  return job.validation?.ok ? job.validation.plan : null;
}

export function togetherState(job: JobRecord, nowMs: number): TogetherJobState {
  const s = deriveState(job, nowMs);
  const base = { stepsDone: s.stepsDone, endedAtMs: s.endedAtMs, errorMessage: s.error?.message ?? null };
  if (s.endedAtMs === null && job.together?.cancelRequestedAtMs != null) return { ...base, status: 'cancel_requested' };
  switch (s.status) {
    case 'validating_files':
      return { ...base, status: 'pending' };
    case 'queued':
    case 'running':
    case 'paused': {
      if (s.status !== 'queued') {
        const plan = planOf(job);
        const trainedAt = plan ? timeOfStep(job, plan, plan.totalSteps) : Infinity;
        if (nowMs >= trainedAt) return { ...base, status: nowMs < trainedAt + FINALIZE_MS / 2 ? 'compressing' : 'uploading' };
      }
      return { ...base, status: s.status === 'queued' ? 'queued' : 'running' };
    }
    case 'succeeded':
      return { ...base, status: 'completed' };
    case 'failed':
      return { ...base, status: 'error' };
    case 'cancelled':
      return { ...base, status: 'cancelled' };
  }
}

export const isFinalStatus = (s: TogetherJobStatus): boolean => s === 'completed' || s === 'error' || s === 'cancelled';

/** `n` points spread evenly over the run's steps (Together spaces checkpoints and evaluations this way). */
function spread(totalSteps: number, n: number): number[] {
  const out = new Set<number>();
  for (let k = 1; k <= n; k++) out.add(Math.max(1, Math.round((k * totalSteps) / n)));
  return [...out].sort((a, b) => a - b);
}

export function evalSteps(job: JobRecord, plan: TrainingPlan): number[] {
  const x = extrasOf(job);
  return job.validationFile !== null && x.nEvals > 0 ? spread(plan.totalSteps, x.nEvals) : [];
}

export interface TogetherCheckpoint {
  step: number;
  atMs: number;
  type: 'Intermediate' | 'Final';
  /** What chat and `from_checkpoint` call it. */
  model: string;
}

/** Checkpoints that exist at nowMs, newest first: `n_checkpoints - 1` intermediate ones, then the final model once completed. */
export function togetherCheckpoints(job: JobRecord, nowMs: number): TogetherCheckpoint[] {
  const plan = planOf(job);
  if (!plan) return [];
  const x = extrasOf(job);
  const state = togetherState(job, nowMs);
  const out: TogetherCheckpoint[] = [];
  for (const step of spread(plan.totalSteps, x.nCheckpoints).filter((s) => s < plan.totalSteps)) {
    if (step <= state.stepsDone) out.push({ step, atMs: timeOfStep(job, plan, step), type: 'Intermediate', model: checkpointModelName(x.outputName, step) });
  }
  if (state.status === 'completed' && state.endedAtMs !== null) {
    out.push({ step: plan.totalSteps, atMs: state.endedAtMs, type: 'Final', model: x.outputName });
  }
  return out.reverse();
}

export type MetricsRow = Record<string, number>;

/**
 * Metric records up to nowMs in chronological order: one `train/*` record per step and, with a validation
 * file and n_evals > 0, one `eval/loss` record at each evaluation step (both carry `train/global_step`).
 */
export function togetherMetrics(job: JobRecord, nowMs: number, from = 0, to = Infinity): MetricsRow[] {
  const plan = planOf(job);
  if (!plan) return [];
  const x = extrasOf(job);
  const done = togetherState(job, nowMs).stepsDone;
  const evals = new Set(evalSteps(job, plan));
  const out: MetricsRow[] = [];
  for (let k = Math.max(1, from); k <= Math.min(done, to); k++) {
    const m = stepMetrics(job.seed, plan.bestEpoch, plan.stepsPerEpoch, k, false);
    const lr = x.learningRate * Math.max(0, 1 - k / (plan.totalSteps + 1));
    out.push({ 'train/loss': m.train_loss, 'train/learning_rate': Number(lr.toPrecision(6)), 'train/epoch': Number((k / plan.stepsPerEpoch).toFixed(4)), 'train/global_step': k });
    // No mini-batch noise: an evaluation covers the whole validation set, so it ranks checkpoints faithfully.
    if (evals.has(k)) out.push({ 'eval/loss': fullValidMetrics(job.seed, plan.bestEpoch, k / plan.stepsPerEpoch).full_valid_loss, 'train/global_step': k });
  }
  return out;
}

export interface TogetherEvent {
  key: string;
  atMs: number;
  type: string;
  level: 'info' | 'warning' | 'error';
  message: string;
  step: number;
  checkpointPath: string;
  modelPath: string;
}

/** Events that happened by nowMs, oldest first. */
export function togetherEvents(job: JobRecord, nowMs: number): TogetherEvent[] {
  const x = extrasOf(job);
  const state = togetherState(job, nowMs);
  const until = Math.min(nowMs, state.endedAtMs ?? Infinity);
  const out: TogetherEvent[] = [];
  const add = (key: string, atMs: number, type: string, message: string, more: Partial<TogetherEvent> = {}): void => {
    if (atMs <= until) out.push({ key, atMs, type, level: 'info', message, step: 0, checkpointPath: '', modelPath: '', ...more });
  };
  add('pending', job.createdAtMs, 'job_pending', 'Fine tune request created');
  const plan = planOf(job);
  const validatedAt = validatedAtMs(job);
  if (job.validation && validatedAt !== null) {
    if (!job.validation.ok) {
      add('error', validatedAt, 'job_error', job.validation.error.message, { level: 'error' });
    } else if (plan) {
      add('start', validatedAt, 'job_start', `Job started at ${new Date(validatedAt).toUTCString()}`);
      add('training-start', plan.runStartMs, 'training_start', `Training started for model ${job.model}`);
      const ckpts = new Map(togetherCheckpoints(job, nowMs).filter((c) => c.type === 'Intermediate').map((c) => [c.step, c]));
      for (let k = 1; k <= Math.min(state.stepsDone, plan.totalSteps); k++) {
        const at = timeOfStep(job, plan, k);
        const c = ckpts.get(k);
        if (c) add(`ckpt:${k}`, at, 'checkpoint_save', `New checkpoint saved at step ${k}`, { step: k, checkpointPath: c.model });
        if (k % plan.stepsPerEpoch === 0) add(`epoch:${k}`, at, 'epoch_complete', `Epoch completed, at step ${k}`, { step: k });
      }
      if (state.stepsDone >= plan.totalSteps) {
        const trainedAt = timeOfStep(job, plan, plan.totalSteps);
        add('trained', trainedAt, 'training_complete', `Training completed for ${job.model} at step ${plan.totalSteps}`, { step: plan.totalSteps });
        add('compressing', trainedAt, 'model_compressing', 'Compressing output model');
        add('uploading', trainedAt + FINALIZE_MS / 2, 'model_uploading', 'Uploading output model');
      }
      if (state.status === 'completed' && state.endedAtMs !== null) {
        add('complete', state.endedAtMs, 'job_complete', `Job finished, model ${x.outputName} is ready`, { step: plan.totalSteps, modelPath: x.outputName });
      }
      if (state.status === 'error' && state.endedAtMs !== null) {
        add('error', state.endedAtMs, 'job_error', state.errorMessage ?? 'The job failed.', { level: 'error', step: state.stepsDone });
      }
    }
  }
  if (x.cancelRequestedAtMs !== null) add('cancel-requested', x.cancelRequestedAtMs, 'cancel_requested', 'Cancel requested by user');
  if (state.status === 'cancelled' && state.endedAtMs !== null) add('stopped', state.endedAtMs, 'job_stopped', 'Job stopped by user', { step: state.stepsDone });
  return out.map((e, i) => ({ e, i })).sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i).map((v) => v.e);
}

export const eventHash = (job: JobRecord, e: TogetherEvent): string => derivedId('', `${job.id}:tg-event:${e.key}`, 16).toLowerCase();
