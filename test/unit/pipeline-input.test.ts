import { describe, expect, it } from 'vitest';
import { resolvePipelineInput } from '../../src/domain/pipeline';
import { uploadFilename } from '../../src/activities/provider-jobs';
import { defaultWorkflowId } from '../../src/starter';

describe('pipeline input', () => {
  it('fills defaults: seed 42, an 80/20 split, 30 s polls', () => {
    const r = resolvePipelineInput({ datasetPath: '/d.jsonl', model: 'gpt-4o-mini-2024-07-18' });
    expect(r.seed).toBe(42);
    expect(r.validRatio).toBe(0.2);
    expect(r.pollIntervalSeconds).toBe(30);
    expect(r.eval.compare).toEqual([]);
  });

  it('rejects bad input naming the field', () => {
    expect(() => resolvePipelineInput({ datasetPath: '/d.jsonl', model: 'm', validRatio: 1.5 })).toThrow(/validRatio/);
    expect(() => resolvePipelineInput({ datasetPath: '/d.jsonl', model: 'm', eval: { compare: [], batchSize: 0 } })).toThrow(/eval\.batchSize/);
    expect(() => resolvePipelineInput({ datasetPath: '/d.jsonl', model: 'm', typo: 1 } as never)).toThrow(/Invalid pipeline input/);
  });
});

describe('names that make provider calls idempotent', () => {
  it('names an upload by run, role and content hash, so a retry finds the first upload', () => {
    const sha = 'a'.repeat(64);
    expect(uploadFilename('ft-x-1', 'train', sha)).toBe(`tuneflow-ft-x-1-train-${'a'.repeat(16)}.jsonl`);
    expect(uploadFilename('ft-x-1', 'valid', sha)).not.toBe(uploadFilename('ft-x-1', 'train', sha));
  });

  it('makes a readable default workflow id from the dataset name and the time', () => {
    const id = defaultWorkflowId('/data/My Support.jsonl', new Date('2026-11-21T10:20:30Z'));
    expect(id).toMatch(/^ft-My-Support-20261121-102030-[0-9a-f]{4}$/);
  });
});
