import type { CheckpointSummary, ChosenModel } from './checkpoints';

/** `champion`: the model line's current champion, evaluated beside the run's own models. */
export type CandidateRole = 'base' | 'checkpoint' | 'final' | 'extra' | 'champion';

export interface EvalCandidate {
  model: string;
  role: CandidateRole;
  /** Training step of a checkpoint; null for base, final and extra models. */
  step: number | null;
  fullValidLoss: number | null;
  /** The name chat takes for this model when it differs (an Azure deployment, a Together endpoint); absent: `model`. */
  servedAs?: string;
}

export type MetricName = 'exactMatch' | 'tokenF1' | 'rougeL' | 'judge';

export interface MetricSummary {
  mean: number;
  /** Mean of the per-example difference from the base model. */
  diffVsBase: number;
  /** 95% paired-bootstrap confidence interval of that difference ([0, 0] for the base model itself). */
  ci95: [number, number];
}

export interface CandidateResult extends EvalCandidate {
  metrics: Partial<Record<MetricName, MetricSummary>> & Record<'exactMatch' | 'tokenF1' | 'rougeL', MetricSummary>;
  /** Per-example comparison on the primary metric against the base model. */
  vsBase: { wins: number; ties: number; losses: number };
  failedExamples: number;
  /** With a judge model: the order-combined judge outcomes against the base (non-base candidates only). */
  judgeVsBase?: { wins: number; ties: number; losses: number; unreadable: number };
}

export interface EvalSummary {
  examples: number;
  failedExamples: number;
  primaryMetric: MetricName;
  seed: number;
  bootstrapIterations: number;
  candidates: CandidateResult[];
  recommended: string;
  /** True when the recommended model's primary-metric CI of the difference from base lies above zero. */
  beatsBase: boolean;
  judgeModel: string | null;
  /**
   * promoted/rejected by the evaluation alone. `against`: what the challenger had to beat: the base, or
   * (runs of a model line with a champion) the champion as well; absent in runs before 0.4 (the base).
   */
  gate: { minImprovement: number; outcome: 'promoted' | 'rejected'; against?: 'base' | 'champion'; challenger?: string | null } | null;
  /** Runs of a line with a champion: the run's best model against the champion on the primary metric (paired). */
  vsChampion?: ChampionComparison | null;
  /** Per-example answers and scores (JSONL): a key in the run store (an absolute path in runs from 0.2). */
  resultsPath: string;
}

export interface ChampionComparison {
  champion: string;
  /** The run's best fine-tuned model (checkpoint or final) by the primary metric. */
  challenger: string;
  /** Mean per-example difference challenger − champion, and its 95% paired-bootstrap CI. */
  diff: number;
  ci95: [number, number];
  /** True when the CI lies entirely above zero. */
  beatsChampion: boolean;
  /** Examples both answered. */
  paired: number;
}

/** One row of a run's metrics.jsonl: written by the job poll from metrics events, read by the report. */
export interface TrainingMetricsRow {
  step: number;
  trainLoss: number | null;
  trainAccuracy: number | null;
  validLoss: number | null;
  validAccuracy: number | null;
  /** Present on rows the provider marks with a full validation pass (OpenAI: at checkpoints). */
  fullValidLoss?: number | null;
}

/** A metric read from JSON: a finite number, or null for anything else. */
export function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Everything the run report shows, written as run.json beside the run's other artifacts. */
/**
 * Where one run keeps its files under the artifacts folder: `<workflow id>/<first run id>`, so a second
 * run under the same workflow id never reads or mixes the first one's. Runs before 0.2 used the workflow id.
 */
export function runArtifactsKey(workflowId: string, firstRunId: string): string {
  return `${workflowId}/${firstRunId}`;
}

