/**
 * How long a run waits before it looks at its provider job again. Pure: the poll activity computes it
 * from the job it just saw, the worker's polling policy and the worker's clock; the workflow waits that
 * long on a durable timer that a `jobEvent` signal (a provider webhook) cuts short.
 */

/** Whether a webhook receiver signals runs (TUNEFLOW_WEBHOOKS), and how slowly to poll then. */
export interface PollingPolicy {
  webhooks: boolean;
  /** Seconds between polls while webhooks are trusted to wake the run (never below the run's own interval). */
  fallbackSeconds: number;
}

export const DEFAULT_WEBHOOK_FALLBACK_SECONDS = 600;
export const DEFAULT_POLLING_POLICY: PollingPolicy = { webhooks: false, fallbackSeconds: DEFAULT_WEBHOOK_FALLBACK_SECONDS };

/** Jobs that wait for the provider (files checked, a slot, a person's resume) change slowly: twice the interval, up to this. */
export const WAITING_JOB_SECONDS = 60;
/** The longest wait between two polls of a running job when no webhook will come. */
export const MAX_ADAPTIVE_SECONDS = 600;
/** Without webhooks, a running job is polled after this share of its estimated time left. */
export const TIME_LEFT_SHARE = 0.25;
/** With webhooks, how long past `estimated_finish` a silent job is given before the next look, and the pace after it. */
export const LATE_WEBHOOK_SECONDS = 60;

const WAITING_STATUSES: ReadonlySet<string> = new Set(['validating_files', 'queued', 'paused']);

export interface PollDelayInput {
  /** The job's status in tuneflow's vocabulary (OpenAI's). */
  status: string;
  /** The provider's `estimated_finish` (unix seconds), when it gives one. */
  estimatedFinishSec: number | null;
  nowSec: number;
  /** The run's own poll interval (`pollIntervalSeconds`): the shortest wait, whatever the rule says. */
  baseSeconds: number;
  webhooks: boolean;
  /** Used with webhooks; default 600. */
  fallbackSeconds?: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), Math.max(lo, hi));

/** Seconds to wait before the next poll: the run's interval, or more (whole seconds). */
export function pollDelaySeconds(input: PollDelayInput): number {
  const base = input.baseSeconds;
  const left = input.estimatedFinishSec !== null ? input.estimatedFinishSec - input.nowSec : null;
  let delay: number;
  if (input.webhooks) {
    const fallback = Math.max(base, input.fallbackSeconds ?? DEFAULT_WEBHOOK_FALLBACK_SECONDS);
    if (left === null || WAITING_STATUSES.has(input.status)) delay = fallback;
    // Near or past the estimate, the webhook is due: look soon after it should have come, then keep looking.
    else delay = clamp(Math.max(left, 0) + LATE_WEBHOOK_SECONDS, base, fallback);
  } else if (WAITING_STATUSES.has(input.status)) {
    // Relative to the interval: a run that asked for 1 s polls (tests, demos) must not wait a whole minute.
    delay = Math.min(2 * base, Math.max(base, WAITING_JOB_SECONDS));
  } else if (input.status === 'running' && left !== null && left > 0) {
    delay = clamp(left * TIME_LEFT_SHARE, base, MAX_ADAPTIVE_SECONDS);
  } else {
    delay = base;
  }
  return delay <= base ? base : Math.ceil(delay);
}
