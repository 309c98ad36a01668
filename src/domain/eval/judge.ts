/**
 * Pairwise LLM-judge rules. Pure: the runner makes the calls, this module decides what to ask and
 * how to read and combine the answers.
 *
 * Each candidate is compared with the base twice, once in each position (candidate as A, then base
 * as A). Judges prefer a position (usually the first), so one order alone measures the judge as much
 * as the answers. The two verdicts are turned into the candidate's points (+1 win, 0 tie, −1 loss)
 * and summed:
 *   - sum > 0 → win   (won both orders, or won one and tied the other)
 *   - sum < 0 → loss  (mirror image)
 *   - sum = 0 → tie   (tied both, or won one and lost the other — the position decided, not the answer)
 * So a judge that always answers "A" yields ties, never wins. An unreadable verdict in either
 * order leaves the example without a judge score rather than guessing.
 */
import { messageText, type JudgeOutcome, type JudgeVerdict, type PromptMessage } from './types';

export type { JudgeOutcome, JudgeVerdict };

export class JudgeIsCandidateError extends Error {
  constructor(readonly judgeModel: string) {
    super(
      `The judge model "${judgeModel}" is also being evaluated; a model judging its own answers favours them. ` +
        'Pick a judge model that is not the base, a checkpoint, the fine-tuned model or a --compare model.',
    );
    this.name = 'JudgeIsCandidateError';
  }
}

function sameModel(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Throws JudgeIsCandidateError when the judge would be grading itself. */
export function assertJudgeIsNotCandidate(judgeModel: string, candidates: ReadonlyArray<{ model: string }>): void {
  if (candidates.some((c) => sameModel(c.model, judgeModel))) throw new JudgeIsCandidateError(judgeModel);
}

export const JUDGE_SYSTEM_PROMPT = [
  'You are an impartial judge comparing two assistant answers to the same conversation.',
  'A reference answer is given: prefer the answer that agrees with it in substance, then the one that is more complete and clear.',
  'Ignore the order in which the answers are shown, their length beyond what the question needs, and their style.',
  'Reply with exactly one verdict and nothing else: [[A]] if answer A is better, [[B]] if answer B is better, [[tie]] if they are equally good or equally bad.',
].join('\n');

/** The conversation as plain text, one block per message. */
export function renderTranscript(prompt: readonly PromptMessage[]): string {
  return prompt.map((m) => `[${m.role}]\n${messageText(m.content)}`).join('\n\n');
}

export interface JudgeComparison {
  prompt: readonly PromptMessage[];
  reference: string;
  answerA: string;
  answerB: string;
}

/** The chat messages sent to the judge for one ordering of two answers. */
export function buildJudgeMessages(comparison: JudgeComparison): Array<{ role: 'system' | 'user'; content: string }> {
  const user = [
    '## Conversation',
    renderTranscript(comparison.prompt),
    '',
    '## Reference answer',
    comparison.reference,
    '',
    '## Answer A',
    comparison.answerA,
    '',
    '## Answer B',
    comparison.answerB,
    '',
    'Which answer is better? Reply with [[A]], [[B]] or [[tie]] only.',
  ].join('\n');
  return [
    { role: 'system', content: JUDGE_SYSTEM_PROMPT },
    { role: 'user', content: user },
  ];
}

export type JudgeOrder = 'candidateFirst' | 'baseFirst';

/** Both orderings of a candidate answer against the base answer: candidate as A, then base as A. */
export function buildJudgePair(
  example: { prompt: readonly PromptMessage[]; reference: string },
  candidateAnswer: string,
  baseAnswer: string,
): Record<JudgeOrder, Array<{ role: 'system' | 'user'; content: string }>> {
  return {
    candidateFirst: buildJudgeMessages({ ...example, answerA: candidateAnswer, answerB: baseAnswer }),
    baseFirst: buildJudgeMessages({ ...example, answerA: baseAnswer, answerB: candidateAnswer }),
  };
}

function toVerdict(word: string): JudgeVerdict | null {
  const w = word.trim().toLowerCase();
  if (w === 'a' || w === 'answer a') return 'A';
  if (w === 'b' || w === 'answer b') return 'B';
  if (w === 'tie' || w === 'draw' || w === 'equal') return 'tie';
  return null;
}

/**
 * Reads a judge reply: the last [[A]]/[[B]]/[[tie]] marker (a judge that reasons first ends with its
 * verdict), else a bare "A"/"B"/"tie" reply, else "verdict: X". Anything else is null.
 */
export function parseJudgeVerdict(reply: string | null | undefined): JudgeVerdict | null {
  if (!reply) return null;
  const markers = [...reply.matchAll(/\[\[\s*(a|b|tie)\s*\]\]/gi)];
  const lastMarker = markers[markers.length - 1];
  if (lastMarker?.[1]) return toVerdict(lastMarker[1]);
  const bare = reply.replace(/[*_`"'.!\s[\]()]+/g, ' ').trim();
  const direct = toVerdict(bare);
  if (direct) return direct;
  const labelled = /verdict\s*[:=-]\s*\**\s*(answer a|answer b|a|b|tie)\b/i.exec(reply);
  return labelled?.[1] ? toVerdict(labelled[1]) : null;
}

/** The candidate's points for a verdict in a given order. */
function candidatePoints(verdict: JudgeVerdict, order: JudgeOrder): number {
  if (verdict === 'tie') return 0;
  const candidateLabel = order === 'candidateFirst' ? 'A' : 'B';
  return verdict === candidateLabel ? 1 : -1;
}

/** Combines the two orders into the candidate's outcome against the base (rule in the module comment). */
export function combineJudgeVerdicts(candidateFirst: JudgeVerdict | null, baseFirst: JudgeVerdict | null): JudgeOutcome | null {
  if (candidateFirst === null || baseFirst === null) return null;
  const sum = candidatePoints(candidateFirst, 'candidateFirst') + candidatePoints(baseFirst, 'baseFirst');
  if (sum > 0) return 'win';
  if (sum < 0) return 'loss';
  return 'tie';
}

/** The per-example judge score of a candidate (the base scores 0.5 against itself by definition). */
export function judgeScore(outcome: JudgeOutcome | null): number | null {
  if (outcome === null) return null;
  return outcome === 'win' ? 1 : outcome === 'tie' ? 0.5 : 0;
}

/** The base model's judge score on every example: it ties with itself. */
export const BASE_JUDGE_SCORE = 0.5;
