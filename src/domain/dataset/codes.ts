/**
 * Stable issue codes of dataset validation. The first seven carry the meaning they have in OpenAI's
 * chat fine-tuning data-prep notebook; the rest are tuneflow's. Codes are API: never rename one.
 */

export const DATASET_ERROR_CODES = [
  // File level (line 0).
  'file_too_large',
  'invalid_file_extension',
  'too_few_examples',
  'budget_unverifiable',
  // Line level, before the example can be read.
  'invalid_utf8',
  'invalid_json',
  'line_too_long',
  'nesting_too_deep',
  // The reference notebook's codes.
  'data_type',
  'missing_messages_list',
  'message_missing_key',
  'message_unrecognized_key',
  'unrecognized_role',
  'missing_content',
  'example_missing_assistant_message',
  // Past the reference.
  'invalid_content_part',
  'invalid_tool_call',
  'invalid_tools',
  'invalid_name',
  'invalid_weight',
  'example_too_long',
] as const;

export const DATASET_WARNING_CODES = [
  'blank_line',
  'duplicate_example',
  'example_too_long',
  'example_unrecognized_key',
  'unknown_model',
  'pii_email',
  'pii_phone',
  'pii_payment_card',
] as const;

export type DatasetErrorCode = (typeof DATASET_ERROR_CODES)[number];
export type DatasetWarningCode = (typeof DATASET_WARNING_CODES)[number];
export type DatasetIssueCode = DatasetErrorCode | DatasetWarningCode;

/** One sentence per code, for the readable report and the docs. */
export const DATASET_CODE_DESCRIPTIONS: Record<DatasetIssueCode, string> = {
  file_too_large: 'the file is larger than the 512 MB a training file may have',
  invalid_file_extension: 'the file name does not end in .jsonl',
  too_few_examples: 'fewer than 10 examples (in the file, or on the training side of the split)',
  budget_unverifiable: 'a budget was set but the model has no known training price',
  invalid_utf8: 'the line is not valid UTF-8',
  invalid_json: 'the line is not valid JSON',
  line_too_long: 'the line is longer than the reader accepts (no example that long can be trained)',
  nesting_too_deep: 'the line nests JSON objects and arrays deeper than any chat example needs',
  data_type: 'the line is JSON but not a JSON object',
  missing_messages_list: 'the example has no non-empty "messages" list',
  message_missing_key: 'a message is not an object, or lacks "role", "content", (tool messages) "tool_call_id" or (function messages) "name"',
  message_unrecognized_key: 'a message has a key the chat format does not know',
  unrecognized_role: 'a message role is not system, user, assistant, tool or function',
  missing_content: 'a message has empty or non-text content (allowed only for assistant tool or function calls)',
  example_missing_assistant_message: 'the example has no assistant message to learn from',
  invalid_content_part: 'a content part is not {type:"text",text} or (user) {type:"image_url",image_url:{url}}',
  invalid_tool_call: 'tool_calls, function_call or tool_call_id is malformed or on the wrong role',
  invalid_tools: 'top-level tools, functions or parallel_tool_calls is malformed',
  invalid_name: 'a message "name" that is not a non-empty string',
  invalid_weight: 'a weight that is not 0 or 1, or a weight on a non-assistant message',
  example_too_long: "the example is over the base model's per-example token limit and would be truncated",
  blank_line: 'a blank or whitespace-only line, skipped (not an example)',
  duplicate_example: 'the example is an exact duplicate of an earlier line',
  example_unrecognized_key: 'the example has a top-level key other than messages, tools, parallel_tool_calls, functions',
  unknown_model: 'the model is not in the model table: token limit and price unknown, o200k_base assumed',
  pii_email: 'the example appears to contain an email address',
  pii_phone: 'the example appears to contain a phone number',
  pii_payment_card: 'the example appears to contain a payment card number (Luhn-valid)',
};

/** File-level issues carry this line number. */
export const FILE_LEVEL_LINE = 0;
