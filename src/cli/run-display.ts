import type { PipelineProgress } from '../domain/pipeline';
import { STAGES, workingStages, type Stage } from '../domain/stages';

/** What the live display knows: the run, its latest progress (null while no worker answers) and when. */
export interface RunDisplayInput {
  workflowId: string;
  progress: PipelineProgress | null;
  /** Why there is no progress, e.g. no worker answered the query. */
  note?: string | null;
  nowMs: number;
  startedMs: number;
  columns: number;
  /** Time left at the pace watched so far (see remainingAtPace), when there is one. */
  left?: { training: number | null; evaluation: number | null };
}

/** A count first seen at `first.atMs`, now `done` of `total`: the time left if the pace holds, or null. */
export function remainingAtPace(first: { atMs: number; done: number }, done: number, total: number | null, nowMs: number): number | null {
  if (total === null || done <= first.done || nowMs <= first.atMs) return null;
  const perMs = (done - first.done) / (nowMs - first.atMs);
  return Math.max(0, (total - done) / perMs);
}

const LABEL = 12;
const BAR_MAX = 30;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

const loss = (n: number | null) => (n === null ? '–' : n.toFixed(3));

function bar(done: number, total: number, width: number): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function row(label: string, text: string): string {
  return `  ${label.padEnd(LABEL)}${text}`;
}

function stageText(stage: Stage, withServing: boolean): string {
  const stages = workingStages(withServing, stage === 'awaiting_approval');
  const at = stages.indexOf(stage);
  return at >= 0 ? `${stage} (${at + 1} of ${stages.length})` : stage;
}

const passed = (stage: Stage, than: Stage) => STAGES.indexOf(stage) > STAGES.indexOf(than) && stage !== 'failed' && stage !== 'cancelled';

function trainingRow(p: PipelineProgress, barWidth: number): string {
  const step = p.latest.step;
  const total = p.latest.totalSteps ?? null;
  if (step === null) return row('training', passed(p.stage, 'training') ? 'no steps reported' : 'not started');
  if (total === null || total <= 0) return row('training', `step ${step} (total not reported yet)`);
  const pct = Math.round((Math.min(step, total) / total) * 100);
  return row('training', `${bar(step, total, barWidth)}  ${step}/${total} steps  ${pct}%`);
}

function evalRow(p: PipelineProgress, barWidth: number): string {
  const { evalExamplesDone: done, evalExamplesTotal: total } = p.counts;
  if (total === null) return row('evaluation', passed(p.stage, 'evaluating') ? 'skipped' : 'not started');
  const pct = total > 0 ? Math.round((Math.min(done, total) / total) * 100) : 100;
  return row('evaluation', `${bar(done, total, barWidth)}  ${done}/${total} examples  ${pct}%`);
}

function etaRow(p: PipelineProgress, nowMs: number, left: RunDisplayInput['left']): string | null {
  const parts: string[] = [];
  if (p.stage === 'evaluating' && left?.evaluation != null) parts.push(`evaluation ~${duration(left.evaluation)} left`);
  if (p.stage === 'training' || p.stage === 'creating_job') {
    if (left?.training != null) parts.push(`training ~${duration(left.training)} left at this pace`);
    if (p.estimatedFinish !== null && p.estimatedFinish * 1000 > nowMs) {
      parts.push(`provider estimates ${clock(p.estimatedFinish * 1000)} (in ${duration(p.estimatedFinish * 1000 - nowMs)})`);
    }
    if (parts.length === 0) parts.push('not known yet');
  }
  return parts.length > 0 ? row('ETA', parts.join(' · ')) : null;
}

function fit(line: string, columns: number): string {
  return line.length <= columns ? line : `${line.slice(0, Math.max(0, columns - 1))}…`;
}

/** The lines of the live display for one moment of a run; pure, so what a person sees is testable. */
export function renderRunDisplay({ workflowId, progress: p, note, nowMs, startedMs, columns, left }: RunDisplayInput): string[] {
  const width = Math.max(40, columns);
  // Room for "  <label>" and "  1234/1234 examples  100%" beside the bar.
  const barWidth = Math.max(10, Math.min(BAR_MAX, width - LABEL - 2 - 26));
  const lines = [`tuneflow ${workflowId} · ${duration(nowMs - startedMs)} elapsed`];
  if (!p) {
    lines.push(row('stage', note ?? 'waiting for a worker to pick the run up…'));
    return lines.map((l) => fit(l, width));
  }
  lines.push(row('stage', [stageText(p.stage, Boolean(p.serving)), p.jobId ? `job ${p.jobId}${p.jobStatus ? ` ${p.jobStatus}` : ''}` : null].filter(Boolean).join(' · ')));
  if (p.counts.examples !== null) {
    const split = p.counts.trainExamples !== null ? ` → ${p.counts.trainExamples} train / ${p.counts.validExamples ?? 0} valid` : '';
    lines.push(row('data', `${p.counts.examples} examples${split}`));
  }
  lines.push(trainingRow(p, barWidth), evalRow(p, barWidth));
  if (p.latest.trainLoss !== null || p.latest.validLoss !== null || p.latest.fullValidLoss !== null) {
    lines.push(row('losses', `train ${loss(p.latest.trainLoss)} · valid ${loss(p.latest.validLoss)} · full valid ${loss(p.latest.fullValidLoss)}`));
  }
  const eta = etaRow(p, nowMs, left);
  if (eta) lines.push(eta);
  if (p.serving) lines.push(row(p.serving.kind === 'deployment' ? 'deployments' : 'endpoints', `${p.serving.ready} of ${p.serving.total} ready${p.serving.removed > 0 ? ` · ${p.serving.removed} deleted` : ''}`));
  if (p.providerUnreachableSince) lines.push(row('! provider', `unreachable since ${p.providerUnreachableSince}${p.providerError ? ` (${p.providerError})` : ''}`));
  if (p.waitingFor) lines.push(row('! waiting', `${p.waitingFor} (then: tuneflow resume ${workflowId})`));
  if (p.approval && p.stage === 'awaiting_approval') {
    lines.push(row('! approval', `until ${p.approval.deadline}: ${p.approval.gate}`));
    lines.push(row('', `tuneflow approve ${workflowId}${p.approval.recommended ? ` (promotes ${p.approval.recommended})` : ' --model <m>'} | tuneflow reject ${workflowId} --reason …`));
  }
  if (p.error) lines.push(row('! error', p.error));
  if (note) lines.push(row('note', note));
  return lines.map((l) => fit(l, width));
}
