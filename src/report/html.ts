import type { CandidateResult, MetricName } from '../domain/run';
import { lastUserText, messageText, type CandidateAnswer } from '../domain/eval/types';
import type { ExampleView, ReportData } from './data';
import {
  escapeHtml as h,
  formatCi,
  formatDuration,
  formatInt,
  formatScore,
  formatSigned,
  formatUsd,
  truncateText,
} from './format';
import { ciChartSvg, lossChartSvg } from './svg';
import { decisionSentences, lineSentences, METRIC_LABELS, roleLabel } from './text';

const CSS = `
:root { --ink:#1f2430; --muted:#5d6577; --line:#e3e6ec; --soft:#f5f6f8; --accent:#3b6fd8; --good:#138a4f; --bad:#c2372f; --warn:#a86300; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; background:#eef0f4; color:var(--ink); font:14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
header.top { background:#1f2a44; color:#fff; padding:28px 0 22px; }
.wrap { max-width:1180px; margin:0 auto; padding:0 28px; }
header.top .eyebrow { text-transform:uppercase; letter-spacing:.08em; font-size:11px; color:#aab6d3; margin:0 0 6px; }
header.top h1 { margin:0 0 6px; font-size:24px; font-weight:650; word-break:break-all; }
header.top .sub { color:#cfd7ea; margin:0; }
header.top .sub code { color:#fff; }
nav.toc { background:#fff; border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
nav.toc a { display:inline-block; padding:10px 12px; color:var(--muted); text-decoration:none; font-weight:550; font-size:13px; }
nav.toc a:hover { color:var(--accent); }
main { padding:22px 0 40px; }
section.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:20px 24px; margin:0 0 18px; box-shadow:0 1px 2px rgba(20,30,60,.04); }
section.card > h2 { margin:0 0 4px; font-size:18px; }
section.card > p.lede { margin:0 0 14px; color:var(--muted); }
h3 { font-size:14px; margin:18px 0 8px; color:var(--muted); text-transform:uppercase; letter-spacing:.05em; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size:12.5px; }
.badge { display:inline-block; padding:2px 9px; border-radius:999px; font-size:12px; font-weight:650; vertical-align:middle; }
.badge.promoted, .badge.yes, .badge.win { background:#e3f4ea; color:var(--good); }
.badge.rejected, .badge.no, .badge.loss { background:#fbe7e5; color:var(--bad); }
.badge.succeeded, .badge.info { background:#e6eefc; color:#2b58b5; }
.badge.neutral, .badge.tie { background:#eef0f4; color:var(--muted); }
.badge.fail { background:#fff1dc; color:var(--warn); }
.decision-grid { display:grid; grid-template-columns:repeat(3, minmax(0,1fr)); gap:14px; margin:6px 0 14px; }
.tile { border:1px solid var(--line); border-radius:8px; padding:12px 14px; background:var(--soft); }
.tile .label { font-size:11px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); margin-bottom:4px; }
.tile .value { font-size:16px; font-weight:650; word-break:break-all; }
.tile .note { color:var(--muted); font-size:12.5px; margin-top:4px; }
.facts-grid { display:grid; grid-template-columns:repeat(2, minmax(0,1fr)); gap:6px 28px; }
dl.facts { display:grid; grid-template-columns:minmax(140px, max-content) minmax(0,1fr); gap:5px 14px; margin:0; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; word-break:break-all; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:var(--muted); font-weight:650; background:var(--soft); white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.best td { background:#eef8f2; }
tr.best td:first-child { box-shadow:inset 3px 0 0 var(--good); }
.model { word-break:break-all; }
.chart { margin:6px 0 4px; overflow-x:auto; }
.chart svg { width:100%; height:auto; display:block; }
.caption { color:var(--muted); font-size:12.5px; margin:4px 0 0; }
.table-scroll { overflow-x:auto; border:1px solid var(--line); border-radius:8px; }
.table-scroll table th, .table-scroll table td { border-right:1px solid var(--line); }
table.examples { table-layout:fixed; min-width:100%; }
table.examples td { font-size:13px; }
table.examples .text { white-space:pre-wrap; word-break:break-word; max-height:15em; overflow:auto; }
table.examples .scores { margin-top:6px; color:var(--muted); font-size:11.5px; font-variant-numeric:tabular-nums; }
table.examples td.win { background:#f1faf4; }
table.examples td.loss { background:#fdf2f1; }
table.examples td.failed { background:#fff8ec; }
table.examples th { white-space:normal; }
table.examples th .name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-weight:600; word-break:break-all; color:var(--ink); }
table.examples th .role { display:block; font-weight:500; color:var(--muted); }
table.examples th.focus { box-shadow:inset 0 -3px 0 var(--good); }
.delta { font-weight:650; font-variant-numeric:tabular-nums; }
.delta.pos { color:var(--good); } .delta.neg { color:var(--bad); } .delta.zero { color:var(--muted); }
details { margin-top:6px; }
details summary { cursor:pointer; color:var(--accent); font-size:12px; }
details .msg { margin:6px 0 0; padding:6px 8px; background:var(--soft); border-radius:6px; }
details .msg .role { font-size:11px; text-transform:uppercase; color:var(--muted); letter-spacing:.05em; }
.note-box { background:var(--soft); border:1px solid var(--line); border-radius:8px; padding:10px 12px; color:var(--muted); margin:10px 0 0; }
footer { color:var(--muted); font-size:12px; padding:0 0 28px; }
@media (max-width: 820px) { .decision-grid, .facts-grid { grid-template-columns:1fr; } }
@media print { nav.toc { display:none; } body { background:#fff; } section.card { box-shadow:none; break-inside:avoid; } }
`;

