import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validationFailureMessage } from '../../../src/domain/dataset';
import { validateDatasetFile } from '../../../src/dataset';
import { fixture } from './fixtures';

/** Every file of test/fixtures/dataset/bad: the error code it must produce and the line it is on (0: file). */
const BAD_CORPUS: { file: string; code: string; line: number; model?: string }[] = [
  { file: 'data_type.jsonl', code: 'data_type', line: 3 },
  { file: 'data_type_string.jsonl', code: 'data_type', line: 2 },
  { file: 'missing_messages_list.jsonl', code: 'missing_messages_list', line: 5 },
  { file: 'missing_messages_list_empty.jsonl', code: 'missing_messages_list', line: 4 },
  { file: 'message_missing_key.jsonl', code: 'message_missing_key', line: 2 },
  { file: 'message_missing_key_role.jsonl', code: 'message_missing_key', line: 6 },
  { file: 'message_missing_key_tool_call_id.jsonl', code: 'message_missing_key', line: 3 },
  { file: 'message_unrecognized_key.jsonl', code: 'message_unrecognized_key', line: 7 },
  { file: 'unrecognized_role.jsonl', code: 'unrecognized_role', line: 4 },
  { file: 'missing_content.jsonl', code: 'missing_content', line: 8 },
  { file: 'missing_content_null_user.jsonl', code: 'missing_content', line: 2 },
  { file: 'missing_content_number.jsonl', code: 'missing_content', line: 9 },
  { file: 'example_missing_assistant_message.jsonl', code: 'example_missing_assistant_message', line: 10 },
  { file: 'invalid_json.jsonl', code: 'invalid_json', line: 4 },
  { file: 'invalid_json_trailing_comma.jsonl', code: 'invalid_json', line: 11 },
  { file: 'invalid_utf8.jsonl', code: 'invalid_utf8', line: 6 },
  { file: 'invalid_weight.jsonl', code: 'invalid_weight', line: 5 },
  { file: 'invalid_weight_on_user.jsonl', code: 'invalid_weight', line: 3 },
  { file: 'invalid_content_part.jsonl', code: 'invalid_content_part', line: 6 },
  { file: 'invalid_content_part_image_in_assistant.jsonl', code: 'invalid_content_part', line: 2 },
  { file: 'invalid_tool_call.jsonl', code: 'invalid_tool_call', line: 7 },
  { file: 'invalid_tool_call_unanswered_id.jsonl', code: 'invalid_tool_call', line: 9 },
  { file: 'invalid_tools.jsonl', code: 'invalid_tools', line: 3 },
  { file: 'invalid_tools_parallel_flag.jsonl', code: 'invalid_tools', line: 12 },
  { file: 'invalid_name.jsonl', code: 'invalid_name', line: 4 },
  { file: 'too_few_examples.jsonl', code: 'too_few_examples', line: 0 },
  { file: 'example_too_long.jsonl', code: 'example_too_long', line: 6, model: 'gpt-3.5-turbo-0613' },
  { file: 'wrong_extension.jsonl.txt', code: 'invalid_file_extension', line: 0 },
];

describe('bad corpus: each file is refused with its code at its line', () => {
  it('lists every file of the corpus', () => {
    const onDisk = readdirSync(fixture('bad')).filter((f) => f !== 'mixed_errors.jsonl').sort();
    expect(BAD_CORPUS.map((c) => c.file).sort()).toEqual(onDisk);
  });

  it.each(BAD_CORPUS)('$file -> $code at line $line', async ({ file, code, line, model }) => {
    const report = await validateDatasetFile(fixture(`bad/${file}`), { model: model ?? 'gpt-4o-mini-2024-07-18' });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ line, code })]);
    expect(report.errorCounts).toEqual({ [code]: 1 });
    const refusal = validationFailureMessage(report);
    expect(refusal).toContain(`[${code}]`);
    if (line > 0) expect(refusal).toContain(`line ${line} [${code}]`);
  });

  it('reports several errors in file order with exact counts', async () => {
    const report = await validateDatasetFile(fixture('bad/mixed_errors.jsonl'), { model: 'gpt-4o-mini' });
    expect(report.errors.map((e) => [e.line, e.code])).toEqual([
      [2, 'invalid_json'],
      [5, 'missing_content'],
      [5, 'unrecognized_role'],
      [5, 'example_missing_assistant_message'],
      [10, 'data_type'],
    ]);
    expect(report.errorCounts).toEqual({ invalid_json: 1, missing_content: 1, unrecognized_role: 1, example_missing_assistant_message: 1, data_type: 1 });
    // Lines that are not JSON objects count as examples but stay out of the statistics.
    expect(report.examples).toBe(12);
    expect(report.stats.messagesPerExample).toMatchObject({ min: 2, max: 3 });
    expect(report.stats.tokensPerExample.min).toBeGreaterThan(3);
    expect(validationFailureMessage(report)).toBe(
      'dataset has 5 errors (data_type ×1, example_missing_assistant_message ×1, invalid_json ×1, missing_content ×1, unrecognized_role ×1): ' +
        'line 2 [invalid_json] the line is not valid JSON; line 5 [missing_content] messages[0].content is empty; ' +
        'line 5 [unrecognized_role] messages[1].role is not one of system, user, assistant, tool, function; and 2 more',
    );
  });

  it('turns example_too_long into a warning with --allow-truncation, still billing only up to the limit', async () => {
    const report = await validateDatasetFile(fixture('bad/example_too_long.jsonl'), { model: 'gpt-3.5-turbo-0613', allowTruncation: true });
    expect(report.valid).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ line: 6, code: 'example_too_long' })]);
    expect(report.stats.overTokenLimit).toBe(1);
    expect(report.tokens.billing).toBeLessThan(report.tokens.total);
    expect(report.tokens.total - report.tokens.billing).toBe(report.stats.tokensPerExample.max - 4096);
  });

  it('never echoes dataset content in error messages', async () => {
    const report = await validateDatasetFile(fixture('bad/unrecognized_role.jsonl'), { model: 'gpt-4o-mini' });
    expect(JSON.stringify(report.errors)).not.toContain('bot');
    const json = await validateDatasetFile(fixture('bad/invalid_json.jsonl'), { model: 'gpt-4o-mini' });
    expect(json.errors[0]?.message).not.toContain('role');
  });
});
