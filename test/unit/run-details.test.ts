import { describe, expect, it } from 'vitest';
import type { PipelineProgress } from '../../src/domain/pipeline';
import { currentDetails, humanDuration, pollSummary, pollWaitSummary } from '../../src/domain/run-details';

const progress: PipelineProgress = {
  workflowId: 'ft-x',
  stage: 'training',
  jobId: 'ftjob-abc',
  jobStatus: 'running',
  fineTunedModel: null,
  latest: { step: 240, trainLoss: 0.41234, validLoss: 0.5, fullValidLoss: null, totalSteps: 800 },
  counts: { examples: 120, trainExamples: 96, validExamples: 24, events: 340, polls: 12, checkpoints: 0, evalExamplesDone: 0, evalExamplesTotal: null },
  estimatedFinish: 1_800_000_000 + 1380,
  error: null,
};

describe('what the Temporal UI shows of a run', () => {
  it('names each poll by its job, status and step, and each wait by its length', () => {
    expect(pollSummary('ftjob-abc', 'running', 240)).toBe('poll ftjob-abc (running, step 240)');
    expect(pollSummary('ftjob-abc', null, null)).toBe('poll ftjob-abc (queued)');
    expect(pollWaitSummary(30, false)).toBe('wait 30 s');
    expect(pollWaitSummary(600, true)).toBe('wait 10 min or a webhook');
    expect(humanDuration(7500)).toBe('2 h 5 min');
  });

  it('follows the stage, step, losses and ETA in the current details', () => {
    const text = currentDetails(progress, 1_800_000_000 * 1000, { line: 'support-bot' });
    expect(text.split('\n')).toEqual([
      '**Training** · line `support-bot`',
      '',
      '- dataset: 120 examples (96 train / 24 validation)',
      '- job: `ftjob-abc` (running, step 240 of 800)',
      '- loss: train 0.4123 · validation 0.5000 · full validation —',
      '- ETA: 2027-01-15T08:23:00Z (in 23 min)',
      '- polls 12 · events 340 · checkpoints 0',
    ]);
  });

  it('says what a person must do when the run waits for one', () => {
    const text = currentDetails({ ...progress, stage: 'awaiting_approval', jobStatus: 'succeeded' }, 0, { approvalHint: 'Approve: `tuneflow approve ft-x`' });
    expect(text).toContain('**Waiting for a person to approve or reject**');
    expect(text).toContain('Approve: `tuneflow approve ft-x`');
    expect(text).not.toContain('ETA');
  });
});
