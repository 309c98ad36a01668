import { describe, expect, it } from 'vitest';
import { countExampleTokens, TOKENS_PER_IMAGE_PART } from '../../../src/domain/dataset';
import { createTokenCounter } from '../../../src/dataset';

describe('token counter uses the model encoding', () => {
  it('counts known o200k_base and cl100k_base tokenisations', async () => {
    const o200k = await createTokenCounter('o200k_base');
    const cl100k = await createTokenCounter('cl100k_base');
    // tiktoken: o200k "hello world" = [24912, 2375]; cl100k "Hello, world!" = [9906, 11, 1917, 0]
    expect(o200k.count('hello world')).toBe(2);
    expect(cl100k.count('Hello, world!')).toBe(4);
    expect(o200k.count('What is the weather in Paris?')).toBe(7);
    expect(cl100k.count('get_weather')).toBe(2);
    expect(o200k.count('')).toBe(0);
  });

  it('counts special-token text as plain text instead of throwing', async () => {
    const o200k = await createTokenCounter('o200k_base');
    expect(o200k.count('<|endoftext|>')).toBe(7);
  });
});

describe('example token formula (reference: 3 per message, every value, 1 per name, 3 priming)', () => {
  it('hand-checks a two-message example: (3+1+2) + (3+1+2) + 3 = 15 tokens, 2 assistant tokens', async () => {
    const o200k = await createTokenCounter('o200k_base');
    // "user" and "assistant" are one token each in o200k_base; "hello world" is two.
    const example = { messages: [{ role: 'user', content: 'hello world' }, { role: 'assistant', content: 'hello world' }] };
    expect(countExampleTokens(example, o200k)).toEqual({ total: 15, assistant: 2 });
  });

  it('adds the name value plus one token, and ignores weight', async () => {
    const o200k = await createTokenCounter('o200k_base');
    const example = { messages: [{ role: 'user', name: 'name', content: 'hello world' }, { role: 'assistant', content: 'hello world', weight: 1 }] };
    // 15 + tokens("name") 1 + 1 for the name key
    expect(countExampleTokens(example, o200k).total).toBe(17);
  });

  it('counts tool calls and tools as compact JSON, content parts by text, images at a fixed estimate', async () => {
    const o200k = await createTokenCounter('o200k_base');
    const count = (s: string) => o200k.count(s);
    const toolCalls = [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }];
    const tools = [{ type: 'function', function: { name: 'get_weather' } }];
    const example = {
      tools,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hello world' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
        { role: 'assistant', content: null, tool_calls: toolCalls },
      ],
    };
    const expectedAssistant = count(JSON.stringify(toolCalls));
    const expectedTotal = 3 + count(JSON.stringify(tools)) + (3 + count('user') + 2 + TOKENS_PER_IMAGE_PART) + (3 + count('assistant') + expectedAssistant);
    expect(countExampleTokens(example, o200k)).toEqual({ total: expectedTotal, assistant: expectedAssistant });
  });
});
