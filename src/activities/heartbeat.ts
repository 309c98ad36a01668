import { Context } from '@temporalio/activity';

/** Steady pace of progress heartbeats: several per 30 s heartbeat timeout, so one late beat never fails an attempt. */
export const PROGRESS_HEARTBEAT_MS = 5_000;

/** What a long activity heartbeats: small figures (bytes, lines, examples), never dataset content. */
export type ProgressDetails = Record<string, number>;

export interface ProgressReporter<P extends ProgressDetails> {
  /** The figures as the work last reported them. */
  readonly progress: Readonly<P>;
  /** Records progress from the work; throws the activity's cancellation once it was cancelled, so the work stops. */
  update(next: Partial<P>): void;
}

/**
 * Runs an activity's work while heartbeating its progress: at once, every `intervalMs` from a timer
 * (unref'd, always cleared), and from `update` when the timer is late. A heartbeat carries the figures
 * the work reported, so the Temporal UI shows how far an attempt got.
 */
export async function withProgressHeartbeat<P extends ProgressDetails, R>(
  initial: P,
  work: (reporter: ProgressReporter<P>) => Promise<R>,
  intervalMs = PROGRESS_HEARTBEAT_MS,
): Promise<R> {
  const ctx = Context.current();
  const progress: P = { ...initial };
  let lastBeat = 0;
  const beat = () => {
    lastBeat = performance.now();
    ctx.heartbeat({ ...progress });
  };
  const reporter: ProgressReporter<P> = {
    progress,
    update(next) {
      ctx.cancellationSignal.throwIfAborted();
      Object.assign(progress, next);
      if (performance.now() - lastBeat >= intervalMs) beat();
    },
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  try {
    return await work(reporter);
  } finally {
    clearInterval(timer);
  }
}
