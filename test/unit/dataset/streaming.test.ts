import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateDatasetFile } from '../../../src/dataset';
import { readLineBatches } from '../../../src/dataset/line-reader';
import { exampleLines, tempDir } from './fixtures';

const tmp = tempDir('dataset-streaming');
afterAll(() => tmp.remove());

describe('streaming reader', () => {
  it('reassembles lines split across read chunks, multi-byte characters included', async () => {
    // ~700 KB lines of 3-byte characters: 1 MB chunk boundaries fall inside lines and inside characters.
    const long = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `${i} ${'€'.repeat(230_000)}` }, { role: 'assistant', content: 'ok' }] });
    const path = join(tmp.dir, 'long-lines.jsonl');
    writeFileSync(path, [long(1), long(2), long(3), long(4)].join('\n') + '\n');
    const lines: { line: number; length: number; text: string }[] = [];
    for await (const batch of readLineBatches(path)) for (const raw of batch) lines.push({ line: raw.line, length: raw.length, text: raw.bytes?.toString('utf8') ?? '' });
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4]);
    expect(lines.map((l) => l.text)).toEqual([long(1), long(2), long(3), long(4)]);
  });

  it('keeps exact error counts past the capped error list and says how many were not listed', async () => {
    const path = join(tmp.dir, 'many-errors.jsonl');
    writeFileSync(path, [...exampleLines(10), ...Array.from({ length: 2500 }, () => '{"messages": oops}')].join('\n'));
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini' });
    expect(report.examples).toBe(2510);
    expect(report.errorCounts).toEqual({ invalid_json: 2500 });
    expect(report.errors).toHaveLength(1000);
    expect(report.errors[999]?.line).toBe(1010);
    expect(report.errorsOmitted).toBe(1500);
    expect(report.issueListLimit).toBe(1000);
  });

  it('refuses a line longer than 32 MiB without buffering it, and goes on counting lines', async () => {
    const path = join(tmp.dir, 'huge-line.jsonl');
    const fd = openSync(path, 'w');
    writeSync(fd, `${exampleLines(5).join('\n')}\n`);
    writeSync(fd, '{"messages":[{"role":"user","content":"');
    const block = Buffer.alloc(1024 * 1024, 'a');
    for (let i = 0; i < 33; i++) writeSync(fd, block);
    writeSync(fd, '"}]}\n');
    writeSync(fd, `${exampleLines(5, 100).join('\n')}\n`);
    closeSync(fd);
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini' });
    expect(report.errors).toEqual([expect.objectContaining({ line: 6, code: 'line_too_long' })]);
    expect(report.examples).toBe(11);
    expect(report.lines).toBe(11);
  });

  it('refuses a file over 512 MB without reading its lines', async () => {
    const path = join(tmp.dir, 'too-large.jsonl');
    const fd = openSync(path, 'w');
    // Sparse: one byte at 513 MB.
    writeSync(fd, Buffer.from('\n'), 0, 1, 513 * 1024 * 1024);
    closeSync(fd);
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini' });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ line: 0, code: 'file_too_large' })]);
    expect(report.examples).toBe(0);
    expect(report.bytes).toBe(513 * 1024 * 1024 + 1);
  });

  it('throws a DatasetFileError for a missing file or a directory', async () => {
    await expect(validateDatasetFile(join(tmp.dir, 'nope.jsonl'), { model: 'gpt-4o-mini' })).rejects.toMatchObject({ name: 'DatasetFileError', code: 'file_not_found' });
    await expect(validateDatasetFile(tmp.dir, { model: 'gpt-4o-mini' })).rejects.toMatchObject({ code: 'not_a_file' });
  });
});