export interface RunFacts {
  workflowId: string;
  /** The run's artifacts key (see runArtifactsKey); absent for runs before 0.2, whose key was the workflow id. */
  runKey?: string;
  status: 'succeeded' | 'promoted' | 'rejected';
  startedAt: string;
  /** Runs from 0.4: the model line, and the decision on the run's model (by the gate, a person or the approval timeout). */
  line?: { name: string; champion: string | null } | null;
  decision?: RunDecision | null;
  finishedAt: string;
  baseModel: string;
  provider: { baseURL: string | null };
  dataset: {
    path: string;
    sha256: string;
    examples: number;
    train: { examples: number; sha256: string; fileId: string };
    valid: { examples: number; sha256: string; fileId: string };
    seed: number;
    validRatio: number;
  };
  cost: { estimatedCostUsd: number; chargedTokens: number; epochs: number };
  job: {
    id: string;
    fineTunedModel: string;
    trainedTokens: number | null;
    hyperparameters: Record<string, unknown> | null;
  };
  checkpoints: CheckpointSummary[];
  chosen: ChosenModel;
  eval: EvalSummary;
  /** JSONL of TrainingMetricsRow, from the job's metrics events. */
  metricsPath: string;
  /** Present when the provider had to deploy the models before they answered. */
  serving?: ServingFacts;
}

/** What became of the run's model: promoted (to the line's champion, for runs of a line) or rejected, and by whom. */
export interface RunDecision {
  outcome: 'promoted' | 'rejected';
  /** The model promoted, or the challenger rejected; null when the run had no fine-tuned model to offer. */
  model: string | null;
  /** `gate` (the evaluation alone), `timeout` (nobody decided within the approval timeout), `person:<name>`. */
  decidedBy: string;
  reason: string;
  /** Workflow time of the decision (ISO). */
  at: string;
  /** True when the run waited for a person (`approval: required`). */
  approvalRequired: boolean;
}

/** What making the models answerable took and cost (Azure deployments, Together endpoints). */
export interface ServingFacts {
  kind: 'deployment' | 'endpoint';
  deployments: { name: string; model: string; servedAs: string; created: boolean }[];
  /** When the first deployment was asked for (ISO). */
  startedAt: string;
  /** Until every model answered. */
  deployingSeconds: number;
  /** From the first request to the last deletion; null while not cleaned up. */
  hostedSeconds: number | null;
  /** Sum of the deployments' hosting prices, when the provider publishes them (0 for free tiers). */
  hourlyCostUsd: number | null;
  hostingCostUsd: number | null;
  /** Deployments deleted at cleanup. */
  removed: number;
}

/** The hosting cost of the time the deployments existed, when the price is known. */
export function hostingCost(f: ServingFacts): ServingFacts {
  const cost = f.hourlyCostUsd !== null && f.hostedSeconds !== null ? (f.hourlyCostUsd * f.hostedSeconds) / 3600 : null;
  return { ...f, hostingCostUsd: cost };
}

/**
 * What a run evaluates: the base, each checkpoint, the final model and any extra models. A provider whose
 * last checkpoint is the final model itself (Together) lists it once, as the final model (`dedupeFinal`;
 * off for runs recorded before 0.3, which never had such a checkpoint).
 */
export function evalCandidates(run: {
  base: string;
  checkpoints: readonly { model: string; step: number; fullValidLoss: number | null }[];
  final: string;
  extras: readonly string[];
  dedupeFinal: boolean;
  /** The model line's champion, evaluated beside the rest (once, even when also named as an extra). */
  champion?: string | null;
}): EvalCandidate[] {
  const checkpoints = run.dedupeFinal ? run.checkpoints.filter((c) => c.model !== run.final) : run.checkpoints;
  const champion = run.champion && run.champion !== run.base && run.champion !== run.final && !checkpoints.some((c) => c.model === run.champion) ? run.champion : null;
  if (champion) {
    return [
      ...evalCandidates({ ...run, champion: null, extras: run.extras.filter((m) => m !== champion) }),
      { model: champion, role: 'champion', step: null, fullValidLoss: null },
    ];
  }
  return [
    { model: run.base, role: 'base', step: null, fullValidLoss: null },
    ...checkpoints.map((c): EvalCandidate => ({ model: c.model, role: 'checkpoint', step: c.step, fullValidLoss: c.fullValidLoss })),
    { model: run.final, role: 'final', step: null, fullValidLoss: null },
    ...run.extras.map((model): EvalCandidate => ({ model, role: 'extra', step: null, fullValidLoss: null })),
  ];
}
