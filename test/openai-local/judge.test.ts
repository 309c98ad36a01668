import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJudgeMessages, parseJudgeVerdict } from '../../src/domain/eval/judge';
import { startBackend, type Backend } from '../helpers/stack';

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(async () => {
  await backend?.dispose();
});

async function judge(answerA: string, answerB: string) {
  const res = await backend.openai.chat.completions.create({
    model: 'gpt-4.1-2025-04-14',
    temperature: 0,
    messages: buildJudgeMessages({
      prompt: [{ role: 'user', content: 'Where is my order?' }],
      reference: 'Order NW-123456 left our warehouse and will arrive within 2 business days.',
      answerA,
      answerB,
    }),
  });
  return parseJudgeVerdict(res.choices[0]?.message.content ?? '');
}

describe('a base model of the local backend asked to judge two answers', () => {
  const close = 'Your order NW-123456 left the warehouse and arrives within 2 business days.';
  const generic = 'Thanks for reaching out! Could you share more details?';

  it('prefers the answer closer to the reference, in either position', async () => {
    expect(await judge(close, generic)).toBe('A');
    expect(await judge(generic, close)).toBe('B');
  });

  it('calls two equally distant answers a tie', async () => {
    expect(await judge(generic, generic)).toBe('tie');
  });

  it('still answers ordinary prompts generically', async () => {
    const res = await backend.openai.chat.completions.create({ model: 'gpt-4.1-2025-04-14', messages: [{ role: 'user', content: 'Which is better, [[A]] or [[B]]?' }] });
    expect(res.choices[0]?.message.content).not.toMatch(/\[\[/);
  });
});
