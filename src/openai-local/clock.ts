// Simulated clock: sim = simAnchor + (real - realAnchor) * timeScale; never runs backwards across restarts.

export interface ClockState {
  /** Simulated time (ms) that was reached last time it was persisted. */
  lastSimMs: number;
}

export class SimClock {
  private readonly realAnchorMs: number;
  private readonly simAnchorMs: number;

  /**
   * On (re)start the simulated clock resumes where it stopped (downtime does not count), unless the wall
   * clock has overtaken it, in which case it jumps to the wall clock: it is monotonic and never behind real time.
   */
  constructor(
    readonly timeScale: number,
    previous: ClockState | undefined,
    private readonly realNow: () => number = Date.now,
  ) {
    this.realAnchorMs = realNow();
    this.simAnchorMs = Math.max(this.realAnchorMs, previous?.lastSimMs ?? 0);
  }

  /** Simulated milliseconds since the epoch. */
  nowMs(): number {
    return this.simAnchorMs + (this.realNow() - this.realAnchorMs) * this.timeScale;
  }

  /** Simulated unix seconds, as OpenAI reports timestamps. */
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Real milliseconds until the simulated clock reaches simMs. */
  realDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.nowMs()) / this.timeScale);
  }

  /** The real instant (ms since the epoch) at which the simulated clock reads (or read) simMs. */
  realMsAt(simMs: number): number {
    return this.realNow() + (simMs - this.nowMs()) / this.timeScale;
  }

  state(): ClockState {
    return { lastSimMs: Math.ceil(this.nowMs()) };
  }
}

export const toSec = (simMs: number): number => Math.floor(simMs / 1000);
