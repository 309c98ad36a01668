import type { LineAnalysis } from './analysis';
import { FILE_LEVEL_LINE, type DatasetIssueCode } from './codes';
import { billingTokensOf, estimateTrainingCost } from './cost';
import { ExampleGroupIndex } from './example-groups';
import { MODEL_TABLE_SOURCE, type ModelFacts } from './models';
import { PII_KINDS, type PiiKind } from './pii';
import { assignSplit, checkSplitOptions, SPLIT_TRAIN } from './split';
import { distributionOf } from './statistics';
import type { DatasetIssue, PiiFinding, TrainSplitCostEstimate, ValidationReport } from './types';

/** Errors (and, separately, warnings) listed in a report; counts stay exact past it. */
export const ISSUE_LIST_LIMIT = 1000;
/** Lines listed per kind of PII finding. */
export const PII_LINES_LISTED = 100;
/** The provider refuses training files with fewer examples. */
export const MIN_EXAMPLES = 10;

const PII_WARNING_CODE: Record<PiiKind, DatasetIssueCode> = { email: 'pii_email', phone: 'pii_phone', paymentCard: 'pii_payment_card' };
const PII_NOUN: Record<PiiKind, string> = { email: 'email address', phone: 'phone number', paymentCard: 'payment card number' };

export interface ValidationAccumulatorOptions {
  file: string;
  facts: ModelFacts;
  allowTruncation: boolean;
  budgetUsd?: number | undefined;
  /** With a ratio, cost is computed on the training side of the split the pipeline will make. */
  validRatio?: number | undefined;
  seed?: number | undefined;
  issueListLimit?: number;
}

/** A Float64Array that grows: per-example figures at 8 bytes each. */
class GrowableNumbers {
  private values = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }
  addAt(index: number, value: number): void {
    while (index >= this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[index] = (this.values[index] as number) + value;
    if (index >= this.length) this.length = index + 1;
  }
  at(index: number): number {
    return index < this.length ? (this.values[index] as number) : 0;
  }
  view(): Float64Array {
    return this.values.subarray(0, this.length);
  }
}

/**
 * Builds a ValidationReport from line analyses fed in file order. Holds fixed-size figures per
 * example (a hash, a few numbers), never example text. Pure.
 */
export class ValidationAccumulator {
  private readonly limit: number;
  private readonly fileErrors: DatasetIssue[] = [];
  private readonly fileWarnings: DatasetIssue[] = [];
  private readonly lineErrors: DatasetIssue[] = [];
  private readonly lineWarnings: DatasetIssue[] = [];
  private readonly errorCounts: Record<string, number> = {};
  private readonly warningCounts: Record<string, number> = {};
  private errorsOmitted = 0;
  private warningsOmitted = 0;
  private lines = 0;
  private blankLines = 0;
  private examples = 0;
  private missingSystem = 0;
  private missingUser = 0;
  private overTokenLimit = 0;
  private totalTokens = 0;
  private billingTokens = 0;
  private readonly messagesPerExample = new GrowableNumbers();
  private readonly tokensPerExample = new GrowableNumbers();
  private readonly assistantTokensPerExample = new GrowableNumbers();
  private readonly groups = new ExampleGroupIndex();
  private readonly billingByGroup = new GrowableNumbers();
  private duplicateExamples = 0;
  private duplicateGroups = 0;
  private readonly pii: Record<PiiKind, PiiFinding> = { email: { occurrences: 0, examples: 0, lines: [] }, phone: { occurrences: 0, examples: 0, lines: [] }, paymentCard: { occurrences: 0, examples: 0, lines: [] } };

  constructor(private readonly options: ValidationAccumulatorOptions) {
    this.limit = options.issueListLimit ?? ISSUE_LIST_LIMIT;
    if (options.validRatio !== undefined) checkSplitOptions(options.seed ?? 0, options.validRatio);
    if (options.budgetUsd !== undefined && !(Number.isFinite(options.budgetUsd) && options.budgetUsd >= 0)) {
      throw new RangeError(`budgetUsd must be a non-negative number, got ${options.budgetUsd}`);
    }
    if (!options.facts.known) {
      this.fileIssue('unknown_model', 'warning', `model ${options.facts.requested} is not in the model table: no per-example limit checked, o200k_base assumed, price unknown`);
    }
  }

