// The Together adapter's pure rules: status vocabulary, run tags in the suffix, option problems, create parameters.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { BadRequestError, NotFoundError, RateLimitError } from 'together-ai';
import { describe, expect, it } from 'vitest';
import { isTerminalJobStatus } from '../../src/domain/stages';
import {
  classifyTogetherError,
  decodeRunTag,
  encodeRunTag,
  taggedSuffix,
  TOGETHER_SUFFIX_MAX,
  togetherCreateParams,
  togetherOptionProblems,
  togetherStatusToTuneflow,
  workflowIdOfUpload,
} from '../../src/provider/together';

const FINGERPRINT = 'a3f1c2d4e5b60718293a4b5c6d7e8f90';

describe('Together statuses', () => {
  it("maps every status of Together's spec to tuneflow's vocabulary, terminal only when Together is done", () => {
    const mapped = Object.fromEntries(
      ['pending', 'queued', 'running', 'compressing', 'uploading', 'cancel_requested', 'cancelled', 'error', 'completed'].map((s) => [s, togetherStatusToTuneflow(s)]),
    );
    expect(mapped).toEqual({
      pending: 'queued',
      queued: 'queued',
      running: 'running',
      compressing: 'running',
      uploading: 'running',
      cancel_requested: 'running',
      cancelled: 'cancelled',
      error: 'failed',
      completed: 'succeeded',
    });
    const terminal = Object.entries(mapped).filter(([, t]) => isTerminalJobStatus(t)).map(([s]) => s);
    expect(terminal.sort()).toEqual(['cancelled', 'completed', 'error']);
  });

  it('treats a status Together adds later as still running, never as an end', () => {
    expect(isTerminalJobStatus(togetherStatusToTuneflow('some_new_status'))).toBe(false);
  });
});

describe('run tags in the suffix', () => {
  it('reads back the exact run id and fingerprint from the suffix, and from the output name when the suffix is not echoed', () => {
    const runId = randomUUID();
    const tag = encodeRunTag({ runId, fingerprint: FINGERPRINT }) ?? '';
    const suffix = taggedSuffix('support', tag);
    expect(decodeRunTag(suffix)).toEqual({ runId, fingerprint: FINGERPRINT });
    expect(decodeRunTag(tag)).toEqual({ runId, fingerprint: FINGERPRINT });
    expect(decodeRunTag(`${taggedSuffix(undefined, encodeRunTag({ runId, fingerprint: null }) ?? '')}`)).toEqual({ runId, fingerprint: null });
    expect(decodeRunTag('support')).toBeNull();
    expect(decodeRunTag(null)).toBeNull();
  });

  it("fits Together's 64-character suffix with the largest suffix a user may give", () => {
    const tag = encodeRunTag({ runId: 'ffffffff-ffff-4fff-bfff-ffffffffffff', fingerprint: 'f'.repeat(32) }) ?? '';
    const room = togetherOptionProblems({ model: 'a/b', suffix: 'x'.repeat(11) });
    expect(room).toEqual([]);
    expect(taggedSuffix('x'.repeat(11), tag).length).toBeLessThanOrEqual(TOGETHER_SUFFIX_MAX);
    expect(togetherOptionProblems({ model: 'a/b', suffix: 'x'.repeat(12) })[0]).toMatch(/^suffix: .*keep the suffix to 11 characters/);
  });

  it('cannot tag a run whose id is not a UUID', () => {
    expect(encodeRunTag({ runId: 'run-1', fingerprint: null })).toBeNull();
  });

  it('finds the workflow id in the name tuneflow uploads a split file under', () => {
    expect(workflowIdOfUpload('tuneflow-ft-support-20260101-0102-ab12-train-0123456789abcdef.jsonl')).toBe('ft-support-20260101-0102-ab12');
    expect(workflowIdOfUpload('train.jsonl')).toBeNull();
  });
});

describe('options Together lacks', () => {
  it('names each option Together cannot take, in one sentence', () => {
    const problems = togetherOptionProblems({
      model: 'gpt-4o-mini-2024-07-18',
      hyperparameters: { learning_rate_multiplier: 0.1, n_epochs: 'auto', batch_size: 'auto', pause_after_steps: 10, lora: false, lora_r: 8 },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^model: "gpt-4o-mini-2024-07-18" is not a Together model id/),
      expect.stringMatching(/^hyperparameters\.learning_rate_multiplier: Together takes an absolute learning_rate/),
      expect.stringMatching(/^hyperparameters\.n_epochs: Together has no "auto"/),
      expect.stringMatching(/^hyperparameters\.batch_size: Together has no "auto"\. Use "max" or a number\./),
      expect.stringMatching(/^hyperparameters\.pause_after_steps: not an option of Together fine-tuning/),
      expect.stringMatching(/^hyperparameters\.lora_r: only applies to LoRA/),
    ]);
  });

  it('has no problem with Together options, LoRA ones included', () => {
    const hyperparameters = { n_epochs: 3, batch_size: 'max', learning_rate: 2e-5, lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_trainable_modules: 'all-linear' };
    expect(togetherOptionProblems({ model: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference', suffix: 'support', hyperparameters })).toEqual([]);
  });

  it('asks for a checkpoint per epoch, each evaluated, with the LoRA settings given', () => {
    const spec = {
      model: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference',
      trainingFileId: 'file-t',
      validationFileId: 'file-v',
      seed: 7,
      hyperparameters: { n_epochs: 3, batch_size: 16, learning_rate: 2e-5, lora_r: 16, lora_alpha: 32 },
      tags: { workflowId: 'wf', runId: randomUUID(), fingerprint: null },
    };
    expect(togetherCreateParams(spec, 'tfx')).toEqual({
      model: spec.model,
      training_file: 'file-t',
      validation_file: 'file-v',
      suffix: 'tfx',
      random_seed: 7,
      n_epochs: 3,
      n_checkpoints: 3,
      n_evals: 3,
      batch_size: 16,
      learning_rate: 2e-5,
      training_type: { type: 'Lora', lora_r: 16, lora_alpha: 32 },
    });
    expect(togetherCreateParams({ ...spec, hyperparameters: { lora: false } }, 'tfx').training_type).toEqual({ type: 'Full' });
  });
});

describe('error classification', () => {
  const headers = new Headers({ 'retry-after': '3' });
  it('makes refusals and bad requests non-retryable with the provider message, and throttling retryable after retry-after', () => {
    const bad = classifyTogetherError(new BadRequestError(400, { error: { message: 'Invalid batch_size', type: 'invalid_request_error', code: null } }, undefined, headers), 'Creating the job') as ApplicationFailure;
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect(bad).toMatchObject({ nonRetryable: true, type: 'BadRequestError' });
    expect(bad.message).toMatch(/^Creating the job failed: provider answered 400: Invalid batch_size — Together rejected/);
    const missing = classifyTogetherError(new NotFoundError(404, { error: { message: 'nope', type: 'x', code: 'not_found' } }, undefined, headers), 'Fetching') as ApplicationFailure;
    expect(missing).toMatchObject({ nonRetryable: true, type: 'NotFoundError' });
    const busy = classifyTogetherError(new RateLimitError(429, { error: { message: 'slow down', type: 'x' } }, undefined, headers), 'Listing') as ApplicationFailure;
    expect(busy).toMatchObject({ nonRetryable: false, type: 'RateLimitError', nextRetryDelay: 3000 });
  });
});
