import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { withProgressHeartbeat } from '../../../src/activities/heartbeat';

function environment(): { env: MockActivityEnvironment; beats: unknown[] } {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  return { env, beats };
}

describe('progress heartbeats of a long activity', () => {
  it('heartbeats at once and on a timer while the work waits, each time with the latest figures, and stops when the work ends', async () => {
    const { env, beats } = environment();
    const result = await env.run(() =>
      withProgressHeartbeat(
        { bytesRead: 0, bytes: 100 },
        async (reporter) => {
          reporter.update({ bytesRead: 40 });
          // The work is busy elsewhere (a slow read, a slow peer): the timer keeps beating.
          await sleep(200);
          reporter.update({ bytesRead: 100 });
          return 'done';
        },
        20,
      ),
    );
    expect(result).toBe('done');
    expect(beats[0]).toEqual({ bytesRead: 0, bytes: 100 });
    expect(beats.filter((b) => JSON.stringify(b) === JSON.stringify({ bytesRead: 40, bytes: 100 })).length).toBeGreaterThan(1);
    const after = beats.length;
    await sleep(100);
    expect(beats.length).toBe(after);
  });

  it('stops the work at its next progress report once the activity is cancelled', async () => {
    const { env } = environment();
    let reached = 0;
    const run = env.run(() =>
      withProgressHeartbeat({ lines: 0 }, async (reporter) => {
        for (let lines = 1; lines <= 50; lines++) {
          reached = lines;
          reporter.update({ lines });
          if (lines === 3) env.cancel();
          await sleep(1);
        }
      }),
    );
    await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    expect(reached).toBe(4);
  });
});
