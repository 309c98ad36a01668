import type { LineScores } from './lines';
import type { CandidateResult, EvalSummary, RunDecision } from './run';
import { formatCi, formatSigned } from './numbers';

/** Models a person may approve: the run's own checkpoints and final model, never the base, the champion or a compared model. */
export function approvableModels(summary: Pick<EvalSummary, 'candidates'>): string[] {
  return summary.candidates.filter((c) => c.role === 'checkpoint' || c.role === 'final').map((c) => c.model);
}

/** The model a decision is about: the gate's challenger, else the recommended model when it is the run's own. */
export function challengerOf(summary: EvalSummary): string | null {
  if (summary.gate?.challenger !== undefined) return summary.gate.challenger;
  return approvableModels(summary).includes(summary.recommended) ? summary.recommended : null;
}

/** The gate's verdict in words: what had to be beaten and by how much, and whether it was. */
export function gateReason(summary: EvalSummary): string {
  const gate = summary.gate;
  if (!gate) return 'no gate was set';
  const metric = summary.primaryMetric;
  const need = `${formatSigned(gate.minImprovement)} ${metric}`;
  if (gate.against === 'champion' && summary.vsChampion) {
    const v = summary.vsChampion;
    const verdict = `${v.challenger} vs champion ${v.champion}: Δ ${formatSigned(v.diff)}, 95% CI ${formatCi(v.ci95)}`;
    return gate.outcome === 'promoted' ? `${verdict}; beats the champion and the base by at least ${need}` : `${verdict}; must beat the base and the champion (CI above zero) by at least ${need}`;
  }
  if (gate.against === 'champion') return 'no fine-tuned model of this run to compare with the champion';
  const rec = summary.candidates.find((c) => c.model === summary.recommended);
  const s = rec?.metrics[metric];
  const verdict = s ? `${summary.recommended} vs base: Δ ${formatSigned(s.diffVsBase)}, 95% CI ${formatCi(s.ci95)}` : 'no result';
  return gate.outcome === 'promoted' ? `${verdict}; beats the base by at least ${need}` : `${verdict}; must beat the base (CI above zero) by at least ${need}`;
}

/** The evaluation's own decision (no person involved). */
export function gateDecision(summary: EvalSummary, at: string, approvalRequired: boolean): RunDecision | null {
  if (!summary.gate) return null;
  return { outcome: summary.gate.outcome, model: challengerOf(summary), decidedBy: 'gate', reason: gateReason(summary), at, approvalRequired };
}

/** A line's record of one model's scores in a run. */
export function lineScores(summary: EvalSummary, model: string | null): LineScores | null {
  const c: CandidateResult | undefined = summary.candidates.find((x) => x.model === model);
  const s = c?.metrics[summary.primaryMetric];
  if (!c || !s) return null;
  const vsChampion = summary.vsChampion && summary.vsChampion.challenger === model ? { diff: summary.vsChampion.diff, ci95: summary.vsChampion.ci95 } : null;
  return {
    primaryMetric: summary.primaryMetric,
    mean: s.mean,
    vsChampion,
    vsBase: c.role === 'base' ? null : { diff: s.diffVsBase, ci95: s.ci95 },
  };
}
