import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { validateDatasetFile } from '../../../src/dataset';
import { fixture } from './fixtures';

function documentedSchema(): object {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/dataset-validation.md', import.meta.url)), 'utf8');
  const block = /<!-- validation-report-schema:start -->\s*```json\n([\s\S]*?)```\s*<!-- validation-report-schema:end -->/.exec(doc);
  if (!block?.[1]) throw new Error('docs/dataset-validation.md has no report schema block');
  return JSON.parse(block[1]) as object;
}

describe('the JSON report matches the schema documented in docs/dataset-validation.md', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(documentedSchema());

  it.each([
    ['good/tools_weights_parts.jsonl', { model: 'gpt-4o-mini' }],
    ['good/warnings_only.jsonl', { model: 'gpt-4o-mini', validRatio: 0.2, seed: 42, budgetUsd: 1 }],
    ['bad/mixed_errors.jsonl', { model: 'gpt-3.5-turbo' }],
    ['good/basic.jsonl', { model: 'my-custom-model', budgetUsd: 2 }],
  ])('%s with %o', async (file, opts) => {
    const report = JSON.parse(JSON.stringify(await validateDatasetFile(fixture(file), opts))) as unknown;
    const ok = validate(report);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });
});
