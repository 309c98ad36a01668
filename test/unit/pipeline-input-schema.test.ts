import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { resolvePipelineInput, type PipelineInput } from '../../src/domain/pipeline';
import { pipelineInputJsonSchema, SCHEMA_FILE, schemaFileText } from '../../scripts/write-schema';

const minimal = { datasetPath: '/data/support.jsonl', model: 'gpt-4o-mini-2024-07-18' };
const full = {
  ...minimal,
  seed: 7,
  validRatio: 0.25,
  suffix: 'support-v2',
  hyperparameters: { n_epochs: 3, batch_size: 'auto', learning_rate_multiplier: 1.8, n_checkpoints: 3 },
  budgetUsd: 25,
  allowTruncation: true,
  line: 'support-bot',
  approval: 'required',
  approvalTimeoutSeconds: 86_400,
  pollIntervalSeconds: 10,
  continueAsNewAfterPolls: 500,
  eval: { evalFile: '/data/eval.jsonl', maxExamples: 100, compare: ['gpt-4.1-mini-2025-04-14'], judgeModel: 'gpt-4.1', minImprovement: 0.02, batchSize: 20, concurrency: 8, maxTokens: 1024, batchesPerWorkflowRun: 100 },
};

// What a caller might send, each with the verdict both checks must agree on.
const table: Array<[string, unknown, boolean]> = [
  ['a minimal input (dataset and model)', minimal, true],
  ['a full input with every field', full, true],
  ['an s3:// dataset', { ...minimal, datasetPath: 's3://bucket/data/support.jsonl' }, true],
  ['Together LoRA hyperparameters', { ...minimal, hyperparameters: { n_epochs: 'auto', batch_size: 'max', learning_rate: 0.0001, lora: true, lora_r: 16, lora_alpha: 32, lora_dropout: 0.05, lora_trainable_modules: 'all-linear' } }, true],
  ['an eval block with only some fields', { ...minimal, eval: { compare: [] } }, true],
  ['no model', { datasetPath: '/data/support.jsonl' }, false],
  ['an empty dataset path', { ...minimal, datasetPath: '' }, false],
  ['an unknown field', { ...minimal, datsetPath: '/typo.jsonl' }, false],
  ['an unknown hyperparameter', { ...minimal, hyperparameters: { epochs: 3 } }, false],
  ['an unknown eval field', { ...minimal, eval: { compare: [], judge: 'gpt-4.1' } }, false],
  ['a seed that is text', { ...minimal, seed: '42' }, false],
  ['a seed that is not an integer', { ...minimal, seed: 1.5 }, false],
  ['allowTruncation as text', { ...minimal, allowTruncation: 'yes' }, false],
  ['a validation ratio of 1', { ...minimal, validRatio: 1 }, false],
  ['a validation ratio of 0', { ...minimal, validRatio: 0 }, false],
  ['51 epochs', { ...minimal, hyperparameters: { n_epochs: 51 } }, false],
  ['a poll interval over an hour', { ...minimal, pollIntervalSeconds: 3601 }, false],
  ['an eval concurrency of 33', { ...minimal, eval: { concurrency: 33 } }, false],
  ['a suffix of 65 characters', { ...minimal, suffix: 'x'.repeat(65) }, false],
  ['a line name with upper-case letters', { ...minimal, line: 'Support-Bot' }, false],
  ['a line name with a slash', { ...minimal, line: 'support/bot' }, false],
  ['a line name starting with a dash', { ...minimal, line: '-support' }, false],
  ['an approval value other than none or required', { ...minimal, approval: 'auto' }, false],
  ['an approval timeout of 0', { ...minimal, approvalTimeoutSeconds: 0 }, false],
  ['a batch size of "min"', { ...minimal, hyperparameters: { batch_size: 'min' } }, false],
  ['not an object', ['/data/support.jsonl'], false],
];

function starterAccepts(input: unknown): boolean {
  try {
    resolvePipelineInput(input as PipelineInput);
    return true;
  } catch {
    return false;
  }
}

describe('the JSON Schema of the pipeline input (schema/pipeline-input.schema.json)', () => {
  it('is what `npm run schema` writes from the zod schema now', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '(missing)');
    expect(committed, 'schema/pipeline-input.schema.json differs from PipelineInputSchema: run `npm run schema` and commit the file').toBe(schemaFileText());
  });

  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(pipelineInputJsonSchema());

  it.each(table)('agrees with the starter on %s', (_name, input, valid) => {
    expect(starterAccepts(input)).toBe(valid);
    expect(validate(input), JSON.stringify(validate.errors)).toBe(valid);
  });

  it('describes what callers send: only the dataset and model are required, defaults are shown', () => {
    const schema = pipelineInputJsonSchema() as { required: string[]; properties: Record<string, { default?: unknown }> };
    expect(schema.required).toEqual(['datasetPath', 'model']);
    const resolved = resolvePipelineInput(minimal);
    for (const field of ['seed', 'validRatio', 'allowTruncation', 'approval', 'approvalTimeoutSeconds', 'pollIntervalSeconds', 'eval'] as const) {
      expect(schema.properties[field]?.default, field).toEqual(resolved[field]);
    }
  });
});
