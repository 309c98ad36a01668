import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { afterAll, describe, expect, it } from 'vitest';
import { createTokenCounter, splitDatasetFile, validateDatasetFile } from '../../../src/dataset';
import { DatasetFileError } from '../../../src/dataset/errors';
import { exampleLines, tempDir } from './fixtures';

const tmp = tempDir('dataset-hostile');
afterAll(() => tmp.remove());

/** Seeded lowercase letters: one pre-token as long as the text, the tokenizer's worst case. */
function letters(n: number, seed = 7): string {
  let x = seed;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = String.fromCharCode(97 + ((x >> 8) % 26));
  }
  return out.join('');
}

const chat = (content: string) => JSON.stringify({ messages: [{ role: 'user', content }, { role: 'assistant', content: 'ok' }] });

describe('hostile lines', () => {
  it('validates a 1 MB line without spaces in seconds, and its finding names the line', async () => {
    const path = join(tmp.dir, 'one-mb-line.jsonl');
    writeFileSync(path, [...exampleLines(5), chat(letters(1 << 20)), ...exampleLines(5, 100)].join('\n') + '\n');
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini-2024-07-18' });
    expect(report.errors).toEqual([expect.objectContaining({ line: 6, code: 'example_too_long' })]);
    expect(report.errors[0]?.message).toContain('over the 65536-token per-example limit');
    expect(report.examples).toBe(11);
  }, 20_000);

  it('reports a line nested 100k deep as nesting_too_deep with its line number, not a stack overflow', async () => {
    const path = join(tmp.dir, 'deep.jsonl');
    const deep = `{"messages":[{"role":"user","content":${'['.repeat(100_000)}${']'.repeat(100_000)}},{"role":"assistant","content":"ok"}]}`;
    writeFileSync(path, [...exampleLines(3), deep, ...exampleLines(7, 100)].join('\n') + '\n');
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini-2024-07-18' });
    expect(report.errors).toEqual([expect.objectContaining({ line: 4, code: 'nesting_too_deep' })]);
    expect(report.errorCounts).toEqual({ nesting_too_deep: 1 });
  });

  it('counts brackets inside strings as text, not nesting', async () => {
    const path = join(tmp.dir, 'brackets-in-strings.jsonl');
    writeFileSync(path, [...exampleLines(9), chat(`${'['.repeat(500)} \\" ${'{'.repeat(500)}`)].join('\n') + '\n');
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini-2024-07-18' });
    expect(report.errorCounts).toEqual({});
  });

  it('refuses to split a file with a deeply nested line, naming the line and the code', async () => {
    const path = join(tmp.dir, 'deep-split.jsonl');
    const deep = `{"messages":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    writeFileSync(path, [...exampleLines(10), deep].join('\n') + '\n');
    const err = await splitDatasetFile(path, { outDir: join(tmp.dir, 'split'), seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetFileError);
    expect((err as Error).message).toContain('line 11 [nesting_too_deep]');
  });
});

describe('token counting of long texts', () => {
  it('counts long natural text in pieces to exactly the whole-text count, in both encodings', async () => {
    const sample = readFileSync('data/sample/support-conversations.jsonl', 'utf8').trim().split('\n');
    const texts = sample.flatMap((l) => (JSON.parse(l) as { messages: { content: string }[] }).messages.map((m) => m.content));
    // Prose, newlines and compact JSON (punctuation runs without spaces), ~430 KB.
    const long = `${texts.join(' ')}${texts.join('\n')}${JSON.stringify(sample.map((l) => JSON.parse(l) as unknown))}`;
    const plain = { disallowedSpecial: new Set<string>() };
    expect((await createTokenCounter('o200k_base')).count(long)).toBe(countO200k(long, plain));
    expect((await createTokenCounter('cl100k_base')).count(long)).toBe(countCl100k(long, plain));
  });

  it('stops counting soon after the budget is passed', async () => {
    const counter = await createTokenCounter('o200k_base');
    const whole = counter.count(letters(200_000, 3));
    const capped = counter.count(letters(200_000, 3), 1_000);
    expect(capped).toBeGreaterThan(1_000);
    expect(capped).toBeLessThan(2_000);
    expect(whole).toBeGreaterThan(20_000);
  });
});
