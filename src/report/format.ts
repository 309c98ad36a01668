// Signed numbers and intervals are worded the same in reports, run details and line histories.
export { formatCi, formatSigned } from '../domain/numbers';

/** Escapes text for HTML element content and attribute values (both quote kinds). */
export function escapeHtml(text: unknown): string {
  return String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Text for one Markdown table cell or inline span: HTML-escaped (renderers pass raw HTML through),
 * pipes and backslashes escaped, newlines as <br>.
 */
export function escapeMarkdownCell(text: unknown): string {
  return escapeHtml(text)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[*_`[\]]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, '<br>');
}

export function formatScore(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`;
}

export function formatInt(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : Math.round(value).toLocaleString('en-US');
}

export function formatDuration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h ${m}m ${s}s` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/** Shortens long model ids for chart labels, keeping the distinctive tail (job suffix, checkpoint step). */
export function shortModelName(model: string, max = 36): string {
  if (model.length <= max) return model;
  const keep = max - 1;
  const head = Math.ceil(keep * 0.4);
  return `${model.slice(0, head)}…${model.slice(model.length - (keep - head))}`;
}

export function truncateText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
