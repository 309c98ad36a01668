import type { DatasetIssueCode } from './codes';

/** One problem found in one example; the line number is added by the caller. */
export interface ExampleIssue {
  code: DatasetIssueCode;
  severity: 'error' | 'warning';
  /** Where in the example, e.g. messages[2].content; never the value. */
  field: string;
  message: string;
}

export interface ExampleCheck {
  issues: ExampleIssue[];
  /** The example as an object when it is one (even with other errors), for counting; else null. */
  example: Record<string, unknown> | null;
  messageCount: number;
  hasSystem: boolean;
  hasUser: boolean;
}

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool', 'function'] as const;
const ROLES = new Set<string>(MESSAGE_ROLES);
const MESSAGE_KEYS = new Set(['role', 'content', 'name', 'weight', 'function_call', 'tool_calls', 'tool_call_id']);
const EXAMPLE_KEYS = new Set(['messages', 'tools', 'parallel_tool_calls', 'functions']);
const IMAGE_DETAILS = new Set(['auto', 'low', 'high']);
// Key names are echoed to help fix a file, but bounded: a key is a field name, not content.
const MAX_ECHOED_KEYS = 3;
const MAX_ECHOED_KEY_LENGTH = 40;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function describeKeys(keys: string[]): string {
  const shown = keys.slice(0, MAX_ECHOED_KEYS).map((k) => JSON.stringify(k.length > MAX_ECHOED_KEY_LENGTH ? `${k.slice(0, MAX_ECHOED_KEY_LENGTH)}…` : k));
  return keys.length > MAX_ECHOED_KEYS ? `${shown.join(', ')} and ${keys.length - MAX_ECHOED_KEYS} more` : shown.join(', ');
}

function isFunctionDefinition(value: unknown): boolean {
  return isRecord(value) && isNonEmptyString(value.name) && (value.description === undefined || typeof value.description === 'string') && (value.parameters === undefined || isRecord(value.parameters));
}

function isToolDefinition(value: unknown): boolean {
  return isRecord(value) && value.type === 'function' && isFunctionDefinition(value.function);
}

function isFunctionCall(value: unknown): boolean {
  return isRecord(value) && isNonEmptyString(value.name) && typeof value.arguments === 'string';
}

function isToolCall(value: unknown): value is { id: string } {
  return isRecord(value) && isNonEmptyString(value.id) && value.type === 'function' && isFunctionCall(value.function);
}

/**
 * The format rules of one chat fine-tuning example: the reference notebook's checks, corrected for
 * the current chat format (tool role and tool_calls, content parts, legacy function calling), plus
 * weights. Pure; token limits, duplicates and PII are judged elsewhere.
 */
