import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validationFailureMessage } from '../../../src/domain/dataset';
import { formatValidationReport, validateDatasetFile } from '../../../src/dataset';
import { exampleLines, fixture, tempDir } from './fixtures';

const tmp = tempDir('dataset-report');
afterAll(() => tmp.remove());

describe('validationFailureMessage', () => {
  it('is null for a valid report within budget', async () => {
    const report = await validateDatasetFile(fixture('good/basic.jsonl'), { model: 'gpt-4o-mini', budgetUsd: 100 });
    expect(report.overBudget).toBe(false);
    expect(validationFailureMessage(report)).toBeNull();
  });

  it('names the budget overrun with its figures, on the training split the pipeline will use', async () => {
    const report = await validateDatasetFile(fixture('good/basic.jsonl'), { model: 'gpt-4o-2024-08-06', validRatio: 0.2, seed: 42, budgetUsd: 0.01 });
    const split = report.cost.trainSplit;
    expect(split).toMatchObject({ examples: 16, epochs: 6 });
    expect(report.chargedTokens).toBe((split?.billingTokens ?? 0) * 6);
    expect(report.estimatedCostUsd).toBeCloseTo((report.chargedTokens * 25) / 1e6, 9);
    expect(report).toMatchObject({ valid: false, overBudget: true, errorCounts: {} });
    expect(validationFailureMessage(report)).toBe(
      `estimated training cost $${report.estimatedCostUsd.toFixed(2)} exceeds the budget of $0.01: ${report.chargedTokens} charged tokens ` +
        `(${split?.billingTokens} billing tokens × 6 epochs on the training split of 16 examples) at $25.00 per 1M tokens for gpt-4o-2024-08-06`,
    );
  });

  it('checks a budget given afterwards, and names errors before any budget', async () => {
    const valid = await validateDatasetFile(fixture('good/basic.jsonl'), { model: 'gpt-4o-mini' });
    expect(validationFailureMessage(valid, 1e-9)).toMatch(/^estimated training cost .* exceeds the budget/);
    const invalid = await validateDatasetFile(fixture('bad/invalid_json.jsonl'), { model: 'gpt-4o-mini', budgetUsd: 1e-9 });
    expect(validationFailureMessage(invalid)).toMatch(/^dataset has 1 error \(invalid_json ×1\): line 4 \[invalid_json\]/);
  });
});

describe('models outside the table (custom provider models)', () => {
  it('validates with generic facts and an unknown_model warning instead of failing', async () => {
    const report = await validateDatasetFile(fixture('good/basic.jsonl'), { model: 'acme-llm-7b', validRatio: 0.2, seed: 1 });
    expect(report).toMatchObject({ valid: true, model: 'acme-llm-7b', modelKnown: false, estimatedCostUsd: 0, tokens: { encoding: 'o200k_base', limitPerExample: null } });
    expect(report.cost.priceKnown).toBe(false);
    expect(report.warnings[0]).toMatchObject({ line: 0, code: 'unknown_model' });
  });

  it('refuses a budget it cannot check (budget_unverifiable)', async () => {
    const report = await validateDatasetFile(fixture('good/basic.jsonl'), { model: 'acme-llm-7b', budgetUsd: 10 });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ line: 0, code: 'budget_unverifiable' })]);
  });

  it('uses caller-supplied facts for a custom model', async () => {
    const report = await validateDatasetFile(fixture('good/basic.jsonl'), {
      model: 'acme-llm-7b',
      modelFacts: { model: 'acme-llm-7b', requested: 'acme-llm-7b', encoding: 'cl100k_base', tokenLimitPerExample: 8192, trainingUsdPerMillionTokens: 2, known: true },
      budgetUsd: 10,
    });
    expect(report).toMatchObject({ valid: true, overBudget: false, tokens: { encoding: 'cl100k_base' } });
    expect(report.estimatedCostUsd).toBeCloseTo((report.chargedTokens * 2) / 1e6, 9);
  });
});

describe('too_few_examples on the training side', () => {
  it('refuses 11 examples whose 80% training side falls under 10', async () => {
    const path = join(tmp.dir, 'eleven.jsonl');
    writeFileSync(path, exampleLines(11).join('\n'));
    expect((await validateDatasetFile(path, { model: 'gpt-4o-mini' })).valid).toBe(true);
    const split = await validateDatasetFile(path, { model: 'gpt-4o-mini', validRatio: 0.2, seed: 1 });
    expect(split.errors).toEqual([expect.objectContaining({ line: 0, code: 'too_few_examples', message: expect.stringContaining('training side') })]);
  });
});

describe('formatValidationReport', () => {
  it('groups errors by code with their first line numbers, then statistics, then cost', async () => {
    const path = join(tmp.dir, 'grouped.jsonl');
    writeFileSync(path, [...exampleLines(12), ...Array.from({ length: 8 }, () => '{'), '[]'].join('\n'));
    const text = formatValidationReport(await validateDatasetFile(path, { model: 'gpt-4o-mini' }));
    expect(text).toContain('Result   INVALID: 9 errors, 0 warnings');
    expect(text).toContain('  invalid_json ×8 (lines 13, 14, 15, 16, 17, …): the line is not valid JSON');
    expect(text).toContain('  data_type ×1 (line 21)');
    expect(text.indexOf('Errors (9)')).toBeLessThan(text.indexOf('Statistics'));
    expect(text.indexOf('Statistics')).toBeLessThan(text.indexOf('Cost (estimate'));
    expect(text).toContain('Refused: dataset has 9 errors');
  });

  it('says how many errors are counted but not listed', async () => {
    const path = join(tmp.dir, 'capped.jsonl');
    writeFileSync(path, [...exampleLines(10), ...Array.from({ length: 1005 }, () => '{')].join('\n'));
    const text = formatValidationReport(await validateDatasetFile(path, { model: 'gpt-4o-mini' }));
    expect(text).toContain('invalid_json ×1,005');
    expect(text).toContain('the list keeps the first 1,000 errors; 5 more are counted above but not listed');
  });
});
