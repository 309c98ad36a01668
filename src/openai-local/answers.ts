// Simulated model answers: base models reply generically, fine-tuned models retrieve their nearest training example.
import { hash01 } from './random';
import type { Example } from './types';

const STOP = new Set(['the', 'a', 'an', 'to', 'of', 'and', 'or', 'is', 'are', 'i', 'you', 'my', 'me', 'it', 'in', 'on', 'for', 'do', 'can', 'how', 'what']);

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1 && !STOP.has(t));
}

/** IDF-weighted cosine over token sets of the prompts, built once per fine-tuned job. */
export class ExampleIndex {
  private readonly idf = new Map<string, number>();
  private readonly sets: Set<string>[];
  private readonly norms: number[];

  constructor(readonly examples: Example[]) {
    this.sets = examples.map((e) => new Set(tokenize(e.prompt)));
    const df = new Map<string, number>();
    for (const s of this.sets) for (const t of s) df.set(t, (df.get(t) ?? 0) + 1);
    // Tokens shared by every example (a common system prompt) get weight ~0 and stop dominating similarity.
    for (const [t, n] of df) this.idf.set(t, Math.log((examples.length + 1) / n));
    this.norms = this.sets.map((s) => Math.sqrt([...s].reduce((sum, t) => sum + (this.idf.get(t) ?? 0) ** 2, 0)));
  }

  /** Similarity of the query to every example, in example order. */
  scores(query: string): number[] {
    const q = new Set(tokenize(query));
    const qNorm = Math.sqrt([...q].reduce((sum, t) => sum + (this.idf.get(t) ?? 0) ** 2, 0));
    return this.sets.map((s, i) => {
      let dot = 0;
      for (const t of q) if (s.has(t)) dot += (this.idf.get(t) ?? 0) ** 2;
      const denom = qNorm * (this.norms[i] ?? 0);
      return denom > 0 ? dot / denom : 0;
    });
  }
}

export interface AnswerInput {
  /** Key that makes wrong-answer draws stable across checkpoints of one job (derived from the job seed). */
  jobKey: string;
  query: string;
  /** Probability that this model answers wrongly (from its position on the validation curve). */
  wrongRate: number;
  temperature: number;
  seed: number;
}

/** Reply of the nearest example; with probability wrongRate (decided per prompt) a wrong or truncated reply. */
export function fineTunedAnswer(index: ExampleIndex, input: AnswerInput): string {
  const n = index.examples.length;
  const scores = index.scores(input.query);
  let best = 0;
  scores.forEach((s, i) => {
    if (s > (scores[best] ?? 0)) best = i;
  });
  // Temperature lets near-ties compete; the pick is still a pure function of (seed, prompt).
  if (input.temperature > 0) {
    const top = scores[best] ?? 0;
    const candidates = scores.map((s, i) => ({ s, i })).filter((c) => c.s >= top * (1 - 0.05 * input.temperature));
    const pick = candidates[Math.floor(hash01('temperature', input.seed, input.query) * candidates.length)];
    if (pick) best = pick.i;
  }
  const reply = index.examples[best]?.reply ?? '';
  // The same draw per (job, prompt) for every checkpoint: a better checkpoint is never wrong where a worse one is right.
  if (n > 1 && hash01('wrong', input.jobKey, normalise(input.query)) < input.wrongRate) {
    if (hash01('wrong-kind', input.jobKey, normalise(input.query)) < 0.5) {
      const other = (best + 1 + Math.floor(hash01('other', input.jobKey, normalise(input.query)) * (n - 1))) % n;
      return index.examples[other]?.reply ?? reply;
    }
    const words = reply.split(/\s+/);
    return words.slice(0, Math.max(1, Math.floor(words.length * 0.3))).join(' ');
  }
  return reply;
}

const GENERIC_REPLIES = [
  "Thanks for reaching out! I'd be happy to help. Could you share a few more details about what you're seeing so I can point you in the right direction?",
  "I'm sorry to hear you're having trouble. Please try again in a few minutes, and if the problem persists, contact our support team with any error messages you see.",
  'Thank you for your question. I understand how frustrating this can be. Let me look into it; in the meantime, our help center has guides that may answer it.',
  "Hello! Thanks for contacting us. I don't have the specifics of your account here, but our support team will be glad to assist you further.",
];

/** A polite generic support reply, deterministic per prompt. */
export function baseAnswer(query: string): string {
  return GENERIC_REPLIES[Math.floor(hash01('generic', normalise(query)) * GENERIC_REPLIES.length)] ?? GENERIC_REPLIES[0] ?? '';
}

function normalise(text: string): string {
  return tokenize(text).join(' ');
}

/** Token-set F1 between two texts, the simulated judge's notion of agreeing with the reference. */
function overlapF1(a: string, b: string): number {
  const ta = new Set(tokenize(a));
  const tb = new Set(tokenize(b));
  if (ta.size === 0 || tb.size === 0) return 0;
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  if (common === 0) return 0;
  const p = common / ta.size;
  const r = common / tb.size;
  return (2 * p * r) / (p + r);
}

// Reference, answer A, answer B; B ends at the closing instruction line that names [[A]], or at the end.
const JUDGE_SECTIONS = /#+\s*Reference answer\s*\n([\s\S]*?)\n#+\s*Answer A\s*\n([\s\S]*?)\n#+\s*Answer B\s*\n([\s\S]*?)(?:\n\s*\n[^\n]*\[\[A\]\][^\n]*\s*$|$)/i;

/**
 * Base models asked to judge two answers against a reference (the MT-Bench style `[[A]]`/`[[B]]`/
 * `[[tie]]` format) answer like a careful judge would: the answer closer to the reference wins,
 * whatever its position. Lets a pipeline's judge be exercised without a real model.
 */
export function pairwiseVerdict(userText: string): string | null {
  if (!/\[\[A\]\]/.test(userText) || !/\[\[B\]\]/.test(userText)) return null;
  const m = JUDGE_SECTIONS.exec(userText);
  if (!m) return null;
  const [, reference = '', answerA = '', answerB = ''] = m;
  const a = overlapF1(answerA, reference);
  const b = overlapF1(answerB, reference);
  if (Math.abs(a - b) < 0.05) return '[[tie]]';
  return a > b ? '[[A]]' : '[[B]]';
}