  /** A finding about the whole file (line 0); always listed. */
  fileIssue(code: DatasetIssueCode, severity: 'error' | 'warning', message: string): void {
    const issue = { line: FILE_LEVEL_LINE, code, message };
    if (severity === 'error') {
      this.fileErrors.push(issue);
      this.errorCounts[code] = (this.errorCounts[code] ?? 0) + 1;
    } else {
      this.fileWarnings.push(issue);
      this.warningCounts[code] = (this.warningCounts[code] ?? 0) + 1;
    }
  }

  private lineIssue(line: number, code: DatasetIssueCode, severity: 'error' | 'warning', message: string): void {
    if (severity === 'error') {
      this.errorCounts[code] = (this.errorCounts[code] ?? 0) + 1;
      if (this.lineErrors.length < this.limit) this.lineErrors.push({ line, code, message });
      else this.errorsOmitted++;
    } else {
      this.warningCounts[code] = (this.warningCounts[code] ?? 0) + 1;
      if (this.lineWarnings.length < this.limit) this.lineWarnings.push({ line, code, message });
      else this.warningsOmitted++;
    }
  }

  /** Feeds the next line; lines must come in file order. */
  add(analysis: LineAnalysis): void {
    this.lines++;
    const { line } = analysis;
    if (analysis.kind === 'blank') {
      this.blankLines++;
      this.lineIssue(line, 'blank_line', 'warning', 'blank line skipped (not an example)');
      return;
    }
    this.examples++;
    for (const issue of analysis.issues) this.lineIssue(line, issue.code, issue.severity, issue.message);
    if (analysis.kind !== 'example') return;

    this.messagesPerExample.push(analysis.messageCount);
    this.tokensPerExample.push(analysis.totalTokens);
    this.assistantTokensPerExample.push(analysis.assistantTokens);
    if (!analysis.hasSystem) this.missingSystem++;
    if (!analysis.hasUser) this.missingUser++;
    const limit = this.options.facts.tokenLimitPerExample;
    if (limit !== null && analysis.totalTokens > limit) this.overTokenLimit++;
    const billing = billingTokensOf(analysis.totalTokens, limit);
    this.totalTokens += analysis.totalTokens;
    this.billingTokens += billing;

    if (analysis.hash !== null) {
      const [h0, h1, h2, h3] = analysis.hash;
      const group = this.groups.add(h0, h1, h2, h3, line);
      this.billingByGroup.addAt(group, billing);
      const size = this.groups.sizeOf(group);
      if (size > 1) {
        this.duplicateExamples++;
        if (size === 2) this.duplicateGroups++;
        this.lineIssue(line, 'duplicate_example', 'warning', `exact duplicate of line ${this.groups.firstLineOf(group)} (kept on the same side of the split)`);
      }
    }

    if (analysis.pii !== null) {
      for (const kind of PII_KINDS) {
        const found = analysis.pii[kind];
        if (found === 0) continue;
        const finding = this.pii[kind];
        finding.occurrences += found;
        finding.examples++;
        if (finding.lines.length < PII_LINES_LISTED) finding.lines.push(line);
        this.lineIssue(line, PII_WARNING_CODE[kind], 'warning', `${found} possible ${PII_NOUN[kind]}${found === 1 ? '' : 's'} in the example's text (not shown)`);
      }
    }
  }

