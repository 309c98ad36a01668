/** A score difference with its sign (+0.120, -0.050, 0.000); a dash for no value. */
export function formatSigned(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = value.toFixed(digits);
  return value > 0 ? `+${text}` : Number(text) === 0 ? text.replace('-', '') : text;
}

/** A 95% interval of differences: [-0.010, +0.080]. */
export function formatCi(ci: readonly [number, number] | undefined, digits = 3): string {
  return ci ? `[${formatSigned(ci[0], digits)}, ${formatSigned(ci[1], digits)}]` : '—';
}

