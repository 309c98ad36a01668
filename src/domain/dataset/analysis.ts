import type { DatasetIssueCode } from './codes';
import { checkExample } from './example-checks';
import type { ModelFacts } from './models';
import { scanExampleForPii, type PiiCounts } from './pii';
import { countExampleTokens, type ExampleTokenCount, type TokenCounter } from './tokens';

/** Why a line could not be read as far as a JSON value. */
export type UnreadableLineCode = 'invalid_utf8' | 'invalid_json' | 'line_too_long' | 'nesting_too_deep';

/** A line-level finding before it is placed in the report. */
export interface LineIssue {
  code: DatasetIssueCode;
  severity: 'error' | 'warning';
  message: string;
}

/** Everything the report needs to know about one line; compact, so it can cross a worker boundary. */
export interface LineAnalysis {
  line: number;
  /** blank: skipped; unreadable: not UTF-8, not JSON, too long, or not a JSON object; example: an object. */
  kind: 'blank' | 'unreadable' | 'example';
  issues: LineIssue[];
  messageCount: number;
  hasSystem: boolean;
  hasUser: boolean;
  /** Counted when the line is a JSON object; 0 otherwise. */
  totalTokens: number;
  assistantTokens: number;
  /** Four 32-bit words of the example's content hash (set by the I/O side), or null. */
  hash: [number, number, number, number] | null;
  pii: PiiCounts | null;
}

export function blankLineAnalysis(line: number): LineAnalysis {
  return { line, kind: 'blank', issues: [], messageCount: 0, hasSystem: false, hasUser: false, totalTokens: 0, assistantTokens: 0, hash: null, pii: null };
}

export function unreadableLineAnalysis(line: number, code: UnreadableLineCode, message: string): LineAnalysis {
  return { ...blankLineAnalysis(line), kind: 'unreadable', issues: [{ code, severity: 'error', message }] };
}

/** An example's format checks, before its tokens are counted; `example` is null when it cannot be counted. */
export interface CheckedLine {
  analysis: LineAnalysis;
  example: Record<string, unknown> | null;
}

/** Format checks of one parsed line (the first half of analyseExample). */
export function checkLineExample(value: unknown, line: number): CheckedLine {
  const check = checkExample(value);
  const analysis: LineAnalysis = {
    line,
    kind: check.example === null ? 'unreadable' : 'example',
    issues: check.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message })),
    messageCount: check.messageCount,
    hasSystem: check.hasSystem,
    hasUser: check.hasUser,
    totalTokens: 0,
    assistantTokens: 0,
    hash: null,
    pii: null,
  };
  return { analysis, example: check.example };
}

/** The token limit counting may stop at: past it the example is too long whatever the rest holds. */
export function tokenCountingLimit(facts: ModelFacts): number {
  return facts.tokenLimitPerExample ?? Infinity;
}

/** The second half: the token count against the model's limit (an error, or a warning when truncation is allowed) and the PII screen. */
export function finishExampleAnalysis(
  checked: CheckedLine & { example: Record<string, unknown> },
  tokens: ExampleTokenCount,
  facts: ModelFacts,
  allowTruncation: boolean,
): LineAnalysis {
  const { analysis, example } = checked;
  analysis.totalTokens = tokens.total;
  analysis.assistantTokens = tokens.assistant;
  const limit = facts.tokenLimitPerExample;
  if (limit !== null && tokens.total > limit) {
    analysis.issues.push({
      code: 'example_too_long',
      severity: allowTruncation ? 'warning' : 'error',
      // "At least": counting stops once past the limit.
      message: `the example has at least ~${tokens.total} tokens, over the ${limit}-token per-example limit of ${facts.model}${allowTruncation ? ' (it will be truncated)' : ''}`,
    });
  }
  analysis.pii = scanExampleForPii(example);
  return analysis;
}

/**
 * Judges one parsed line: format checks, token count against the model's limit (an error, or a
 * warning when truncation is allowed), and the PII screen. The content hash is left to the caller.
 */
export function analyseExample(value: unknown, line: number, facts: ModelFacts, counter: TokenCounter, allowTruncation: boolean): LineAnalysis {
  const checked = checkLineExample(value, line);
  if (checked.example === null) return checked.analysis;
  const tokens = countExampleTokens(checked.example, counter, tokenCountingLimit(facts));
  return finishExampleAnalysis({ ...checked, example: checked.example }, tokens, facts, allowTruncation);
}
