import type { CheckpointSummary, ChosenModel } from '../domain/checkpoints';
import type { CandidateResult, MetricName } from '../domain/run';
import type { TrainingMetricsRow } from './data';
import { escapeHtml, formatSigned, shortModelName } from './format';

/** Matches the report's content width, so charts render at 1:1 and text keeps its size. */
export const CHART_WIDTH = 1072;

/** Colours shared with the page's CSS. */
export const PALETTE = {
  train: '#3b6fd8',
  valid: '#e07b1a',
  checkpoint: '#7a8494',
  best: '#138a4f',
  axis: '#9aa3b2',
  grid: '#e6e9ef',
  text: '#3a4150',
  positive: '#138a4f',
  negative: '#c2372f',
  neutral: '#6b7383',
} as const;

/** About five round tick values covering [min, max] (1, 2, 2.5 or 5 times a power of ten apart). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power);
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if ((ticks[0] ?? min) > min) ticks.unshift(Number(((ticks[0] ?? min) - step).toPrecision(12)));
  if ((ticks[ticks.length - 1] ?? max) < max) ticks.push(Number(((ticks[ticks.length - 1] ?? max) + step).toPrecision(12)));
  return ticks;
}

function tickLabel(v: number): string {
  const abs = Math.abs(v);
  if (abs === 0) return '0';
  if (abs >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (abs >= 10) return v.toFixed(0);
  return Number(v.toPrecision(3)).toString();
}

const f = (n: number) => Number(n.toFixed(1)).toString();

function emptyChart(width: number, height: number, label: string, message: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}">` +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" fill="#fafbfc" stroke="${PALETTE.grid}" rx="6"/>` +
    `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" dominant-baseline="middle" fill="${PALETTE.neutral}" font-size="14">${escapeHtml(message)}</text></svg>`
  );
}

/**
 * Train and validation loss against step, with each checkpoint's full validation loss marked on a
 * dashed line and the chosen checkpoint in green.
 */
