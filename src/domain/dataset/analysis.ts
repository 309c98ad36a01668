import type { DatasetIssueCode } from './codes';
import { checkExample } from './example-checks';
import type { ModelFacts } from './models';
import { scanExampleForPii, type PiiCounts } from './pii';
import { countExampleTokens, type TokenCounter } from './tokens';

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

/**
 * Judges one parsed line: format checks, token count against the model's limit (an error, or a
 * warning when truncation is allowed), and the PII screen. The content hash is left to the caller.
 */
export function analyseExample(value: unknown, line: number, facts: ModelFacts, counter: TokenCounter, allowTruncation: boolean): LineAnalysis {
  const check = checkExample(value);
  const issues: LineIssue[] = check.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message }));
  const analysis: LineAnalysis = {
    line,
    kind: 'example',
    issues,
    messageCount: check.messageCount,
    hasSystem: check.hasSystem,
    hasUser: check.hasUser,
    totalTokens: 0,
    assistantTokens: 0,
    hash: null,
    pii: null,
  };
  if (check.example === null) return { ...analysis, kind: 'unreadable' };
  const tokens = countExampleTokens(check.example, counter);
  analysis.totalTokens = tokens.total;
  analysis.assistantTokens = tokens.assistant;
  const limit = facts.tokenLimitPerExample;
  if (limit !== null && tokens.total > limit) {
    issues.push({
      code: 'example_too_long',
      severity: allowTruncation ? 'warning' : 'error',
      message: `the example has ~${tokens.total} tokens, over the ${limit}-token per-example limit of ${facts.model}${allowTruncation ? ' (it will be truncated)' : ''}`,
    });
  }
  analysis.pii = scanExampleForPii(check.example);
  return analysis;
}