function statusBadge(status: string): string {
  return `<span class="badge ${h(status)}">${h(status)}</span>`;
}

function modelCell(model: string): string {
  return `<code class="model" title="${h(model)}">${h(model)}</code>`;
}

function header(data: ReportData): string {
  const { facts } = data;
  return `<header class="top"><div class="wrap">
<p class="eyebrow">tuneflow · fine-tuning run report</p>
<h1>${h(facts.workflowId)} ${statusBadge(facts.status)}</h1>
<p class="sub">Base <code>${h(facts.baseModel)}</code> → fine-tuned <code>${h(facts.job.fineTunedModel)}</code> · ${h(formatDuration(facts.startedAt, facts.finishedAt))}</p>
</div></header>
<nav class="toc" aria-label="Sections"><div class="wrap">
<a href="#decision">Decision</a><a href="#facts">Run facts</a><a href="#training">Training curves</a><a href="#checkpoints">Checkpoints</a><a href="#evaluation">Evaluation</a><a href="#examples">Examples</a>
</div></nav>`;
}

function decisionSection(data: ReportData): string {
  const ev = data.facts.eval;
  const rec = ev.candidates.find((c) => c.model === ev.recommended);
  const primary = rec?.metrics[ev.primaryMetric];
  const text = decisionSentences(data.facts);
  const lines = lineSentences(data.facts);
  const gate = ev.gate
    ? `<span class="badge ${ev.gate.outcome}">${ev.gate.outcome}</span>`
    : '<span class="badge neutral">no gate</span>';
  const gateNote = ev.gate
    ? `needs beats-base${ev.gate.against === 'champion' ? ', beats-champion' : ''} and Δ ${h(METRIC_LABELS[ev.primaryMetric])} ≥ ${h(formatSigned(ev.gate.minImprovement))}${ev.gate.against === 'champion' ? ' over the champion' : ''}`
    : 'set --min-improvement to promote or reject automatically';
  return `<section class="card" id="decision"><h2>Decision</h2>
<p class="lede">${h(text.headline)}</p>
<div class="decision-grid">
<div class="tile"><div class="label">Recommended model</div><div class="value">${modelCell(ev.recommended)}</div><div class="note">${h(rec ? roleLabel(rec) : '')}${primary ? ` · ${h(METRIC_LABELS[ev.primaryMetric])} ${h(formatScore(primary.mean))}` : ''}</div></div>
<div class="tile" id="beats-base"><div class="label">Beats the base model</div><div class="value"><span class="badge ${ev.beatsBase ? 'yes' : 'no'}">${ev.beatsBase ? 'yes' : 'no'}</span></div><div class="note">${h(text.beatsBase)}</div></div>
<div class="tile" id="gate"><div class="label">Gate</div><div class="value">${gate}</div><div class="note">${gateNote}</div></div>
${lines.champion ? `<div class="tile" id="champion"><div class="label">Against the champion</div><div class="value"><span class="badge ${ev.vsChampion?.beatsChampion ? 'yes' : 'no'}">${ev.vsChampion ? (ev.vsChampion.beatsChampion ? 'beats it' : 'does not beat it') : 'no champion'}</span></div><div class="note">${h(lines.champion)}</div></div>` : ''}
${lines.decision ? `<div class="tile" id="decided"><div class="label">Decided</div><div class="value"><span class="badge ${data.facts.decision?.outcome ?? 'neutral'}">${h(data.facts.decision?.outcome ?? '')}</span></div><div class="note">${h(lines.decision)}</div></div>` : ''}
</div>
<p class="caption">${h(text.method)}</p>
</section>`;
}

