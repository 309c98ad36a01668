// What the backend keeps of a training file for answering: bounded in count and in characters, whatever the file holds.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataset, MAX_KEPT_CHARS, MAX_KEPT_PROMPT_CHARS, MAX_KEPT_REPLY_CHARS } from '../../src/openai-local/datasets';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openai-local-kept-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples kept for answering', () => {
  it('keeps the end of long prompts and the start of long replies, and stops keeping at the character budget while still counting every example', async () => {
    const file = join(dir, 'long.jsonl');
    const out = createWriteStream(file);
    const examples = Math.ceil(MAX_KEPT_CHARS / (MAX_KEPT_PROMPT_CHARS + MAX_KEPT_REPLY_CHARS)) + 500;
    for (let i = 0; i < examples; i++) {
      const prompt = `${'context '.repeat(400)}question ${i}?`;
      const reply = `answer ${i} ${'detail '.repeat(600)}`;
      if (!out.write(`${JSON.stringify({ messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: reply }] })}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');

    const checked = await checkDataset(file, 'training_file');
    if (!checked.ok) throw new Error(checked.error.message);
    expect(checked.summary.count).toBe(examples);
    const kept = checked.summary.examples;
    expect(kept.length).toBeLessThan(examples);
    const chars = kept.reduce((n, e) => n + e.prompt.length + e.reply.length, 0);
    expect(chars).toBeLessThan(MAX_KEPT_CHARS + MAX_KEPT_PROMPT_CHARS + MAX_KEPT_REPLY_CHARS);
    expect(kept[7]?.prompt.length).toBe(MAX_KEPT_PROMPT_CHARS);
    expect(kept[7]?.prompt.endsWith('question 7?')).toBe(true);
    expect(kept[7]?.reply.length).toBe(MAX_KEPT_REPLY_CHARS);
    expect(kept[7]?.reply.startsWith('answer 7 ')).toBe(true);
  });
});