  /**
   * The report, once the whole file has been read; call once. linesRead false (a file refused
   * unread, e.g. too large) skips the example-count check, which would only add noise.
   */
  finish(file: { sha256: string; bytes: number }, { linesRead = true }: { linesRead?: boolean } = {}): ValidationReport {
    const { facts, budgetUsd, validRatio, allowTruncation } = this.options;
    const price = facts.trainingUsdPerMillionTokens;
    const wholeFile = estimateTrainingCost(this.examples, this.billingTokens, price);
    if (linesRead && this.examples < MIN_EXAMPLES) {
      this.fileIssue('too_few_examples', 'error', `the file has ${this.examples} example${this.examples === 1 ? '' : 's'}; fine-tuning needs at least ${MIN_EXAMPLES}`);
    }

    let trainSplit: TrainSplitCostEstimate | null = null;
    let keptTogether = 0;
    if (validRatio !== undefined) {
      const seed = this.options.seed ?? 0;
      const split = assignSplit(this.groups, seed, validRatio);
      keptTogether = split.duplicateGroupsKeptTogether;
      let trainBilling = 0;
      for (let id = 0; id < this.groups.groupCount; id++) if (split.sides[id] === SPLIT_TRAIN) trainBilling += this.billingByGroup.at(id);
      trainSplit = { ...estimateTrainingCost(split.trainExamples, trainBilling, price), seed, validRatio, validExamples: split.validExamples };
      if (linesRead && this.examples >= MIN_EXAMPLES && split.trainExamples < MIN_EXAMPLES) {
        this.fileIssue('too_few_examples', 'error', `the training side of the ${Math.round((1 - validRatio) * 100)}/${Math.round(validRatio * 100)} split has ${split.trainExamples} examples; fine-tuning needs at least ${MIN_EXAMPLES}`);
      }
    } else {
      keptTogether = this.duplicateGroups;
    }

    const basis = trainSplit ? 'train_split' : 'whole_file';
    const chosen = trainSplit ?? wholeFile;
    let overBudget: boolean | undefined;
    if (budgetUsd !== undefined) {
      if (price === null) this.fileIssue('budget_unverifiable', 'error', `a budget of $${budgetUsd} was set but no training price is known for model ${facts.requested}`);
      else overBudget = chosen.estimatedCostUsd > budgetUsd;
    }

    const errorTotal = Object.values(this.errorCounts).reduce((a, b) => a + b, 0);
    const report: ValidationReport = {
      valid: errorTotal === 0 && overBudget !== true,
      file: this.options.file,
      model: facts.model,
      requestedModel: facts.requested,
      modelKnown: facts.known,
      examples: this.examples,
      lines: this.lines,
      blankLines: this.blankLines,
      errors: [...this.fileErrors, ...this.lineErrors],
      errorCounts: { ...this.errorCounts },
      errorsOmitted: this.errorsOmitted,
      warnings: [...this.fileWarnings, ...this.lineWarnings],
      warningCounts: { ...this.warningCounts },
      warningsOmitted: this.warningsOmitted,
      issueListLimit: this.limit,
      stats: {
        missingSystem: this.missingSystem,
        missingUser: this.missingUser,
        messagesPerExample: distributionOf(this.messagesPerExample.view()),
        tokensPerExample: distributionOf(this.tokensPerExample.view()),
        assistantTokensPerExample: distributionOf(this.assistantTokensPerExample.view()),
        overTokenLimit: this.overTokenLimit,
      },
      tokens: { encoding: facts.encoding, total: this.totalTokens, billing: this.billingTokens, limitPerExample: facts.tokenLimitPerExample },
      epochs: chosen.epochs,
      chargedTokens: chosen.chargedTokens,
      estimatedCostUsd: chosen.estimatedCostUsd,
      cost: { basis, priceKnown: price !== null, trainingUsdPerMillionTokens: price, wholeFile, trainSplit, priceSource: MODEL_TABLE_SOURCE },
      duplicates: { groups: this.duplicateGroups, duplicateExamples: this.duplicateExamples, keptTogetherInSplit: keptTogether, leakage: 0 },
      pii: { email: this.pii.email, phone: this.pii.phone, paymentCard: this.pii.paymentCard },
      sha256: file.sha256,
      bytes: file.bytes,
      allowTruncation,
    };
    if (budgetUsd !== undefined) report.budgetUsd = budgetUsd;
    if (overBudget !== undefined) report.overBudget = overBudget;
    return report;
  }
}
