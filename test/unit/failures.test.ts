import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { assertReadableFile, nonRetryable } from '../../src/activities/failures';

describe('activity failures', () => {
  it('refuses a missing input file without retry, naming the file and what it was for', async () => {
    const err = await assertReadableFile('/nonexistent/data.jsonl', 'Dataset', 'DatasetNotFound').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('DatasetNotFound');
    expect((err as ApplicationFailure).message).toBe('Dataset /nonexistent/data.jsonl does not exist or cannot be read by the worker');
  });

  it('lets a readable file through', async () => {
    await expect(assertReadableFile('package.json', 'Eval file', 'EvalFileNotFound')).resolves.toBeUndefined();
  });

  it('keeps the original error as the cause of a refusal', () => {
    const cause = new Error('underlying');
    expect(nonRetryable('refused', 'X', cause).cause).toBe(cause);
    expect(nonRetryable('refused', 'X', 'not an error').cause).toBeUndefined();
  });
});
