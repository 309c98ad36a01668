import type { CandidateResult, ChampionComparison, EvalCandidate, EvalSummary, MetricName, MetricSummary } from '../run';
import { DEFAULT_BOOTSTRAP_ITERATIONS, pairedBootstrapCi } from './bootstrap';
import { winsTiesLosses } from './compare';
import { applyChampionGate, bestChallenger, decideEval } from './decision';
import { BASE_JUDGE_SCORE } from './judge';
import type { BatchResultRow, CandidateAnswer } from './types';

export const REFERENCE_METRICS = ['exactMatch', 'tokenF1', 'rougeL'] as const;

/**
 * tokenF1 is the default primary metric: it gives partial credit (exact match is 0/1 and so needs
 * far more examples to show a difference), it is symmetric in precision and recall, it ignores word
 * order less harshly than ROUGE-L, and it is deterministic and free. It stays primary with a judge:
 * the judge is a comparative, paid, drifting signal with its own biases, reported beside it.
 */
export const DEFAULT_PRIMARY_METRIC: MetricName = 'tokenF1';

export interface SummarizeResultsOptions {
  seed: number;
  primaryMetric?: MetricName;
  minImprovement?: number;
  judgeModel?: string | null;
  bootstrapIterations?: number;
}

/** Candidates a summary can be computed for: unique models, exactly one base. */
export function validateCandidates(candidates: readonly EvalCandidate[]): EvalCandidate {
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.model)) throw new Error(`Candidate model "${c.model}" is listed twice; each model is evaluated once.`);
    seen.add(c.model);
  }
  const bases = candidates.filter((c) => c.role === 'base');
  if (bases.length !== 1) throw new Error(`Evaluation needs exactly one base candidate, got ${bases.length}.`);
  const champions = candidates.filter((c) => c.role === 'champion');
  if (champions.length > 1) throw new Error(`Evaluation takes at most one champion, got ${champions.length}.`);
  return bases[0] as EvalCandidate;
}

function usable(answer: CandidateAnswer | undefined): answer is CandidateAnswer & { text: string; scores: NonNullable<CandidateAnswer['scores']> } {
  return !!answer && answer.text !== null && answer.scores !== null;
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

const BASE_SUMMARY = (m: number): MetricSummary => ({ mean: m, diffVsBase: 0, ci95: [0, 0] });

/** Per-example score of one candidate on one metric, or null when it has none for that example. */
function exampleScore(row: BatchResultRow, model: string, baseModel: string, metric: MetricName): number | null {
  const answer = row.answers[model];
  if (!usable(answer)) return null;
  if (metric !== 'judge') return answer.scores[metric];
  if (model === baseModel) return BASE_JUDGE_SCORE;
  return answer.judge?.score ?? null;
}

/**
 * Aggregates per-example rows into every CandidateResult and the decision. Means use the examples
 * the candidate answered; differences, CIs and wins/ties/losses use the examples both it and the
 * base answered (paired). Only aggregates come out: this goes into workflow history.
 */
export function summarizeResults(
  rows: readonly BatchResultRow[],
  candidates: readonly EvalCandidate[],
  options: SummarizeResultsOptions,
): Omit<EvalSummary, 'resultsPath'> {
  const base = validateCandidates(candidates);
  const primaryMetric = options.primaryMetric ?? DEFAULT_PRIMARY_METRIC;
  const judgeModel = options.judgeModel ?? null;
  if (primaryMetric === 'judge' && !judgeModel) throw new Error('The judge metric needs a judge model.');
  const iterations = options.bootstrapIterations ?? DEFAULT_BOOTSTRAP_ITERATIONS;
  const metrics: MetricName[] = judgeModel ? [...REFERENCE_METRICS, 'judge'] : [...REFERENCE_METRICS];

  const results: CandidateResult[] = candidates.map((candidate) => {
    const isBase = candidate.model === base.model;
    const summaries: Partial<Record<MetricName, MetricSummary>> = {};
    let primaryPairs: { cand: number[]; base: number[] } = { cand: [], base: [] };
    for (const metric of metrics) {
      const own: number[] = [];
      const pairedCandidate: number[] = [];
      const pairedBase: number[] = [];
      for (const row of rows) {
        const score = exampleScore(row, candidate.model, base.model, metric);
        if (score === null) continue;
        own.push(score);
        const baseScore = exampleScore(row, base.model, base.model, metric);
        if (baseScore === null) continue;
        pairedCandidate.push(score);
        pairedBase.push(baseScore);
      }
      if (isBase) {
        summaries[metric] = BASE_SUMMARY(mean(own));
      } else {
        const boot = pairedBootstrapCi(pairedCandidate, pairedBase, { seed: options.seed, iterations });
        summaries[metric] = { mean: mean(own), diffVsBase: boot.meanDiff, ci95: boot.ci };
      }
      if (metric === primaryMetric) primaryPairs = { cand: pairedCandidate, base: pairedBase };
    }
    const failedExamples = rows.filter((row) => !usable(row.answers[candidate.model])).length;
    const result: CandidateResult = {
      ...candidate,
      metrics: summaries as CandidateResult['metrics'],
      vsBase: winsTiesLosses(primaryPairs.cand, primaryPairs.base),
      failedExamples,
    };
    if (judgeModel && !isBase) {
      const tally = { wins: 0, ties: 0, losses: 0, unreadable: 0 };
      for (const row of rows) {
        const answer = row.answers[candidate.model];
        if (!usable(answer) || !usable(row.answers[base.model])) continue;
        const outcome = answer.judge?.outcome ?? null;
        if (outcome === 'win') tally.wins++;
        else if (outcome === 'tie') tally.ties++;
        else if (outcome === 'loss') tally.losses++;
        else tally.unreadable++;
      }
      result.judgeVsBase = tally;
    }
    return result;
  });

  const decision = decideEval(results, primaryMetric, options.minImprovement);
  const champion = candidates.find((c) => c.role === 'champion');
  let vsChampion: ChampionComparison | null = null;
  let gate = decision.gate;
  if (champion) {
    const challenger = bestChallenger(results, primaryMetric);
    if (challenger) vsChampion = compareWithChampion(rows, challenger.model, champion.model, base.model, primaryMetric, { seed: options.seed, iterations });
    gate = applyChampionGate(challenger, vsChampion, primaryMetric, options.minImprovement ?? 0);
  }
  return {
    examples: rows.length,
    failedExamples: rows.filter((row) => candidates.some((c) => !usable(row.answers[c.model]))).length,
    primaryMetric,
    seed: options.seed,
    bootstrapIterations: iterations,
    candidates: results,
    recommended: decision.recommended,
    beatsBase: decision.beatsBase,
    judgeModel,
    gate,
    ...(champion ? { vsChampion } : {}),
  };
}

/** The challenger against the champion on the primary metric, over the examples both answered. */
function compareWithChampion(
  rows: readonly BatchResultRow[],
  challenger: string,
  champion: string,
  baseModel: string,
  metric: MetricName,
  boot: { seed: number; iterations: number },
): ChampionComparison {
  const cand: number[] = [];
  const champ: number[] = [];
  for (const row of rows) {
    const a = exampleScore(row, challenger, baseModel, metric);
    const b = exampleScore(row, champion, baseModel, metric);
    if (a === null || b === null) continue;
    cand.push(a);
    champ.push(b);
  }
  const result = pairedBootstrapCi(cand, champ, boot);
  return { champion, challenger, diff: result.meanDiff, ci95: result.ci, beatsChampion: result.ci[0] > 0, paired: cand.length };
}
