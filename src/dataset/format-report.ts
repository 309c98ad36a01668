import { DATASET_CODE_DESCRIPTIONS, formatUsd, validationFailureMessage, type DatasetIssue, type DatasetIssueCode, type Distribution, type ValidationReport } from '../domain/dataset';

/** Line numbers shown per code; the count says how many there are. */
const LINES_SHOWN_PER_CODE = 5;

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${decimal.format(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${decimal.format(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

function formatDistribution(d: Distribution): string {
  return `min ${decimal.format(d.min)}, max ${decimal.format(d.max)}, mean ${decimal.format(d.mean)}, median ${decimal.format(d.median)}, p10 ${decimal.format(d.p10)}, p90 ${decimal.format(d.p90)}`;
}

function describe(code: string): string {
  return DATASET_CODE_DESCRIPTIONS[code as DatasetIssueCode] ?? '';
}

/** Issues grouped by code (most frequent first), with the first line numbers of each. */
function groupedIssues(issues: DatasetIssue[], counts: Record<string, number>): string[] {
  const linesByCode = new Map<string, number[]>();
  for (const issue of issues) {
    const lines = linesByCode.get(issue.code) ?? [];
    if (!lines.includes(issue.line)) lines.push(issue.line);
    linesByCode.set(issue.code, lines);
  }
  const out: string[] = [];
  for (const [code, count] of Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b))) {
    const lines = linesByCode.get(code) ?? [];
    const fileLevel = lines.length === 1 && lines[0] === 0;
    const shown = lines.filter((l) => l !== 0).slice(0, LINES_SHOWN_PER_CODE);
    const where = fileLevel ? 'file' : shown.length > 0 ? `line${shown.length === 1 ? '' : 's'} ${shown.join(', ')}${count > shown.length ? ', …' : ''}` : 'lines not listed';
    out.push(`  ${code} ×${integer.format(count)} (${where}): ${describe(code)}`);
    if (fileLevel) {
      const message = issues.find((i) => i.code === code)?.message;
      if (message) out.push(`      ${message}`);
    }
  }
  return out;
}

/** The report for a person: errors grouped by code, then statistics, then cost. */
export function formatValidationReport(report: ValidationReport): string {
  const errorTotal = Object.values(report.errorCounts).reduce((a, b) => a + b, 0);
  const warningTotal = Object.values(report.warningCounts).reduce((a, b) => a + b, 0);
  const out: string[] = [];
  out.push(`Dataset  ${report.file} (${formatBytes(report.bytes)}, sha256 ${report.sha256.slice(0, 12)}…)`);
  const price = report.cost.trainingUsdPerMillionTokens;
  const limit = report.tokens.limitPerExample;
  out.push(
    `Model    ${report.model}${report.requestedModel !== report.model ? ` (from ${report.requestedModel})` : ''}: ${report.tokens.encoding}, ` +
      `${limit === null ? 'per-example limit unknown' : `${integer.format(limit)} tokens per example`}, ` +
      `${price === null ? 'training price unknown' : `${formatUsd(price)} per 1M training tokens`}`,
  );
  const verdict = report.valid ? 'VALID' : report.overBudget && errorTotal === 0 ? 'OVER BUDGET' : 'INVALID';
  out.push(`Result   ${verdict}: ${integer.format(errorTotal)} error${errorTotal === 1 ? '' : 's'}, ${integer.format(warningTotal)} warning${warningTotal === 1 ? '' : 's'}`);

  if (errorTotal > 0) {
    out.push('', `Errors (${integer.format(errorTotal)})`, ...groupedIssues(report.errors, report.errorCounts));
    if (report.errorsOmitted > 0) out.push(`  (the list keeps the first ${integer.format(report.issueListLimit)} errors; ${integer.format(report.errorsOmitted)} more are counted above but not listed)`);
  }
  if (warningTotal > 0) {
    out.push('', `Warnings (${integer.format(warningTotal)})`, ...groupedIssues(report.warnings, report.warningCounts));
    if (report.warningsOmitted > 0) out.push(`  (the list keeps the first ${integer.format(report.issueListLimit)} warnings; ${integer.format(report.warningsOmitted)} more are counted above but not listed)`);
  }

  const s = report.stats;
  out.push(
    '',
    'Statistics',
    `  examples                      ${integer.format(report.examples)}${report.blankLines > 0 ? ` (${integer.format(report.blankLines)} blank line${report.blankLines === 1 ? '' : 's'} skipped)` : ''}`,
    `  missing a system message      ${integer.format(s.missingSystem)}`,
    `  missing a user message        ${integer.format(s.missingUser)}`,
    `  messages per example          ${formatDistribution(s.messagesPerExample)}`,
    `  tokens per example            ${formatDistribution(s.tokensPerExample)}`,
    `  assistant tokens per example  ${formatDistribution(s.assistantTokensPerExample)}`,
    `  over the per-example limit    ${integer.format(s.overTokenLimit)}${s.overTokenLimit > 0 ? (report.allowTruncation ? ' (will be truncated)' : '') : ''}`,
    `  exact duplicates              ${integer.format(report.duplicates.duplicateExamples)} cop${report.duplicates.duplicateExamples === 1 ? 'y' : 'ies'} in ${integer.format(report.duplicates.groups)} group${report.duplicates.groups === 1 ? '' : 's'} (each kept on one side of the split)`,
    `  possible PII (examples)       email ${integer.format(report.pii.email.examples)}, phone ${integer.format(report.pii.phone.examples)}, payment card ${integer.format(report.pii.paymentCard.examples)}`,
  );

  const cost = report.cost;
  out.push('', 'Cost (estimate: the provider counts the tokens it bills)');
  out.push(`  tokens                        ${integer.format(report.tokens.total)} in the file, ${integer.format(report.tokens.billing)} billable (each example capped at the limit)`);
  if (cost.trainSplit) {
    const t = cost.trainSplit;
    out.push(`  training split                ${integer.format(t.examples)} examples (${integer.format(t.validExamples)} held out for validation, seed ${t.seed}), ${integer.format(t.billingTokens)} billable tokens`);
  }
  out.push(`  epochs                        ${report.epochs} (default heuristic, on ${cost.basis === 'train_split' ? 'the training split' : 'the whole file'})`);
  out.push(`  charged tokens                ${integer.format(report.chargedTokens)}`);
  out.push(`  estimated cost                ${cost.priceKnown ? formatUsd(report.estimatedCostUsd) : 'unknown (no price for this model)'}${report.budgetUsd !== undefined ? ` (budget ${formatUsd(report.budgetUsd)}: ${report.overBudget ? 'OVER' : report.overBudget === false ? 'within' : 'not checked'})` : ''}`);
  if (cost.basis === 'train_split') {
    out.push(`  whole file, as the reference  ${cost.wholeFile.epochs} epochs, ${integer.format(cost.wholeFile.chargedTokens)} charged tokens, ${cost.priceKnown ? formatUsd(cost.wholeFile.estimatedCostUsd) : 'price unknown'}`);
  }

  const refusal = validationFailureMessage(report);
  if (refusal) out.push('', `Refused: ${refusal}`);
  return out.join('\n');
}