export function lossChartSvg(
  metrics: readonly TrainingMetricsRow[],
  checkpoints: readonly CheckpointSummary[],
  chosen: ChosenModel | null,
  options: { width?: number; height?: number } = {},
): string {
  const width = options.width ?? CHART_WIDTH;
  const height = options.height ?? 320;
  const label = 'Training and validation loss by step, with checkpoints';
  const train = metrics.filter((r) => r.trainLoss !== null).map((r) => ({ x: r.step, y: r.trainLoss as number }));
  const valid = metrics.filter((r) => r.validLoss !== null).map((r) => ({ x: r.step, y: r.validLoss as number }));
  const marks = checkpoints.map((c) => ({ x: c.step, y: c.fullValidLoss, model: c.model }));
  const xs = [...train, ...valid, ...marks].map((p) => p.x);
  const ys = [...train, ...valid].map((p) => p.y).concat(marks.flatMap((m) => (m.y === null ? [] : [m.y])));
  if (xs.length === 0 || ys.length === 0) return emptyChart(width, height, label, 'No training metrics were recorded for this job.');

  const m = { left: 56, right: 20, top: 30, bottom: 42 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xTicks = niceTicks(Math.min(0, ...xs), Math.max(...xs), 6);
  const yTicks = niceTicks(0, Math.max(...ys), 5);
  const x0 = xTicks[0] as number;
  const x1 = xTicks[xTicks.length - 1] as number;
  const y0 = yTicks[0] as number;
  const y1 = yTicks[yTicks.length - 1] as number;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (v: number) => m.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}" font-size="12" fill="${PALETTE.text}">`);
  parts.push(`<title>${escapeHtml(label)}</title>`);
  for (const t of yTicks) {
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="${PALETTE.grid}"/>`);
    parts.push(`<text x="${m.left - 8}" y="${f(sy(t))}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}" stroke="${PALETTE.axis}"/>`);
    parts.push(`<text x="${f(sx(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="${PALETTE.axis}"/>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle">step</text>`);
  parts.push(`<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">loss</text>`);

  for (const mark of marks) {
    const best = chosen?.source === 'checkpoint' && chosen.model === mark.model;
    const colour = best ? PALETTE.best : PALETTE.checkpoint;
    parts.push(
      `<line x1="${f(sx(mark.x))}" x2="${f(sx(mark.x))}" y1="${m.top}" y2="${m.top + plotH}" stroke="${colour}" stroke-dasharray="4 4" stroke-width="${best ? 1.6 : 1}" opacity="${best ? 0.9 : 0.6}"/>`,
    );
    parts.push(`<text x="${f(sx(mark.x))}" y="${m.top - 8}" text-anchor="middle" fill="${colour}" font-size="11"${best ? ' font-weight="600"' : ''}>${best ? `best · ${mark.x}` : mark.x}</text>`);
  }

  const path = (points: Array<{ x: number; y: number }>) =>
    points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(sx(p.x))} ${f(sy(p.y))}`).join(' ');
  if (train.length > 0) {
    parts.push(`<path d="${path(train)}" fill="none" stroke="${PALETTE.train}" stroke-width="1.5" stroke-linejoin="round" opacity="0.85"/>`);
  }
  if (valid.length > 0) {
    parts.push(`<path d="${path(valid)}" fill="none" stroke="${PALETTE.valid}" stroke-width="2" stroke-linejoin="round"/>`);
    if (valid.length <= 60) for (const p of valid) parts.push(`<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="2.5" fill="${PALETTE.valid}"/>`);
  }
  for (const mark of marks) {
    if (mark.y === null) continue;
    const best = chosen?.source === 'checkpoint' && chosen.model === mark.model;
    const cx = sx(mark.x);
    const cy = sy(mark.y);
    const r = best ? 7 : 5.5;
    parts.push(
      `<path d="M${f(cx)} ${f(cy - r)} L${f(cx + r)} ${f(cy)} L${f(cx)} ${f(cy + r)} L${f(cx - r)} ${f(cy)} Z" fill="${best ? PALETTE.best : '#fff'}" stroke="${best ? PALETTE.best : PALETTE.checkpoint}" stroke-width="1.5"><title>${escapeHtml(`${mark.model}\nstep ${mark.x}, full validation loss ${mark.y.toFixed(4)}`)}</title></path>`,
    );
  }

  const legend: Array<[string, string, 'line' | 'diamond']> = [];
  if (train.length > 0) legend.push(['train loss', PALETTE.train, 'line']);
  if (valid.length > 0) legend.push(['validation loss', PALETTE.valid, 'line']);
  if (marks.length > 0) legend.push(['checkpoint full valid loss', PALETTE.checkpoint, 'diamond']);
  let lx = m.left + plotW;
  const items: string[] = [];
  for (const [text, colour, kind] of legend.reverse()) {
    const w = 26 + text.length * 6.4;
    lx -= w;
    const swatch =
      kind === 'line'
        ? `<line x1="${f(lx)}" x2="${f(lx + 16)}" y1="${m.top + 10}" y2="${m.top + 10}" stroke="${colour}" stroke-width="2.5"/>`
        : `<path d="M${f(lx + 8)} ${m.top + 5} L${f(lx + 13)} ${m.top + 10} L${f(lx + 8)} ${m.top + 15} L${f(lx + 3)} ${m.top + 10} Z" fill="#fff" stroke="${colour}" stroke-width="1.5"/>`;
    items.push(`${swatch}<text x="${f(lx + 20)}" y="${m.top + 10}" dominant-baseline="middle" font-size="11">${escapeHtml(text)}</text>`);
    lx -= 10;
  }
  parts.push(`<rect x="${f(lx)}" y="${m.top + 1}" width="${f(m.left + plotW - lx)}" height="18" fill="#fff" opacity="0.85"/>`);
  parts.push(...items);
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Each non-base candidate's mean difference from the base on a metric with its 95% CI: green when
 * the interval lies above zero, red below, grey when it straddles zero.
 */
export function ciChartSvg(candidates: readonly CandidateResult[], metric: MetricName, options: { width?: number } = {}): string {
  const width = options.width ?? CHART_WIDTH;
  const rows = candidates.filter((c) => c.role !== 'base' && c.metrics[metric]);
  const label = `Difference from the base model in ${metric}, with 95% confidence intervals`;
  if (rows.length === 0) return emptyChart(width, 80, label, 'No candidate besides the base model was evaluated.');
  const rowH = 40;
  const m = { left: 340, right: 90, top: 8, bottom: 40 };
  const height = m.top + rows.length * rowH + m.bottom;
  const plotW = width - m.left - m.right;
  const bounds = rows.flatMap((c) => {
    const s = c.metrics[metric];
    return s ? [s.ci95[0], s.ci95[1], s.diffVsBase] : [];
  });
  const extent = Math.max(0.01, ...bounds.map((b) => Math.abs(b)));
  const ticks = niceTicks(-extent, extent, 6);
  const x0 = ticks[0] as number;
  const x1 = ticks[ticks.length - 1] as number;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const bottom = m.top + rows.length * rowH;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}" font-size="12" fill="${PALETTE.text}">`);
  parts.push(`<title>${escapeHtml(label)}</title>`);
  // Row bands first, so grid lines and the zero line stay visible on top of them.
  rows.forEach((_, i) => {
    if (i % 2 === 0) parts.push(`<rect x="0" y="${m.top + i * rowH}" width="${width}" height="${rowH}" fill="#f6f7f9"/>`);
  });
  for (const t of ticks) {
    parts.push(`<line x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${m.top}" y2="${bottom}" stroke="${t === 0 ? PALETTE.axis : PALETTE.grid}"${t === 0 ? ' stroke-width="1.5"' : ''}/>`);
    parts.push(`<text x="${f(sx(t))}" y="${bottom + 16}" text-anchor="middle">${t > 0 ? '+' : ''}${tickLabel(t)}</text>`);
  }
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(`${metric}: candidate − base`)}</text>`);
  rows.forEach((c, i) => {
    const s = c.metrics[metric];
    if (!s) return;
    const top = m.top + i * rowH;
    const cy = top + rowH / 2;
    const colour = s.ci95[0] > 0 ? PALETTE.positive : s.ci95[1] < 0 ? PALETTE.negative : PALETTE.neutral;
    const role = c.role === 'checkpoint' && c.step !== null ? `checkpoint · step ${c.step}` : c.role === 'final' ? 'fine-tuned (final)' : c.role === 'extra' ? 'compared model' : c.role;
    parts.push(
      `<text x="12" y="${top + 17}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="11.5"><title>${escapeHtml(c.model)}</title>${escapeHtml(shortModelName(c.model, 46))}</text>`,
    );
    parts.push(`<text x="12" y="${top + 31}" fill="${PALETTE.neutral}" font-size="11">${escapeHtml(role)}</text>`);
    parts.push(`<line x1="${f(sx(s.ci95[0]))}" x2="${f(sx(s.ci95[1]))}" y1="${cy}" y2="${cy}" stroke="${colour}" stroke-width="2.5" stroke-linecap="round"/>`);
    for (const end of s.ci95) parts.push(`<line x1="${f(sx(end))}" x2="${f(sx(end))}" y1="${cy - 6}" y2="${cy + 6}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<circle cx="${f(sx(s.diffVsBase))}" cy="${cy}" r="5" fill="${colour}"><title>${escapeHtml(`${c.model}: ${formatSigned(s.diffVsBase)} [${formatSigned(s.ci95[0])}, ${formatSigned(s.ci95[1])}]`)}</title></circle>`);
    parts.push(`<text x="${width - m.right + 12}" y="${cy}" dominant-baseline="middle" fill="${colour}" font-weight="600">${formatSigned(s.diffVsBase)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