function factsSection(data: ReportData): string {
  const { facts } = data;
  const d = facts.dataset;
  const hp = facts.job.hyperparameters ?? {};
  const row = (k: string, v: string) => `<dt>${h(k)}</dt><dd>${v}</dd>`;
  const hpRows = Object.keys(hp).length
    ? Object.entries(hp).map(([k, v]) => row(k, `<code>${h(typeof v === 'object' ? JSON.stringify(v) : String(v))}</code>`)).join('')
    : row('hyperparameters', 'provider defaults');
  return `<section class="card" id="facts"><h2>Run facts</h2>
<p class="lede">What was trained, on what, and what it cost.</p>
<div class="facts-grid">
<div><h3>Dataset</h3><dl class="facts">
${row('file', `<code>${h(d.path)}</code>`)}
${row('sha256', `<code title="${h(d.sha256)}">${h(d.sha256.slice(0, 16))}…</code>`)}
${row('examples', h(formatInt(d.examples)))}
${row('split', `${h(formatInt(d.train.examples))} train / ${h(formatInt(d.valid.examples))} validation (${h(Math.round(d.validRatio * 100))}% held out, seed ${h(d.seed)})`)}
${row('train file', `<code>${h(d.train.fileId)}</code>`)}
${row('validation file', `<code>${h(d.valid.fileId)}</code>`)}
</dl></div>
<div><h3>Model and job</h3><dl class="facts">
${row('base model', `<code>${h(facts.baseModel)}</code>`)}
${row('provider', facts.provider.baseURL ? `<code>${h(facts.provider.baseURL)}</code>` : 'OpenAI (default endpoint)')}
${row('job', `<code>${h(facts.job.id)}</code>`)}
${row('fine-tuned model', `<code>${h(facts.job.fineTunedModel)}</code>`)}
${row('trained tokens', h(formatInt(facts.job.trainedTokens)))}
${hpRows}
</dl></div>
<div><h3>Cost</h3><dl class="facts">
${row('estimated cost', h(formatUsd(facts.cost.estimatedCostUsd)))}
${row('charged tokens', h(formatInt(facts.cost.chargedTokens)))}
${row('epochs', h(formatInt(facts.cost.epochs)))}
</dl></div>
<div><h3>Timing</h3><dl class="facts">
${row('started', h(facts.startedAt))}
${row('finished', h(facts.finishedAt))}
${row('duration', h(formatDuration(facts.startedAt, facts.finishedAt)))}
</dl></div>
</div></section>`;
}

