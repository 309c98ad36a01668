import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareEvalSet } from '../../../src/eval/prepare';
import { LocalStore } from '../../../src/store';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-prepare-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const chat = (q: string, a: string | null) => JSON.stringify({ messages: [{ role: 'user', content: q }, ...(a === null ? [] : [{ role: 'assistant', content: a }])] });

describe('prepareEvalSet', () => {
  it('writes prompt/reference rows, counts skipped lines and hashes what it wrote', async () => {
    const source = path.join(dir, 'valid.jsonl');
    await writeFile(source, [chat('q1', 'a1'), '{not json', chat('q2', null), '', chat('q3', 'a3')].join('\n') + '\n');
    const out = path.join(dir, 'eval', 'eval-set.jsonl');
    const prepared = await prepareEvalSet({ source, store: new LocalStore(dir), outKey: 'eval/eval-set.jsonl', seed: 1 });
    const text = await readFile(out, 'utf8');
    const rows = text.trim().split('\n').map((l) => JSON.parse(l) as { index: number; sourceLine: number; reference: string; prompt: unknown[] });
    expect(prepared).toMatchObject({ key: 'eval/eval-set.jsonl', examples: 2, skipped: 2, skippedReasons: { invalid_json: 1, no_assistant_text: 1 } });
    expect(prepared.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(rows.map((r) => [r.index, r.sourceLine, r.reference])).toEqual([
      [0, 1, 'a1'],
      [1, 5, 'a3'],
    ]);
    expect(rows[0]?.prompt).toEqual([{ role: 'user', content: 'q1' }]);
  });

  it('skips a 40 MB line as line_too_long and a line nested 100k deep as nesting_too_deep, keeping the lines around them', async () => {
    const source = path.join(dir, 'hostile.jsonl');
    const fd = openSync(source, 'w');
    writeSync(fd, `${chat('q1', 'a1')}\n{"messages":[{"role":"user","content":"`);
    const block = Buffer.alloc(1024 * 1024, 'a');
    for (let i = 0; i < 40; i++) writeSync(fd, block);
    writeSync(fd, `"},{"role":"assistant","content":"ok"}]}\n${'['.repeat(100_000)}${']'.repeat(100_000)}\n${chat('q4', 'a4')}\n`);
    closeSync(fd);
    const prepared = await prepareEvalSet({ source, store: new LocalStore(dir), outKey: 'hostile-set.jsonl', seed: 1 });
    expect(prepared).toMatchObject({ examples: 2, skipped: 2, skippedReasons: { line_too_long: 1, nesting_too_deep: 1 } });
    const rows = (await readFile(path.join(dir, prepared.key), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { sourceLine: number });
    expect(rows.map((r) => r.sourceLine)).toEqual([1, 4]);
  });

  it('subsamples maxExamples deterministically for a seed', async () => {
    const source = path.join(dir, 'many.jsonl');
    await writeFile(source, Array.from({ length: 40 }, (_, i) => chat(`q${i}`, `a${i}`)).join('\n'));
    const run = async (seed: number, name: string) => {
      const p = await prepareEvalSet({ source, store: new LocalStore(dir), outKey: name, maxExamples: 10, seed });
      return { p, text: await readFile(path.join(dir, p.key), 'utf8') };
    };
    const a = await run(5, 'a.jsonl');
    const b = await run(5, 'b.jsonl');
    const c = await run(6, 'c.jsonl');
    expect(a.p.examples).toBe(10);
    expect(a.text).toBe(b.text);
    expect(a.p.sha256).toBe(b.p.sha256);
    expect(c.text).not.toBe(a.text);
  });
});
