/** Lets a long synchronous loop give the event loop a turn (heartbeats, other runs' tasks) every slice. */
export interface EventLoopPacer {
  /** True once the current slice has run its time. */
  due(): boolean;
  /** Yields to the event loop (setImmediate) and starts a new slice. */
  pause(): Promise<void>;
}

/** ~50 ms slices keep the loop's longest block near 100 ms even when one step runs long. */
export const DEFAULT_SLICE_MS = 50;

export function createEventLoopPacer(sliceMs = DEFAULT_SLICE_MS): EventLoopPacer {
  let sliceStart = performance.now();
  return {
    due: () => performance.now() - sliceStart >= sliceMs,
    pause: async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    },
  };
}
