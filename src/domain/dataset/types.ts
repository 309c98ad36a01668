import type { TrainingCostEstimate } from './cost';
import type { Distribution } from './statistics';

/** One finding, at a 1-based line (0 for the file as a whole). Messages name fields, never values. */
export interface DatasetIssue {
  line: number;
  code: string;
  message: string;
}

/** Where one kind of personal data was seen: counts, and the first lines (never the values). */
export interface PiiFinding {
  occurrences: number;
  examples: number;
  /** Line numbers of the first examples with a finding, at most PII_LINES_LISTED. */
  lines: number[];
}

export interface ValidationStats {
  missingSystem: number;
  missingUser: number;
  messagesPerExample: Distribution;
  tokensPerExample: Distribution;
  assistantTokensPerExample: Distribution;
  /** Examples over the model's per-example token limit. */
  overTokenLimit: number;
}

export type CostBasis = 'whole_file' | 'train_split';

export interface TrainSplitCostEstimate extends TrainingCostEstimate {
  seed: number;
  validRatio: number;
  validExamples: number;
}

export interface ValidationReport {
  /** No errors, and not over budget. */
  valid: boolean;
  file: string;
  /** The model the facts are for (the dated snapshot of an alias). */
  model: string;
  requestedModel: string;
  /** False when the model is not in models.json and generic facts were assumed. */
  modelKnown: boolean;
  /** Non-blank lines: each is meant to be one example. */
  examples: number;
  /** Physical lines read (blank ones included). */
  lines: number;
  blankLines: number;
  /** The first issueListLimit errors in file order (file-level ones first); errorCounts has them all. */
  errors: DatasetIssue[];
  errorCounts: Record<string, number>;
  /** Errors counted but not listed because the list is capped. */
  errorsOmitted: number;
  warnings: DatasetIssue[];
  warningCounts: Record<string, number>;
  warningsOmitted: number;
  issueListLimit: number;
  stats: ValidationStats;
  tokens: { encoding: string; total: number; billing: number; limitPerExample: number | null };
  /** Figures of cost.basis, repeated here for the pipeline. */
  epochs: number;
  chargedTokens: number;
  estimatedCostUsd: number;
  cost: {
    /** train_split when a validRatio was given (the pipeline), else whole_file (the reference). */
    basis: CostBasis;
    priceKnown: boolean;
    trainingUsdPerMillionTokens: number | null;
    wholeFile: TrainingCostEstimate;
    trainSplit: TrainSplitCostEstimate | null;
    priceSource: string;
  };
  duplicates: {
    /** Distinct examples that occur more than once. */
    groups: number;
    /** Copies beyond the first of each. */
    duplicateExamples: number;
    /** Groups the split keeps whole on one side. */
    keptTogetherInSplit: number;
    /** Groups with copies on both sides: 0 by construction of the split. */
    leakage: number;
  };
  pii: { email: PiiFinding; phone: PiiFinding; paymentCard: PiiFinding };
  sha256: string;
  bytes: number;
  allowTruncation: boolean;
  budgetUsd?: number;
  /** Set when a budget was given: the estimate exceeds it. */
  overBudget?: boolean;
}

export interface SplitFileFacts {
  /** In a run: the file's key in the run store (an absolute path in runs from 0.2); a path when split into a local folder. */
  path: string;
  examples: number;
  sha256: string;
  bytes: number;
}

export interface SplitManifest {
  seed: number;
  validRatio: number;
  source: { path: string; sha256: string; examples: number };
  train: SplitFileFacts;
  valid: SplitFileFacts;
  /** round(examples × validRatio); valid.examples differs only when duplicate groups cannot fit it. */
  targetValidExamples: number;
  duplicates: { groups: number; keptTogether: number; leakage: number };
  blankLinesSkipped: number;
}
