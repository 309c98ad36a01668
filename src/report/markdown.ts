import { lastUserText, messageText } from '../domain/eval/types';
import type { ReportData } from './data';
import {
  escapeMarkdownCell as md,
  formatCi,
  formatDuration,
  formatInt,
  formatScore,
  formatSigned,
  formatUsd,
  truncateText,
} from './format';
import { decisionSentences, lineSentences, METRIC_LABELS, roleLabel } from './text';

function formatSeconds(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

function table(head: string[], rows: string[][], align?: Array<'l' | 'r'>): string {
  const sep = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const code = (text: unknown) => `<code>${md(text)}</code>`;

/** The run report as GitHub-flavoured Markdown (charts are in the HTML report). */
export function renderReportMarkdown(data: ReportData): string {
  const { facts } = data;
  const ev = facts.eval;
  const d = facts.dataset;
  const label = METRIC_LABELS[ev.primaryMetric];
  const text = decisionSentences(facts);
  const lines = lineSentences(facts);
  const out: string[] = [];

  out.push(`# tuneflow run report: ${md(facts.workflowId)}`, '');
  out.push(`**Status:** ${md(facts.status)} · base ${code(facts.baseModel)} → ${code(facts.job.fineTunedModel)} · ${md(formatDuration(facts.startedAt, facts.finishedAt))}`, '');

  out.push('## Decision', '');
  out.push(md(text.headline), '');
  out.push(
    table(
      ['', ''],
      [
        ['Recommended model', code(ev.recommended)],
        ['Beats the base model', `${ev.beatsBase ? '**yes**' : '**no**'}: ${md(text.beatsBase)}`],
        ['Gate', ev.gate ? `**${ev.gate.outcome}** (min improvement ${md(formatSigned(ev.gate.minImprovement))}${ev.gate.against === 'champion' ? ', against the champion' : ''})` : 'not set'],
        ...(lines.champion ? [['Champion', md(lines.champion)]] : []),
        ...(lines.decision ? [['Decided', md(lines.decision)]] : []),
      ],
    ),
    '',
    `_${md(text.method)}_`,
    '',
  );

  out.push('## Run facts', '');
  const hp = facts.job.hyperparameters ?? {};
  out.push(
    table(
      ['Fact', 'Value'],
      [
        ['Dataset', `${code(d.path)} (${formatInt(d.examples)} examples, sha256 ${code(d.sha256.slice(0, 16))}…)`],
        ['Split', `${formatInt(d.train.examples)} train / ${formatInt(d.valid.examples)} validation (${Math.round(d.validRatio * 100)}% held out, seed ${d.seed})`],
        ['Uploaded files', `train ${code(d.train.fileId)}, validation ${code(d.valid.fileId)}`],
        ['Base model', code(facts.baseModel)],
        ['Provider', facts.provider.baseURL ? code(facts.provider.baseURL) : 'OpenAI (default endpoint)'],
        ['Job', code(facts.job.id)],
        ['Fine-tuned model', code(facts.job.fineTunedModel)],
        ['Hyperparameters', Object.keys(hp).length ? Object.entries(hp).map(([k, v]) => `${md(k)}=${md(typeof v === 'object' ? JSON.stringify(v) : String(v))}`).join(', ') : 'provider defaults'],
        ['Estimated cost', `${md(formatUsd(facts.cost.estimatedCostUsd))} (${formatInt(facts.cost.chargedTokens)} charged tokens, ${formatInt(facts.cost.epochs)} epochs)`],
        ['Trained tokens', formatInt(facts.job.trainedTokens)],
        ['Started / finished', `${md(facts.startedAt)} / ${md(facts.finishedAt)}`],
      ],
    ),
    '',
  );

  out.push('## Training curves', '');
  if (data.metrics.length) {
    const lastTrain = [...data.metrics].reverse().find((r) => r.trainLoss !== null);
    const lastValid = [...data.metrics].reverse().find((r) => r.validLoss !== null);
    out.push(
      `${formatInt(data.metrics.length)} metric rows from step ${data.metrics[0]?.step} to ${data.metrics[data.metrics.length - 1]?.step}. ` +
        `Last train loss ${formatScore(lastTrain?.trainLoss ?? null)}, last validation loss ${formatScore(lastValid?.validLoss ?? null)}. ` +
        'The loss chart is in report.html.',
      '',
    );
  } else out.push('The provider reported no step metrics for this job.', '');

  out.push('## Checkpoints', '');
  if (facts.checkpoints.length) {
    out.push(
      table(
        ['Step', 'Model', 'Full valid loss', 'Full valid token accuracy', ''],
        [...facts.checkpoints]
          .sort((a, b) => a.step - b.step)
          .map((c) => {
            const best = facts.chosen.source === 'checkpoint' && facts.chosen.model === c.model;
            return [String(c.step), code(c.model), formatScore(c.fullValidLoss, 4), formatScore(c.fullValidMeanTokenAccuracy, 4), best ? '**chosen (lowest loss)**' : ''];
          }),
        ['r', 'l', 'r', 'r', 'l'],
      ),
      '',
    );
  } else out.push('The provider listed no checkpoints for this job.', '');
  if (facts.chosen.source === 'final') out.push(`Final model ${code(facts.chosen.model)} chosen: ${md(facts.chosen.reason ?? 'no checkpoint reported a loss')}.`, '');

  if (facts.serving) {
    const sv = facts.serving;
    out.push(`## ${sv.kind === 'deployment' ? 'Deployments' : 'Endpoints'}`, '');
    out.push(
      `The provider answers for a fine-tuned model only once it is deployed. ${formatInt(sv.deployments.length)} ${sv.kind}${sv.deployments.length === 1 ? '' : 's'} took ${formatSeconds(sv.deployingSeconds)} to become ready; ` +
        `they were hosted for ${sv.hostedSeconds === null ? 'an unknown time' : formatSeconds(sv.hostedSeconds)} and ${formatInt(sv.removed)} were deleted afterwards. ` +
        `Hosting cost: ${sv.hostingCostUsd === null ? 'not published by the provider for this tier' : `$${sv.hostingCostUsd.toFixed(2)}`}${sv.hourlyCostUsd === null ? '' : ` ($${sv.hourlyCostUsd.toFixed(2)} per hour)`}.`,
      '',
      table(['Model', 'Served as', 'Created by the run'], sv.deployments.map((d) => [code(d.model), code(d.servedAs), d.created ? 'yes' : 'no (serverless)']), ['l', 'l', 'l']),
      '',
    );
  }

  out.push('## Evaluation', '');
  out.push(
    `${formatInt(ev.examples)} examples, temperature 0. Primary metric: **${label}**. Δ = mean per-example difference from the base; 95% CI by paired bootstrap (${formatInt(ev.bootstrapIterations)} resamples, seed ${ev.seed}). W / T / L on ${label}.` +
      (ev.judgeModel ? ` Judge: ${code(ev.judgeModel)} (both orders; score = win rate, ties ½, base 0.5).` : '') +
      (ev.failedExamples ? ` ${ev.failedExamples} example${ev.failedExamples === 1 ? '' : 's'} without an answer from at least one model.` : ''),
    '',
  );
  const hasJudge = ev.judgeModel !== null;
  out.push(
    table(
      ['Model', 'Role', 'Exact match', 'Token F1', 'ROUGE-L', ...(hasJudge ? ['Judge'] : []), `Δ ${label}`, '95% CI', 'W / T / L', 'Failed'],
      ev.candidates.map((c) => {
        const p = c.metrics[ev.primaryMetric];
        const base = c.role === 'base';
        return [
          `${code(c.model)}${c.model === ev.recommended ? ' **(recommended)**' : ''}`,
          md(roleLabel(c)),
          formatScore(c.metrics.exactMatch.mean),
          formatScore(c.metrics.tokenF1.mean),
          formatScore(c.metrics.rougeL.mean),
          ...(hasJudge ? [formatScore(c.metrics.judge?.mean)] : []),
          base ? '—' : formatSigned(p?.diffVsBase),
          base ? '—' : formatCi(p?.ci95),
          base ? '—' : `${c.vsBase.wins} / ${c.vsBase.ties} / ${c.vsBase.losses}`,
          String(c.failedExamples),
        ];
      }),
      ['l', 'l', 'r', 'r', 'r', ...(hasJudge ? (['r'] as const) : []), 'r', 'r', 'r', 'r'],
    ),
    '',
  );

  out.push('## Examples side by side', '');
  if (data.examples.length === 0) {
    out.push('No per-example results were found.', '');
  } else {
    out.push(
      data.focusModel
        ? `Largest differences between ${code(data.focusModel)} and the base on ${label} first (wins and losses).`
        : 'Only the base model was evaluated.',
      '',
    );
    for (const view of data.examples) {
      const row = view.row;
      out.push(`### Example ${row.index}${view.delta === null ? '' : ` (Δ ${label} ${formatSigned(view.delta, 2)})`}`, '');
      out.push(`**Prompt (last user turn):** ${md(truncateText(lastUserText(row.prompt ?? []), 600))}`, '');
      if ((row.prompt ?? []).length > 1) {
        out.push('<details><summary>Full prompt</summary>', '');
        for (const m of row.prompt) out.push(`- **${md(m.role)}:** ${md(truncateText(messageText(m.content), 1500))}`);
        out.push('', '</details>', '');
      }
      out.push(`**Reference:** ${md(truncateText(row.reference ?? '', 800))}`, '');
      out.push(
        table(
          ['Model', 'Answer', 'EM', 'F1', 'ROUGE-L', ...(hasJudge ? ['Judge'] : [])],
          ev.candidates.map((c) => {
            const a = row.answers[c.model];
            if (!a || a.text === null || !a.scores) {
              return [code(c.model), `_failed: ${md(a?.error?.kind ?? 'missing')}_`, '—', '—', '—', ...(hasJudge ? ['—'] : [])];
            }
            return [
              code(c.model),
              md(truncateText(a.text, 800)),
              formatScore(a.scores.exactMatch, 0),
              formatScore(a.scores.tokenF1, 2),
              formatScore(a.scores.rougeL, 2),
              ...(hasJudge ? [c.role === 'base' ? '—' : md(a.judge?.outcome ?? 'unreadable')] : []),
            ];
          }),
          ['l', 'l', 'r', 'r', 'r', ...(hasJudge ? (['l'] as const) : [])],
        ),
        '',
      );
    }
    if (data.totalExamples > data.examples.length) {
      out.push(`_Showing ${data.examples.length} of ${formatInt(data.totalExamples)} examples; all are in ${code(data.resultsPath ?? 'results.jsonl')}._`, '');
    }
  }
  out.push(`_Generated by tuneflow at ${md(data.generatedAt)}._`, '');
  return out.join('\n');
}
