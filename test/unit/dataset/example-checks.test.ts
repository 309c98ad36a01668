import { describe, expect, it } from 'vitest';
import { checkExample } from '../../../src/domain/dataset';

const codesOf = (value: unknown) => checkExample(value).issues.map((i) => [i.field, i.code]);
const user = { role: 'user', content: 'hi' };
const assistant = { role: 'assistant', content: 'hello' };

describe('example format rules', () => {
  it('passes the current chat format where the reference notebook wrongly fails', () => {
    const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } };
    expect(codesOf({ messages: [user, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }, assistant] })).toEqual([]);
    expect(codesOf({ messages: [user, { role: 'assistant', tool_calls: [call] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }, assistant] })).toEqual([]);
    expect(codesOf({ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], parallel_tool_calls: true, messages: [user, assistant] })).toEqual([]);
    expect(codesOf({ messages: [{ role: 'user', name: 'ann', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } }] }, assistant] })).toEqual([]);
    expect(codesOf({ functions: [{ name: 'f' }], messages: [user, { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } }, { role: 'function', name: 'f', content: '1' }, assistant] })).toEqual([]);
    expect(codesOf({ messages: [user, { ...assistant, weight: 0 }, user, { ...assistant, weight: 1 }] })).toEqual([]);
  });

  it('reports every problem of a message, each at its field', () => {
    expect(codesOf({ messages: [{ role: 'narrator', content: '', extra: 1 }, assistant] })).toEqual([
      ['messages[0]', 'message_unrecognized_key'],
      ['messages[0].role', 'unrecognized_role'],
      ['messages[0].content', 'missing_content'],
    ]);
    expect(codesOf({ messages: ['hi', assistant] })).toEqual([['messages[0]', 'message_missing_key']]);
  });

  it('allows empty or null content only on assistant messages that call a tool or function', () => {
    expect(codesOf({ messages: [user, { role: 'assistant', content: null }] })).toEqual([['messages[1].content', 'missing_content']]);
    expect(codesOf({ messages: [user, { role: 'assistant' }] })).toEqual([['messages[1].content', 'message_missing_key']]);
    expect(codesOf({ messages: [user, { role: 'assistant', content: [] }] })).toEqual([['messages[1].content', 'missing_content']]);
    expect(codesOf({ messages: [user, { role: 'assistant', content: [{ type: 'text', text: '' }] }] })).toEqual([['messages[1].content', 'missing_content']]);
  });

  it('checks tool-call structure, role and pairing', () => {
    expect(codesOf({ messages: [user, { role: 'user', content: 'x', tool_calls: [] }, assistant] })).toEqual([['messages[1].tool_calls', 'invalid_tool_call']]);
    expect(codesOf({ messages: [user, { role: 'assistant', content: null, tool_calls: [] }] })).toEqual([['messages[1].tool_calls', 'invalid_tool_call']]);
    expect(codesOf({ messages: [{ role: 'tool', tool_call_id: 'c9', content: 'x' }, assistant] })).toEqual([['messages[0].tool_call_id', 'invalid_tool_call']]);
    expect(codesOf({ messages: [{ ...user, tool_call_id: 'c1' }, assistant] })).toEqual([['messages[0].tool_call_id', 'invalid_tool_call']]);
    expect(codesOf({ messages: [user, { role: 'assistant', function_call: { name: 'f' } }] })).toEqual([['messages[1].function_call', 'invalid_tool_call']]);
    expect(codesOf({ messages: [user, { role: 'function', content: '1' }, assistant] })).toEqual([['messages[1].name', 'message_missing_key']]);
  });

  it('checks weights, names, tools and image parts', () => {
    expect(codesOf({ messages: [user, { ...assistant, weight: true }] })).toEqual([['messages[1].weight', 'invalid_weight']]);
    expect(codesOf({ messages: [{ ...user, name: '' }, assistant] })).toEqual([['messages[0].name', 'invalid_name']]);
    expect(codesOf({ tools: [{ type: 'function', function: {} }], messages: [user, assistant] })).toEqual([['tools[0]', 'invalid_tools']]);
    expect(codesOf({ functions: 'f', messages: [user, assistant] })).toEqual([['functions', 'invalid_tools']]);
    expect(codesOf({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x', detail: 'ultra' } }] }, assistant] })).toEqual([['messages[0].content[0]', 'invalid_content_part']]);
  });

  it('warns on unknown top-level keys and reports example-level errors', () => {
    const check = checkExample({ id: 7, messages: [user] });
    expect(check.issues.map((i) => [i.code, i.severity])).toEqual([
      ['example_unrecognized_key', 'warning'],
      ['example_missing_assistant_message', 'error'],
    ]);
    expect(codesOf(null)).toEqual([['', 'data_type']]);
    expect(codesOf({ messages: {} })).toEqual([['messages', 'missing_messages_list']]);
  });

  it('notes the statistics the report needs', () => {
    expect(checkExample({ messages: [{ role: 'system', content: 's' }, user, assistant] })).toMatchObject({ messageCount: 3, hasSystem: true, hasUser: true });
    expect(checkExample({ messages: [assistant] })).toMatchObject({ messageCount: 1, hasSystem: false, hasUser: false });
  });
});
