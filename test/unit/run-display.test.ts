import { describe, expect, it } from 'vitest';
import { remainingAtPace, renderRunDisplay, type RunDisplayInput } from '../../src/cli/run-display';
import type { PipelineProgress } from '../../src/domain/pipeline';

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);

function progress(over: Partial<PipelineProgress> = {}): PipelineProgress {
  return {
    workflowId: 'ft-support-1',
    stage: 'training',
    jobId: 'ftjob-abc',
    jobStatus: 'running',
    fineTunedModel: null,
    latest: { step: 120, trainLoss: 0.4123, validLoss: 0.455, fullValidLoss: null, totalSteps: 300 },
    counts: { examples: 240, trainExamples: 192, validExamples: 48, events: 40, polls: 12, checkpoints: 1, evalExamplesDone: 0, evalExamplesTotal: null },
    estimatedFinish: null,
    error: null,
    ...over,
  };
}

const view = (p: PipelineProgress | null, over: Partial<RunDisplayInput> = {}) =>
  renderRunDisplay({ workflowId: 'ft-support-1', progress: p, nowMs: T0 + 42_000, startedMs: T0, columns: 100, ...over });

describe('the live run display', () => {
  it('draws the stage, a training bar filled to the share of steps done, the split, the losses and the elapsed time', () => {
    expect(view(progress())).toEqual([
      'tuneflow ft-support-1 · 42s elapsed',
      '  stage       training (5 of 8) · job ftjob-abc running',
      '  data        240 examples → 192 train / 48 valid',
      `  training    ${'█'.repeat(12)}${'░'.repeat(18)}  120/300 steps  40%`,
      '  evaluation  not started',
      '  losses      train 0.412 · valid 0.455 · full valid –',
      '  ETA         not known yet',
    ]);
  });

  it('shows the step count without a bar while the provider has not said how many steps there will be', () => {
    const lines = view(progress({ latest: { step: 7, trainLoss: 1.2, validLoss: null, fullValidLoss: null, totalSteps: null } }));
    expect(lines).toContain('  training    step 7 (total not reported yet)');
  });

  it('draws the evaluation bar from the examples done, with the training bar full and the pace-based time left', () => {
    const p = progress({ stage: 'evaluating', latest: { step: 300, trainLoss: 0.2, validLoss: 0.3, fullValidLoss: 0.31, totalSteps: 300 }, counts: { ...progress().counts, evalExamplesDone: 36, evalExamplesTotal: 144 } });
    const lines = view(p, { left: { training: null, evaluation: 95_000 } });
    expect(lines).toContain(`  training    ${'█'.repeat(30)}  300/300 steps  100%`);
    expect(lines).toContain(`  evaluation  ${'█'.repeat(8)}${'░'.repeat(22)}  36/144 examples  25%`);
    expect(lines).toContain('  ETA         evaluation ~1m 35s left');
  });

  it("gives the provider's estimated finish as a clock time and a countdown", () => {
    const lines = view(progress({ estimatedFinish: (T0 + 42_000 + 200_000) / 1000 }), { left: { training: 125_000, evaluation: null } });
    const eta = lines.find((l) => l.startsWith('  ETA'));
    expect(eta).toMatch(/^ {2}ETA {9}training ~2m 05s left at this pace · provider estimates \d\d:\d\d:\d\d \(in 3m 20s\)$/);
  });

  it('says when no worker answers, and what a person must do when the run waits for them', () => {
    expect(view(null, { note: 'No worker answered the progress query; start one with `tuneflow worker`.' })).toEqual([
      'tuneflow ft-support-1 · 42s elapsed',
      '  stage       No worker answered the progress query; start one with `tuneflow worker`.',
    ]);
    const waiting = view(progress({ waitingFor: 'the provider refused the API key (401)' }));
    expect(waiting).toContain('  ! waiting   the provider refused the API key (401) (then: tuneflow resume ft-support-1)');
  });

  it('keeps every line within the terminal width and shortens the bars on a narrow terminal', () => {
    const lines = view(progress({ providerUnreachableSince: '2026-11-21T10:00:05.000Z', providerError: 'connect ECONNREFUSED 127.0.0.1:8787' }), { columns: 60 });
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines.find((l) => l.startsWith('  training'))).toMatch(/^ {2}training {4}█{8}░{12} {2}120\/300 steps {2}40%$/);
    expect(lines.at(-1)).toMatch(/^ {2}! provider {2}unreachable since 2026-11-21T10:00:05\.000Z \(c…$/);
  });
});

describe('the time left at the watched pace', () => {
  it('extrapolates the rate seen since the count was first seen', () => {
    expect(remainingAtPace({ atMs: 0, done: 100 }, 150, 300, 10_000)).toBe(30_000);
  });

  it('is unknown without a total or before the count has moved', () => {
    expect(remainingAtPace({ atMs: 0, done: 100 }, 150, null, 10_000)).toBeNull();
    expect(remainingAtPace({ atMs: 0, done: 100 }, 100, 300, 10_000)).toBeNull();
  });
});
