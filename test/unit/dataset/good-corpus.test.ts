import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validationFailureMessage } from '../../../src/domain/dataset';
import { validateDatasetFile } from '../../../src/dataset';
import { fixture } from './fixtures';

describe('good corpus passes', () => {
  it.each(['basic.jsonl', 'bom_crlf.jsonl', 'no_final_newline.jsonl', 'tools_weights_parts.jsonl'])('%s has no errors and no warnings', async (file) => {
    const report = await validateDatasetFile(fixture(`good/${file}`), { model: 'gpt-4o-mini-2024-07-18' });
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.valid).toBe(true);
    expect(validationFailureMessage(report)).toBeNull();
  });

  it('accepts a UTF-8 BOM and CRLF endings as if they were absent', async () => {
    const crlf = await validateDatasetFile(fixture('good/bom_crlf.jsonl'), { model: 'gpt-4o-mini' });
    expect(readFileSync(fixture('good/bom_crlf.jsonl')).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(crlf.examples).toBe(12);
    expect(crlf.stats.tokensPerExample.min).toBeGreaterThan(0);
  });

  it('accepts tool calls with null or absent content, tool and function roles, weights, content parts, names', async () => {
    const report = await validateDatasetFile(fixture('good/tools_weights_parts.jsonl'), { model: 'gpt-4o-mini' });
    expect(report.examples).toBe(12);
    expect(report.stats.messagesPerExample).toMatchObject({ min: 2, max: 5 });
    expect(report.stats.missingUser).toBe(0);
    expect(report.stats.missingSystem).toBe(8); // only the tool round trips and tutor examples have one
  });

  it('skips blank and whitespace-only lines with a blank_line warning, not as examples', async () => {
    const report = await validateDatasetFile(fixture('good/blank_lines.jsonl'), { model: 'gpt-4o-mini' });
    expect(report.valid).toBe(true);
    expect(report.examples).toBe(12);
    expect(report.lines).toBe(14);
    expect(report.blankLines).toBe(2);
    expect(report.warnings.map((w) => [w.line, w.code])).toEqual([
      [4, 'blank_line'],
      [9, 'blank_line'],
    ]);
  });

  it('warns about exact duplicates naming both lines, and about unknown top-level keys', async () => {
    const report = await validateDatasetFile(fixture('good/warnings_only.jsonl'), { model: 'gpt-4o-mini' });
    expect(report.valid).toBe(true);
    const duplicates = report.warnings.filter((w) => w.code === 'duplicate_example');
    expect(duplicates.map((w) => w.line)).toEqual([6, 10]);
    expect(duplicates[0]?.message).toContain('line 2');
    expect(report.duplicates).toEqual({ groups: 1, duplicateExamples: 2, keptTogetherInSplit: 1, leakage: 0 });
    expect(report.warnings).toContainEqual(expect.objectContaining({ line: 16, code: 'example_unrecognized_key' }));
    expect(report.warningCounts).toEqual({ duplicate_example: 2, pii_email: 1, pii_phone: 1, pii_payment_card: 1, example_unrecognized_key: 1 });
  });

  it('reports the statistics and cost of the whole file by default', async () => {
    const report = await validateDatasetFile(fixture('good/basic.jsonl'), { model: 'gpt-4o-mini' });
    expect(report.model).toBe('gpt-4o-mini-2024-07-18');
    expect(report.requestedModel).toBe('gpt-4o-mini');
    expect(report.examples).toBe(20);
    expect(report.stats.missingSystem).toBe(0);
    expect(report.stats.messagesPerExample).toEqual({ min: 3, max: 3, mean: 3, median: 3, p10: 3, p90: 3 });
    expect(report.cost.basis).toBe('whole_file');
    expect(report.epochs).toBe(5); // 100 // 20
    expect(report.tokens.billing).toBe(report.tokens.total);
    expect(report.chargedTokens).toBe(report.tokens.billing * 5);
    expect(report.estimatedCostUsd).toBeCloseTo((report.chargedTokens * 3) / 1e6, 9);
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.bytes).toBe(readFileSync(fixture('good/basic.jsonl')).length);
  });
});
