import type { AnswerScores } from './metrics';

/** A judge's answer for one order of a pair, and the candidate's outcome over both orders (rules in judge.ts). */
export type JudgeVerdict = 'A' | 'B' | 'tie';
export type JudgeOutcome = 'win' | 'tie' | 'loss';

/** A chat message as it appears in a training line, restricted to what a chat completion accepts. */
export interface PromptMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | Array<{ type: string; text?: string; [key: string]: unknown }> | null;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
}

/** One row of eval-set.jsonl. */
export interface EvalExample {
  /** Position in the eval set, 0-based; batches are ranges of it. */
  index: number;
  /** 1-based line in the source file, to trace an example back. */
  sourceLine: number;
  /** The messages before the last assistant message. */
  prompt: PromptMessage[];
  /** The last assistant message's text. */
  reference: string;
}

/** Both judge calls for one candidate against the base, and their combination. */
export interface JudgeRecord {
  /** Verdict when the candidate was shown as A. */
  candidateFirst: JudgeVerdict | null;
  /** Verdict when the base was shown as A. */
  baseFirst: JudgeVerdict | null;
  outcome: JudgeOutcome | null;
  /** 1 win, 0.5 tie, 0 loss; null when either verdict could not be read. */
  score: number | null;
}

/** One candidate's answer to one example. */
export interface CandidateAnswer {
  /** null when no usable answer came back (see `error`). */
  text: string | null;
  scores: AnswerScores | null;
  /** Why the answer is missing: a per-example refusal by the provider, never a transient fault. */
  error?: { kind: 'content_filter' | 'empty_response' | 'invalid_request'; message: string; code?: string };
  finishReason?: string | null;
  usage?: { promptTokens: number; completionTokens: number };
  latencyMs?: number;
  /** Present for non-base candidates when a judge model is set. */
  judge?: JudgeRecord;
}

/** One line of a batch results file: every candidate's answer to one example. */
export interface BatchResultRow {
  index: number;
  /**
   * Fingerprint of the example and the sampling settings the answers were made with; a resumed
   * batch reuses a row only when it matches, so files left by an earlier run under the same id are redone.
   */
  key?: string;
  answers: Record<string, CandidateAnswer>;
}

/** One line of the merged results.jsonl: a batch row joined with its example. */
export interface ExampleResultRow extends BatchResultRow {
  sourceLine: number;
  prompt: PromptMessage[];
  reference: string;
}

export type ExtractExampleResult =
  | { ok: true; prompt: PromptMessage[]; reference: string }
  | { ok: false; reason: 'not_an_object' | 'no_messages' | 'no_assistant_text' | 'no_prompt' };

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/** The text of a message's content: a string, or the text parts of a content array joined. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '',
    )
    .join('');
}

/** Keeps only the fields a chat completion request accepts (drops training-only ones like `weight`). */
function toPromptMessage(raw: Record<string, unknown>): PromptMessage {
  const message: PromptMessage = {
    role: raw.role as PromptMessage['role'],
    content: (typeof raw.content === 'string' || Array.isArray(raw.content) ? raw.content : null) as PromptMessage['content'],
  };
  if (typeof raw.name === 'string') message.name = raw.name;
  if (Array.isArray(raw.tool_calls)) message.tool_calls = raw.tool_calls;
  if (typeof raw.tool_call_id === 'string') message.tool_call_id = raw.tool_call_id;
  return message;
}

/**
 * Splits one chat line into the prompt (everything before the last assistant message) and the
 * reference (that message's text). Lines without an assistant text answer cannot be scored.
 */
export function extractEvalExample(line: unknown): ExtractExampleResult {
  if (!line || typeof line !== 'object' || Array.isArray(line)) return { ok: false, reason: 'not_an_object' };
  const messages = (line as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0) return { ok: false, reason: 'no_messages' };
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown } | null;
    if (m && typeof m === 'object' && m.role === 'assistant') {
      last = i;
      break;
    }
  }
  if (last < 0) return { ok: false, reason: 'no_assistant_text' };
  const reference = messageText((messages[last] as { content?: unknown }).content);
  if (reference.trim().length === 0) return { ok: false, reason: 'no_assistant_text' };
  const prompt = messages
    .slice(0, last)
    .filter((m: unknown): m is Record<string, unknown> => !!m && typeof m === 'object' && ROLES.has(String((m as { role?: unknown }).role)))
    .map(toPromptMessage);
  if (prompt.length === 0) return { ok: false, reason: 'no_prompt' };
  return { ok: true, prompt, reference };
}

/** The last user turn's text, for tables; falls back to the last message of any role. */
export function lastUserText(prompt: readonly PromptMessage[]): string {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const m = prompt[i] as PromptMessage;
    if (m.role === 'user') return messageText(m.content);
  }
  const last = prompt[prompt.length - 1];
  return last ? messageText(last.content) : '';
}

export type { AnswerScores };
