import { describe, expect, it } from 'vitest';
import { MAX_ADAPTIVE_SECONDS, pollDelaySeconds, type PollDelayInput } from '../../src/domain/polling';

const NOW = 1_800_000_000;
const at = (over: Partial<PollDelayInput>): number =>
  pollDelaySeconds({ status: 'running', estimatedFinishSec: null, nowSec: NOW, baseSeconds: 30, webhooks: false, ...over });

describe('pollDelaySeconds without webhooks', () => {
  it('polls a job that waits for files, a slot or a resume at twice the run interval, up to a minute', () => {
    expect(at({ status: 'validating_files' })).toBe(60);
    expect(at({ status: 'queued' })).toBe(60);
    expect(at({ status: 'paused' })).toBe(60);
    expect(at({ status: 'queued', baseSeconds: 10 })).toBe(20);
    expect(at({ status: 'queued', baseSeconds: 1 })).toBe(2);
    expect(at({ status: 'queued', baseSeconds: 90 })).toBe(90);
  });

  it('polls a running job after a quarter of its estimated time left, at most every ten minutes', () => {
    expect(at({ estimatedFinishSec: NOW + 2 * 3600 })).toBe(MAX_ADAPTIVE_SECONDS);
    expect(at({ estimatedFinishSec: NOW + 1200 })).toBe(300);
    expect(at({ estimatedFinishSec: NOW + 200 })).toBe(50);
  });

  it('never waits less than the run interval, however close the estimate', () => {
    expect(at({ estimatedFinishSec: NOW + 40 })).toBe(30);
    expect(at({ estimatedFinishSec: NOW + 40, baseSeconds: 2 })).toBe(10);
  });

  it('polls at the run interval once past the estimate or without one', () => {
    expect(at({ estimatedFinishSec: NOW - 5 })).toBe(30);
    expect(at({ estimatedFinishSec: null })).toBe(30);
    expect(at({ status: 'unknown', estimatedFinishSec: NOW + 3600 })).toBe(30);
  });

  it('keeps a run interval longer than ten minutes', () => {
    expect(at({ estimatedFinishSec: NOW + 10 * 3600, baseSeconds: 3600 })).toBe(3600);
  });

  it('keeps a fractional run interval as it is', () => {
    expect(at({ estimatedFinishSec: null, baseSeconds: 0.5 })).toBe(0.5);
  });
});

describe('pollDelaySeconds with webhooks', () => {
  it('polls at the fallback pace while the job is far from its estimate or has none', () => {
    expect(at({ webhooks: true, estimatedFinishSec: NOW + 2 * 3600 })).toBe(600);
    expect(at({ webhooks: true, estimatedFinishSec: null })).toBe(600);
    expect(at({ webhooks: true, status: 'queued' })).toBe(600);
    expect(at({ webhooks: true, fallbackSeconds: 1800, estimatedFinishSec: NOW + 2 * 3600 })).toBe(1800);
  });

  it('never waits less than the run interval, even with a shorter fallback', () => {
    expect(at({ webhooks: true, fallbackSeconds: 10, baseSeconds: 3600 })).toBe(3600);
  });

  it('looks a minute after the estimate when the webhook is due, and every minute after that', () => {
    expect(at({ webhooks: true, estimatedFinishSec: NOW + 120 })).toBe(180);
    expect(at({ webhooks: true, estimatedFinishSec: NOW })).toBe(60);
    expect(at({ webhooks: true, estimatedFinishSec: NOW - 900 })).toBe(60);
    expect(at({ webhooks: true, estimatedFinishSec: NOW - 900, baseSeconds: 120 })).toBe(120);
  });

  it('polls far less often than without webhooks over a two-hour job', () => {
    const polls = (webhooks: boolean): number => {
      let t = 0;
      let n = 0;
      while (t < 7200) {
        n += 1;
        t += pollDelaySeconds({ status: 'running', estimatedFinishSec: NOW + 7200, nowSec: NOW + t, baseSeconds: 30, webhooks });
      }
      return n;
    };
    expect(polls(true)).toBeLessThan(polls(false));
    expect(polls(false)).toBeLessThan(7200 / 30 / 5);
  });
});
