import type { createLogUpdate } from 'log-update';
import { findPayloadKeyError } from '../codec/errors';
import { isSkipped, type PipelineOutcome, type PipelineProgress } from '../domain/pipeline';
import type { progressQuery as ProgressQuery } from '../messages';
import { remainingAtPace, renderRunDisplay } from './run-display';

const fmt = (n: number | null, digits = 3) => (n === null ? '–' : n.toFixed(digits));

/** One line a person can follow: the stage, the job, the latest losses and counts. */
export function formatProgress(p: PipelineProgress): string {
  const parts: string[] = [p.stage];
  if (p.jobId) parts.push(`job ${p.jobId} ${p.jobStatus ?? ''}`.trim());
  if (p.latest.step !== null) parts.push(`step ${p.latest.step}`);
  if (p.latest.trainLoss !== null || p.latest.validLoss !== null) parts.push(`train loss ${fmt(p.latest.trainLoss)} · valid loss ${fmt(p.latest.validLoss)}`);
  if (p.counts.examples !== null) parts.push(`${p.counts.examples} examples`);
  if (p.serving) parts.push(`${p.serving.kind}s ${p.serving.ready}/${p.serving.total} ready${p.serving.removed > 0 ? `, ${p.serving.removed} deleted` : ''}`);
  if (p.counts.evalExamplesTotal !== null) parts.push(`eval ${p.counts.evalExamplesDone}/${p.counts.evalExamplesTotal}`);
  if (p.providerUnreachableSince) parts.push(`provider unreachable since ${p.providerUnreachableSince}${p.providerError ? ` (${p.providerError})` : ''}`);
  if (p.waitingFor) parts.push(`WAITING: ${p.waitingFor}`);
  if (p.approval && p.stage === 'awaiting_approval') {
    parts.push(`WAITING FOR APPROVAL until ${p.approval.deadline}: ${p.approval.recommended ?? 'name a model'} (tuneflow approve ${p.workflowId} | tuneflow reject ${p.workflowId} --reason …)`);
  }
  return parts.join(' · ');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The end-of-run summary: job, models, chosen checkpoint, and the base-vs-fine-tuned table. */
export function formatResult(r: PipelineOutcome, uiUrl?: string): string {
  if (isSkipped(r)) {
    return [
      `Run ${r.workflowId}: skipped`,
      `  line           ${r.line} (champion ${r.champion.model})`,
      `  dataset        ${r.dataset.examples} examples, sha256 ${r.dataset.sha256.slice(0, 12)}…`,
      `  ${r.reason}`,
      ...(uiUrl ? [`Temporal UI: ${uiUrl}`] : []),
    ].join('\n');
  }
  const lines = [
    `Run ${r.workflowId}: ${r.status}`,
    `  job            ${r.jobId}`,
    `  base model     ${r.baseModel}`,
    `  fine-tuned     ${r.fineTunedModel}`,
    `  best ckpt      ${r.bestCheckpoint.model}${r.bestCheckpoint.step !== null ? ` (step ${r.bestCheckpoint.step}, full valid loss ${fmt(r.bestCheckpoint.fullValidLoss, 4)})` : ` (final model: ${r.chosen.reason ?? 'no checkpoint reported a loss'})`}`,
    ...(r.serving
      ? [
          `  ${r.serving.kind === 'deployment' ? 'deployments' : 'endpoints  '}    ${r.serving.deployments.filter((d) => d.created).length} created, ${r.serving.removed} deleted; ready in ${r.serving.deployingSeconds.toFixed(0)} s, hosting ${r.serving.hostingCostUsd === null ? 'cost not published' : `$${r.serving.hostingCostUsd.toFixed(2)}`}`,
        ]
      : []),
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
  if (r.eval.vsChampion) {
    const v = r.eval.vsChampion;
    lines.push(`Against the champion ${v.champion}: ${v.challenger} Δ ${v.diff >= 0 ? '+' : ''}${fmt(v.diff)} [${fmt(v.ci95[0])}, ${fmt(v.ci95[1])}] on ${v.paired} examples — ${v.beatsChampion ? 'beats it' : 'does not beat it with confidence'}`);
  }
  if (r.eval.gate) lines.push(`Gate (min improvement ${r.eval.gate.minImprovement}${r.eval.gate.against === 'champion' ? ', against the champion' : ''}): ${r.eval.gate.outcome}`);
  if (r.decision) lines.push(`Decision: ${r.decision.outcome}${r.decision.model ? ` ${r.decision.model}` : ''} by ${r.decision.decidedBy}${r.line ? ` on line ${r.line.name}` : ''} — ${r.decision.reason}`);
  lines.push(`Report: ${r.report.html}`, `        ${r.report.markdown}`);
  if (uiUrl) lines.push(`Temporal UI: ${uiUrl}`);
  return lines.join('\n');
}

type LogUpdate = ReturnType<typeof createLogUpdate>;

type ProgressHandle = {
  workflowId: string;
  query: (q: typeof ProgressQuery) => Promise<PipelineProgress>;
  result: () => Promise<PipelineOutcome>;
};

const tick = () => new Promise((r) => setTimeout(r, 1000));

/** A query that gives up after `ms`, so a missing worker never freezes the display. */
export function queryWithin(handle: Pick<ProgressHandle, 'query'>, progressQuery: typeof ProgressQuery, ms: number): Promise<PipelineProgress> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    handle.query(progressQuery),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no worker answered')), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The live display on a terminal: one block redrawn in place (log-update), with the pace of steps and examples. */
export class LiveRunDisplay {
  private firstStep: { atMs: number; done: number } | null = null;
  private firstExample: { atMs: number; done: number } | null = null;
  private progress: PipelineProgress | null = null;
  private note: string | null = null;

  private constructor(
    private readonly draw: LogUpdate,
    private readonly out: NodeJS.WriteStream,
    private readonly workflowId: string,
    private readonly startedMs: number,
  ) {}

  static async open(out: NodeJS.WriteStream, workflowId: string, startedMs = Date.now()): Promise<LiveRunDisplay> {
    const { createLogUpdate } = await import('log-update');
    return new LiveRunDisplay(createLogUpdate(out), out, workflowId, startedMs);
  }

  update(progress: PipelineProgress | null, note: string | null = null): void {
    const now = Date.now();
    if (progress) {
      this.progress = progress;
      if (progress.latest.step !== null) this.firstStep ??= { atMs: now, done: progress.latest.step };
      if (progress.counts.evalExamplesTotal !== null) this.firstExample ??= { atMs: now, done: progress.counts.evalExamplesDone };
    }
    this.note = note;
    const p = this.progress;
    const lines = renderRunDisplay({
      workflowId: this.workflowId,
      progress: p,
      note: this.note,
      nowMs: now,
      startedMs: this.startedMs,
      columns: this.out.columns ?? 80,
      left: {
        training: p && this.firstStep && p.latest.step !== null ? remainingAtPace(this.firstStep, p.latest.step, p.latest.totalSteps ?? null, now) : null,
        evaluation: p && this.firstExample ? remainingAtPace(this.firstExample, p.counts.evalExamplesDone, p.counts.evalExamplesTotal, now) : null,
      },
    });
    this.draw(lines.join('\n'));
  }

  /** Leaves the last frame on screen; output after it starts below. */
  persist(): void {
    this.draw.done();
  }
}

/**
 * Calls `observe` about every tick while the run goes on, until its result is in; `closed` tells an
 * observation that came back after the result that its output is no longer wanted.
 */
async function whileRunning(handle: ProgressHandle, observe: (closed: () => boolean) => Promise<void>): Promise<PipelineOutcome> {
  let stop = false;
  const watch = (async () => {
    while (!stop) {
      await observe(() => stop);
      await tick();
    }
  })();
  try {
    return await handle.result();
  } finally {
    stop = true;
    await watch;
  }
}

async function followLines(handle: ProgressHandle, progressQuery: typeof ProgressQuery, out: NodeJS.WriteStream): Promise<PipelineOutcome> {
  let last = '';
  try {
    return await whileRunning(handle, async (closed) => {
      let line: string;
      try {
        line = formatProgress(await handle.query(progressQuery));
      } catch (err) {
        line = findPayloadKeyError(err)?.message ?? 'waiting for a worker to pick the run up…';
      }
      if (line !== last && !closed()) {
        if (out.isTTY) out.write(`\r\x1b[2K${line}`);
        else out.write(`${line}\n`);
        last = line;
      }
    });
  } finally {
    if (out.isTTY) out.write('\n');
  }
}

async function followLive(handle: ProgressHandle, progressQuery: typeof ProgressQuery, out: NodeJS.WriteStream): Promise<PipelineOutcome> {
  const display = await LiveRunDisplay.open(out, handle.workflowId);
  try {
    return await whileRunning(handle, async () => {
      try {
        display.update(await queryWithin(handle, progressQuery, 5000));
      } catch (err) {
        display.update(null, findPayloadKeyError(err)?.message ?? 'waiting for a worker to pick the run up…');
      }
    });
  } finally {
    // The closed run's own last progress (done and full bars, or where it failed) when a worker answers soon.
    const last = await queryWithin(handle, progressQuery, 3000).catch(() => null);
    if (last) display.update(last);
    display.persist();
  }
}

/**
 * What `run --wait` and the demo show while a run goes on; survives queries failing while no worker is up.
 * On a terminal, a live display redrawn in place; otherwise (or with `live: false`, as for `--json`) one
 * line per change, as scripts and logs want.
 */
export async function followRun(
  handle: ProgressHandle,
  progressQuery: typeof ProgressQuery,
  out: NodeJS.WriteStream = process.stderr,
  { live = out.isTTY === true }: { live?: boolean } = {},
): Promise<PipelineOutcome> {
  return live ? followLive(handle, progressQuery, out) : followLines(handle, progressQuery, out);
}