function trainingSection(data: ReportData): string {
  const { metrics, facts } = data;
  const lastTrain = [...metrics].reverse().find((r) => r.trainLoss !== null);
  const lastValid = [...metrics].reverse().find((r) => r.validLoss !== null);
  const caption = metrics.length
    ? `${formatInt(metrics.length)} metric rows; last train loss ${formatScore(lastTrain?.trainLoss ?? null)}${lastTrain ? ` (step ${lastTrain.step})` : ''}, last validation loss ${formatScore(lastValid?.validLoss ?? null)}${lastValid ? ` (step ${lastValid.step})` : ''}. Diamonds are each checkpoint's full validation loss; the chosen one is green.`
    : 'The provider reported no step metrics for this job.';
  return `<section class="card" id="training"><h2>Training curves</h2>
<p class="lede">Loss by training step, as reported by the provider.</p>
<div class="chart" id="loss-chart">${lossChartSvg(metrics, facts.checkpoints, facts.chosen)}</div>
<p class="caption">${h(caption)}</p>
</section>`;
}

function checkpointsSection(data: ReportData): string {
  const { facts } = data;
  const chosen = facts.chosen;
  const rows = [...facts.checkpoints]
    .sort((a, b) => a.step - b.step)
    .map((c) => {
      const best = chosen.source === 'checkpoint' && chosen.model === c.model;
      return `<tr${best ? ' class="best"' : ''}><td class="num">${h(c.step)}</td><td>${modelCell(c.model)}</td><td class="num">${h(formatScore(c.fullValidLoss, 4))}</td><td class="num">${h(formatScore(c.fullValidMeanTokenAccuracy, 4))}</td><td>${best ? '<span class="badge yes">lowest loss</span>' : ''}</td></tr>`;
    })
    .join('');
  const note =
    chosen.source === 'final'
      ? `The final model <code>${h(chosen.model)}</code> is the chosen model: ${h(chosen.reason ?? 'no checkpoint reported a full validation loss')}.`
      : `Chosen: step ${h(chosen.step)} with full validation loss ${h(formatScore(chosen.fullValidLoss, 4))} (ties go to the earlier step).`;
  const sv = facts.serving;
  const serving = sv
    ? `<p class="note-box" id="serving">${h(sv.deployments.length)} ${sv.kind}${sv.deployments.length === 1 ? '' : 's'} made the models answerable in ${h(sv.deployingSeconds.toFixed(0))} s; hosted ${sv.hostedSeconds === null ? 'for an unknown time' : `${h(sv.hostedSeconds.toFixed(0))} s`}, ${h(sv.removed)} deleted afterwards; hosting cost ${sv.hostingCostUsd === null ? 'not published for this tier' : `$${h(sv.hostingCostUsd.toFixed(2))}`}.</p>`
    : '';
  return `<section class="card" id="checkpoints"><h2>Checkpoints</h2>
<p class="lede">${note}</p>${serving}
${facts.checkpoints.length ? `<table id="checkpoint-table"><thead><tr><th class="num">step</th><th>model</th><th class="num">full valid loss</th><th class="num">full valid token accuracy</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="note-box">The provider listed no checkpoints for this job.</p>'}
</section>`;
}

function metricCell(c: CandidateResult, metric: MetricName): string {
  return `<td class="num">${h(formatScore(c.metrics[metric]?.mean))}</td>`;
}

function evaluationSection(data: ReportData): string {
  const ev = data.facts.eval;
  const hasJudge = ev.judgeModel !== null;
  const primaryLabel = METRIC_LABELS[ev.primaryMetric];
  const rows = ev.candidates
    .map((c) => {
      const p = c.metrics[ev.primaryMetric];
      const isBase = c.role === 'base';
      const cls = c.model === ev.recommended ? ' class="best"' : '';
      const deltaClass = !p || isBase ? 'zero' : p.ci95[0] > 0 ? 'pos' : p.ci95[1] < 0 ? 'neg' : 'zero';
      const judge = hasJudge ? metricCell(c, 'judge') : '';
      return `<tr${cls}><td>${modelCell(c.model)}${c.model === ev.recommended ? ' <span class="badge yes">recommended</span>' : ''}</td><td>${h(roleLabel(c))}</td>${metricCell(c, 'exactMatch')}${metricCell(c, 'tokenF1')}${metricCell(c, 'rougeL')}${judge}<td class="num"><span class="delta ${deltaClass}">${isBase ? '—' : h(formatSigned(p?.diffVsBase))}</span></td><td class="num">${isBase ? '—' : h(formatCi(p?.ci95))}</td><td class="num">${isBase ? '—' : `${c.vsBase.wins} / ${c.vsBase.ties} / ${c.vsBase.losses}`}</td><td class="num">${h(c.failedExamples)}</td></tr>`;
    })
    .join('');
  const judgeNote = hasJudge
    ? ` Judge <code>${h(ev.judgeModel)}</code> compared each candidate with the base in both orders; judge score is the win rate with ties as ½ (base = 0.5).`
    : '';
  return `<section class="card" id="evaluation"><h2>Evaluation</h2>
<p class="lede">${h(formatInt(ev.examples))} held-out examples, each answered by every model at temperature 0. Primary metric: <strong>${h(primaryLabel)}</strong>. Δ is the mean per-example difference from the base with a ${h(formatInt(ev.bootstrapIterations))}-resample paired bootstrap 95% CI (seed ${h(ev.seed)}); W / T / L counts examples won, tied and lost against the base on ${h(primaryLabel)}.${judgeNote}${ev.failedExamples ? ` ${h(ev.failedExamples)} example${ev.failedExamples === 1 ? '' : 's'} lack${ev.failedExamples === 1 ? 's' : ''} an answer from at least one model.` : ''}</p>
<div class="table-scroll"><table id="eval-table"><thead><tr><th>model</th><th>role</th><th class="num">exact match</th><th class="num">token F1</th><th class="num">ROUGE-L</th>${hasJudge ? '<th class="num">judge</th>' : ''}<th class="num">Δ ${h(primaryLabel)}</th><th class="num">95% CI</th><th class="num">W / T / L</th><th class="num">failed</th></tr></thead><tbody>${rows}</tbody></table></div>
<h3>Difference from the base model (${h(primaryLabel)}, 95% CI)</h3>
<div class="chart" id="ci-plot">${ciChartSvg(ev.candidates, ev.primaryMetric)}</div>
<p class="caption">Green: the interval lies above zero (better than the base with 95% confidence); red: below zero; grey: not distinguishable from the base.</p>
</section>`;
}

function scoresLine(answer: CandidateAnswer, isBase: boolean): string {
  if (!answer.scores) return '';
  const s = answer.scores;
  const judge = !isBase && answer.judge ? ` · judge <span class="badge ${answer.judge.outcome ?? 'neutral'}">${h(answer.judge.outcome ?? 'unreadable')}</span>` : '';
  return `<div class="scores">EM ${h(formatScore(s.exactMatch, 0))} · F1 ${h(formatScore(s.tokenF1, 2))} · ROUGE-L ${h(formatScore(s.rougeL, 2))}${judge}</div>`;
}

function answerCell(view: ExampleView, model: string, data: ReportData): string {
  const answer = view.row.answers[model];
  if (!answer) return '<td class="failed"><span class="badge fail">missing</span></td>';
  if (answer.text === null) {
    return `<td class="failed"><span class="badge fail">failed</span><div class="scores">${h(answer.error?.kind ?? 'no answer')}${answer.error?.code ? ` (${h(answer.error.code)})` : ''}</div></td>`;
  }
  let cls = '';
  if (model === data.focusModel && view.delta !== null && Math.abs(view.delta) >= 1e-9) cls = view.delta > 0 ? ' class="win"' : ' class="loss"';
  return `<td${cls}><div class="text">${h(truncateText(answer.text, 4000))}</div>${scoresLine(answer, model === data.baseModel)}</td>`;
}

function promptCell(view: ExampleView): string {
  const prompt = view.row.prompt ?? [];
  const messages = prompt
    .map((m) => `<div class="msg"><div class="role">${h(m.role)}</div><div class="text">${h(truncateText(messageText(m.content), 6000))}</div></div>`)
    .join('');
  return `<td><div class="text">${h(truncateText(lastUserText(prompt), 1200))}</div><details><summary>Full prompt · ${prompt.length} message${prompt.length === 1 ? '' : 's'}</summary>${messages}</details></td>`;
}

function examplesSection(data: ReportData): string {
  const ev = data.facts.eval;
  // Base and the model being contrasted first, so the comparison that matters needs no scrolling.
  const rank = (model: string) => (model === data.baseModel ? 0 : model === data.focusModel ? 1 : 2);
  const models = [...ev.candidates].sort((a, b) => rank(a.model) - rank(b.model));
  const primaryLabel = METRIC_LABELS[ev.primaryMetric];
  const focus = data.focusModel;
  const shown = data.examples.length;
  const intro = focus
    ? `Ordered by the size of the difference between <code>${h(focus)}</code> and the base on ${h(primaryLabel)}: largest wins and losses first. Green cells: the ${h(focus === ev.recommended ? 'recommended' : 'best non-base')} model scored higher than the base; red: lower.`
    : 'Only the base model was evaluated.';
  const capNote =
    data.totalExamples > shown
      ? `<p class="note-box" id="examples-cap">Showing ${shown} of ${formatInt(data.totalExamples)} examples. Every example, with all answers and scores, is in <code>${h(data.resultsPath ?? 'results.jsonl')}</code>.</p>`
      : '';
  if (shown === 0) {
    return `<section class="card" id="examples"><h2>Examples side by side</h2><p class="note-box">No per-example results were found${data.resultsPath ? ` in <code>${h(data.resultsPath)}</code>` : ''}.</p></section>`;
  }
  const colWidth = 230;
  const head = models
    .map(
      (c) =>
        `<th style="width:${colWidth}px"${c.model === focus ? ' class="focus"' : ''}><span class="name">${h(c.model)}</span><span class="role">${h(roleLabel(c))}${c.model === ev.recommended ? ' · recommended' : ''}</span></th>`,
    )
    .join('');
  const rows = data.examples
    .map((view) => {
      const d = view.delta;
      const deltaClass = d === null || Math.abs(d) < 1e-9 ? 'zero' : d > 0 ? 'pos' : 'neg';
      return `<tr id="example-${h(view.row.index)}"><td class="num">#${h(view.row.index)}<div class="delta ${deltaClass}">${d === null ? '—' : h(formatSigned(d, 2))}</div></td>${promptCell(view)}<td><div class="text">${h(truncateText(view.row.reference ?? '', 4000))}</div></td>${models.map((c) => answerCell(view, c.model, data)).join('')}</tr>`;
    })
    .join('');
  const width = 84 + 250 + 210 + models.length * colWidth;
  return `<section class="card" id="examples"><h2>Examples side by side</h2>
<p class="lede">${intro}</p>
<div class="table-scroll"><table class="examples" id="examples-table" style="width:${width}px"><thead><tr><th style="width:84px" class="num">example · Δ</th><th style="width:250px">prompt (last user turn)</th><th style="width:210px">reference</th>${head}</tr></thead><tbody>${rows}</tbody></table></div>
${capNote}
</section>`;
}

/** One self-contained page: inline CSS and SVG, no scripts, no external requests (the CSP forbids them). */
export function renderReportHtml(data: ReportData): string {
  const { facts } = data;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${h(`tuneflow report · ${facts.workflowId}`)}</title>
<style>${CSS}</style>
</head>
<body>
${header(data)}
<main><div class="wrap">
${decisionSection(data)}
${factsSection(data)}
${trainingSection(data)}
${checkpointsSection(data)}
${evaluationSection(data)}
${examplesSection(data)}
</div></main>
<footer><div class="wrap">Generated by tuneflow at ${h(data.generatedAt)} from run.json, metrics.jsonl and results.jsonl.</div></footer>
</body>
</html>
`;
}
