import type { PipelineProgress, PipelineResult } from '../domain/pipeline';
import type { progressQuery as ProgressQuery } from '../workflows';

const fmt = (n: number | null, digits = 3) => (n === null ? '–' : n.toFixed(digits));

/** One line a person can follow: the stage, the job, the latest losses and counts. */
export function formatProgress(p: PipelineProgress): string {
  const parts: string[] = [p.stage];
  if (p.jobId) parts.push(`job ${p.jobId} ${p.jobStatus ?? ''}`.trim());
  if (p.latest.step !== null) parts.push(`step ${p.latest.step}`);
  if (p.latest.trainLoss !== null || p.latest.validLoss !== null) parts.push(`train loss ${fmt(p.latest.trainLoss)} · valid loss ${fmt(p.latest.validLoss)}`);
  if (p.counts.examples !== null) parts.push(`${p.counts.examples} examples`);
  if (p.counts.evalExamplesTotal !== null) parts.push(`eval ${p.counts.evalExamplesDone}/${p.counts.evalExamplesTotal}`);
  if (p.providerUnreachableSince) parts.push(`provider unreachable since ${p.providerUnreachableSince}${p.providerError ? ` (${p.providerError})` : ''}`);
  if (p.waitingFor) parts.push(`WAITING: ${p.waitingFor}`);
  return parts.join(' · ');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The end-of-run summary: job, models, chosen checkpoint, and the base-vs-fine-tuned table. */
export function formatResult(r: PipelineResult, uiUrl?: string): string {
  const lines = [
    `Run ${r.workflowId}: ${r.status}`,
    `  job            ${r.jobId}`,
    `  base model     ${r.baseModel}`,
    `  fine-tuned     ${r.fineTunedModel}`,
    `  best ckpt      ${r.bestCheckpoint.model}${r.bestCheckpoint.step !== null ? ` (step ${r.bestCheckpoint.step}, full valid loss ${fmt(r.bestCheckpoint.fullValidLoss, 4)})` : ' (no checkpoint reported a loss: final model)'}`,
    `  dataset        ${r.dataset.examples} examples → ${r.dataset.train.examples} train / ${r.dataset.valid.examples} valid, est. $${r.dataset.estimatedCostUsd.toFixed(2)}`,
    '',
    `Evaluation on ${r.eval.examples} held-out examples (Δ vs base with 95% CI; primary: ${r.eval.primaryMetric})`,
  ];
  const width = Math.max(5, ...r.eval.candidates.map((c) => c.model.length));
  lines.push(`  ${pad('model', width)}  ${pad('role', 10)} ${pad('exact', 7)} ${pad('token F1 (Δ [95% CI])', 31)} ${pad('ROUGE-L', 8)} W/T/L`);
  for (const c of r.eval.candidates) {
    const f1 = c.metrics.tokenF1;
    const delta = c.role === 'base' ? '' : ` (${f1.diffVsBase >= 0 ? '+' : ''}${fmt(f1.diffVsBase)} [${fmt(f1.ci95[0])}, ${fmt(f1.ci95[1])}])`;
    const mark = c.model === r.eval.recommended ? '*' : ' ';
    lines.push(
      `${mark} ${pad(c.model, width)}  ${pad(c.role, 10)} ${pad(fmt(c.metrics.exactMatch.mean), 7)} ${pad(fmt(f1.mean) + delta, 31)} ${pad(fmt(c.metrics.rougeL.mean), 8)} ${c.role === 'base' ? '' : `${c.vsBase.wins}/${c.vsBase.ties}/${c.vsBase.losses}`}`.trimEnd(),
    );
  }
  lines.push('', `Recommended: ${r.eval.recommended} — ${r.eval.beatsBase ? 'beats the base model (CI excludes zero)' : 'does not beat the base model with confidence'}`);
  if (r.eval.gate) lines.push(`Gate (min improvement ${r.eval.gate.minImprovement}): ${r.eval.gate.outcome}`);
  lines.push(`Report: ${r.report.html}`, `        ${r.report.markdown}`);
  if (uiUrl) lines.push(`Temporal UI: ${uiUrl}`);
  return lines.join('\n');
}

/** What `--wait` and the demo show while a run goes on; survives queries failing while no worker is up. */
export async function followRun(
  handle: { query: (q: typeof ProgressQuery) => Promise<PipelineProgress>; result: () => Promise<PipelineResult> },
  progressQuery: typeof ProgressQuery,
  out: NodeJS.WriteStream = process.stderr,
): Promise<PipelineResult> {
  let last = '';
  let stop = false;
  const watch = (async () => {
    while (!stop) {
      let line: string;
      try {
        line = formatProgress(await handle.query(progressQuery));
      } catch {
        line = 'waiting for a worker to pick the run up…';
      }
      if (line !== last && !stop) {
        if (out.isTTY) out.write(`\r\x1b[2K${line}`);
        else out.write(`${line}\n`);
        last = line;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  try {
    return await handle.result();
  } finally {
    stop = true;
    await watch;
    if (out.isTTY) out.write('\n');
  }
}
