import type { CandidateResult, MetricName, RunFacts } from '../domain/run';
import { formatCi, formatSigned } from './format';

export const METRIC_LABELS: Record<MetricName, string> = {
  exactMatch: 'exact match',
  tokenF1: 'token F1',
  rougeL: 'ROUGE-L',
  judge: 'judge score',
};

export function roleLabel(c: Pick<CandidateResult, 'role' | 'step'>): string {
  switch (c.role) {
    case 'base':
      return 'base model';
    case 'final':
      return 'fine-tuned (final)';
    case 'checkpoint':
      return c.step !== null ? `checkpoint · step ${c.step}` : 'checkpoint';
    case 'extra':
      return 'compared model';
    case 'champion':
      return "line's champion";
  }
}

/** The decision in words, shared by the HTML and Markdown reports. */
export function decisionSentences(facts: RunFacts): { headline: string; beatsBase: string; method: string } {
  const ev = facts.eval;
  const label = METRIC_LABELS[ev.primaryMetric];
  const rec = ev.candidates.find((c) => c.model === ev.recommended);
  const s = rec?.metrics[ev.primaryMetric];
  const diff = s ? `Δ ${label} ${formatSigned(s.diffVsBase)}, 95% CI ${formatCi(s.ci95)}` : '';
  let beatsBase: string;
  if (!rec || rec.role === 'base') beatsBase = `The base model scored highest on ${label}; no other model did better.`;
  else if (ev.beatsBase) beatsBase = `${diff}: the interval lies above zero.`;
  else beatsBase = `${diff}: the interval includes zero (or lies below it), so the gain is not established.`;

  let headline: string;
  const who = rec && rec.role !== 'base' ? `${ev.recommended}` : 'the base model';
  if (ev.gate) {
    const threshold = formatSigned(ev.gate.minImprovement);
    if (ev.gate.outcome === 'promoted') headline = `Promoted: ${who} beats the base model on ${label} (${diff}), at least the required ${threshold}.`;
    else if (!ev.beatsBase) headline = `Rejected: ${rec?.role === 'base' ? 'no model beat the base model' : `${who} did not beat the base model with 95% confidence`} on ${label}.`;
    else headline = `Rejected: ${who} beats the base model on ${label}, but by ${formatSigned(s?.diffVsBase)}, less than the required ${threshold}.`;
  } else if (ev.beatsBase) {
    headline = `Recommended: ${who}, which beats the base model on ${label} (${diff}).`;
  } else if (rec && rec.role !== 'base') {
    headline = `Best on ${label}: ${who}, but it does not beat the base model with 95% confidence.`;
  } else {
    headline = `The base model scored highest on ${label}; fine-tuning did not improve it on this eval set.`;
  }
  const method =
    `Recommended = highest mean ${label} over ${ev.examples} examples; ties go to the lower full validation loss, then fine-tuned models before compared ones. ` +
    'Beats the base = the 95% paired-bootstrap interval of its difference from the base lies entirely above zero.' +
    (ev.gate ? ` Gate: promoted only if it beats the base and the mean gain is at least ${formatSigned(ev.gate.minImprovement)}.` : '');
  if (facts.decision && facts.decision.decidedBy !== 'gate') {
    headline = `${facts.decision.outcome === 'promoted' ? 'Promoted' : 'Rejected'} ${facts.decision.model ? `${facts.decision.model} ` : ''}by ${decidedByWords(facts.decision.decidedBy)}: ${facts.decision.reason}.`;
  }
  return { headline, beatsBase, method };
}

/** `gate`, `timeout`, `person:alice` as a person reads them. */
export function decidedByWords(decidedBy: string): string {
  if (decidedBy === 'gate') return 'the gate';
  if (decidedBy === 'timeout') return 'the approval timeout (nobody answered)';
  return decidedBy.startsWith('person:') ? decidedBy.slice('person:'.length) : decidedBy;
}

/** The model line's part of the decision: the champion comparison and who decided, or null for runs without a line or gate. */
export function lineSentences(facts: RunFacts): { champion: string | null; decision: string | null } {
  const ev = facts.eval;
  const label = METRIC_LABELS[ev.primaryMetric];
  let champion: string | null = null;
  if (ev.vsChampion) {
    const v = ev.vsChampion;
    champion =
      `${v.challenger} against the champion ${v.champion}${facts.line ? ` of line ${facts.line.name}` : ''}: Δ ${label} ${formatSigned(v.diff)}, 95% CI ${formatCi(v.ci95)} on ${v.paired} paired examples` +
      (v.beatsChampion ? ': the interval lies above zero.' : ': the interval includes zero (or lies below it), so it does not beat the champion.');
  } else if (facts.line) {
    champion = `Line ${facts.line.name} had no champion yet: the run was compared with the base model only.`;
  }
  const d = facts.decision;
  const decision = d ? `${d.outcome}${d.model ? ` ${d.model}` : ''} by ${decidedByWords(d.decidedBy)} at ${d.at}: ${d.reason}${d.approvalRequired ? ' (approval was required)' : ''}` : null;
  return { champion, decision };
}