export function checkExample(value: unknown): ExampleCheck {
  const issues: ExampleIssue[] = [];
  const error = (code: DatasetIssueCode, field: string, message: string) => issues.push({ code, severity: 'error', field, message });
  const result: ExampleCheck = { issues, example: null, messageCount: 0, hasSystem: false, hasUser: false };

  if (!isRecord(value)) {
    error('data_type', '', `the line is ${Array.isArray(value) ? 'a JSON array' : value === null ? 'JSON null' : `a JSON ${typeof value}`}, not an object`);
    return result;
  }
  result.example = value;

  const extraKeys = Object.keys(value).filter((k) => !EXAMPLE_KEYS.has(k));
  if (extraKeys.length > 0) {
    issues.push({ code: 'example_unrecognized_key', severity: 'warning', field: '', message: `unrecognized top-level key(s) ${describeKeys(extraKeys)} (the provider may reject or ignore them)` });
  }
  if (value.tools !== undefined) {
    if (!Array.isArray(value.tools)) error('invalid_tools', 'tools', 'tools must be a list of {type:"function", function:{name, ...}}');
    else value.tools.forEach((tool, i) => { if (!isToolDefinition(tool)) error('invalid_tools', `tools[${i}]`, `tools[${i}] must be {type:"function", function:{name, description?, parameters?}}`); });
  }
  if (value.functions !== undefined) {
    if (!Array.isArray(value.functions)) error('invalid_tools', 'functions', 'functions must be a list of {name, description?, parameters?}');
    else value.functions.forEach((fn, i) => { if (!isFunctionDefinition(fn)) error('invalid_tools', `functions[${i}]`, `functions[${i}] must be {name, description?, parameters?}`); });
  }
  if (value.parallel_tool_calls !== undefined && typeof value.parallel_tool_calls !== 'boolean') {
    error('invalid_tools', 'parallel_tool_calls', 'parallel_tool_calls must be true or false');
  }

  const messages = value.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    error('missing_messages_list', 'messages', messages === undefined ? 'the example has no "messages" key' : Array.isArray(messages) ? '"messages" is an empty list' : '"messages" is not a list');
    return result;
  }
  result.messageCount = messages.length;

  let hasAssistant = false;
  const toolCallIds = new Set<string>();
  messages.forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(message)) {
      error('message_missing_key', at, `${at} is not an object with "role" and "content"`);
      return;
    }
    const role = message.role;
    const unknownKeys = Object.keys(message).filter((k) => !MESSAGE_KEYS.has(k));
    if (unknownKeys.length > 0) error('message_unrecognized_key', at, `${at} has unrecognized key(s) ${describeKeys(unknownKeys)}`);

    if (role === undefined) error('message_missing_key', `${at}.role`, `${at} has no "role"`);
    else if (typeof role !== 'string' || !ROLES.has(role)) error('unrecognized_role', `${at}.role`, `${at}.role is not one of ${MESSAGE_ROLES.join(', ')}`);
    if (role === 'system') result.hasSystem = true;
    if (role === 'user') result.hasUser = true;
    if (role === 'assistant') hasAssistant = true;

    // Tool and function calls.
    const hasToolCalls = message.tool_calls !== undefined && message.tool_calls !== null;
    const hasFunctionCall = message.function_call !== undefined && message.function_call !== null;
    if (hasToolCalls) {
      if (role !== 'assistant') error('invalid_tool_call', `${at}.tool_calls`, `${at}.tool_calls is only allowed on assistant messages`);
      else if (!Array.isArray(message.tool_calls) || message.tool_calls.length === 0) error('invalid_tool_call', `${at}.tool_calls`, `${at}.tool_calls must be a non-empty list`);
      else {
        message.tool_calls.forEach((call: unknown, j: number) => {
          if (isToolCall(call)) toolCallIds.add(call.id);
          else error('invalid_tool_call', `${at}.tool_calls[${j}]`, `${at}.tool_calls[${j}] must be {id, type:"function", function:{name, arguments (a JSON string)}}`);
        });
      }
    }
    if (hasFunctionCall) {
      if (role !== 'assistant') error('invalid_tool_call', `${at}.function_call`, `${at}.function_call is only allowed on assistant messages`);
      else if (!isFunctionCall(message.function_call)) error('invalid_tool_call', `${at}.function_call`, `${at}.function_call must be {name, arguments (a JSON string)}`);
    }
    if (role === 'tool') {
      if (message.tool_call_id === undefined) error('message_missing_key', `${at}.tool_call_id`, `${at} is a tool message without "tool_call_id"`);
      else if (!isNonEmptyString(message.tool_call_id)) error('invalid_tool_call', `${at}.tool_call_id`, `${at}.tool_call_id must be a non-empty string`);
      else if (!toolCallIds.has(message.tool_call_id)) error('invalid_tool_call', `${at}.tool_call_id`, `${at}.tool_call_id answers no earlier assistant tool call`);
    } else if (message.tool_call_id !== undefined) {
      error('invalid_tool_call', `${at}.tool_call_id`, `${at}.tool_call_id is only allowed on tool messages`);
    }
    if (role === 'function' && message.name === undefined) error('message_missing_key', `${at}.name`, `${at} is a function message without "name"`);
    if (message.name !== undefined && !isNonEmptyString(message.name)) error('invalid_name', `${at}.name`, `${at}.name must be a non-empty string`);

    // Content: text, a list of parts, or nothing only when the assistant calls a tool or function.
    const callsSomething = role === 'assistant' && (hasToolCalls || hasFunctionCall);
    const content = message.content;
    if (!('content' in message)) {
      if (!callsSomething) error('message_missing_key', `${at}.content`, `${at} has no "content"`);
    } else if (content === null || content === '') {
      if (!callsSomething) error('missing_content', `${at}.content`, `${at}.content is ${content === null ? 'null' : 'empty'}`);
    } else if (Array.isArray(content)) {
      checkContentParts(content, role, at, error);
    } else if (typeof content !== 'string') {
      error('missing_content', `${at}.content`, `${at}.content must be text or a list of content parts, not ${typeof content}`);
    }

    if (message.weight !== undefined) {
      if (role !== 'assistant') error('invalid_weight', `${at}.weight`, `${at}.weight is only allowed on assistant messages`);
      else if (message.weight !== 0 && message.weight !== 1) error('invalid_weight', `${at}.weight`, `${at}.weight must be 0 or 1`);
    }
  });

  if (!hasAssistant) error('example_missing_assistant_message', 'messages', 'the example has no assistant message');
  return result;
}

function checkContentParts(parts: unknown[], role: unknown, at: string, error: (code: DatasetIssueCode, field: string, message: string) => void): void {
  if (parts.length === 0) {
    error('missing_content', `${at}.content`, `${at}.content is an empty list`);
    return;
  }
  let usable = 0;
  parts.forEach((part, k) => {
    const field = `${at}.content[${k}]`;
    if (isRecord(part) && part.type === 'text') {
      if (typeof part.text !== 'string') error('invalid_content_part', field, `${field} is a text part without a string "text"`);
      else if (part.text.length > 0) usable++;
    } else if (isRecord(part) && part.type === 'image_url') {
      const image = part.image_url;
      if (role !== 'user') error('invalid_content_part', field, `${field} is an image, allowed only in user messages`);
      else if (!isRecord(image) || !isNonEmptyString(image.url) || (image.detail !== undefined && !IMAGE_DETAILS.has(String(image.detail)))) {
        error('invalid_content_part', field, `${field} must be {type:"image_url", image_url:{url, detail?: auto|low|high}}`);
      } else usable++;
    } else {
      error('invalid_content_part', field, `${field} is not a text or image_url part`);
    }
  });
  if (usable === 0 && parts.every((p) => isRecord(p) && p.type === 'text' && typeof p.text === 'string')) {
    error('missing_content', `${at}.content`, `${at}.content has only empty text parts`);
  }
}
