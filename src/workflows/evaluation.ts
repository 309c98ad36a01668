import { continueAsNew, getExternalWorkflowHandle, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EvalBatchRange, PrepareEvalOutput } from '../activities/eval';
import { planBatches } from '../domain/eval/subsample';
import type { EvalCandidate, EvalSummary } from '../domain/run';
import { evalProgressSignal } from '../messages';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

// Each of these heartbeats with its progress; a batch resumes from its results file, so each attempt keeps what the last one finished.
const evalActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 30 },
});

/** Batches one run of the evaluation workflow takes before it continues as new: about 3,000 history events. */
export const EVAL_BATCHES_PER_RUN = 500;
/** A couple of batches at a time; each batch bounds its own request concurrency. */
const LANES = 2;
/** Progress reports to the parent per evaluation, at most: each costs the parent a few history events. */
const PROGRESS_REPORTS = 20;

export interface EvaluationInput {
  /** The run's artifacts key (`<workflow id>/<first run id>`): batch files and results live there. */
  runKey: string;
  sourcePath: string;
  maxExamples?: number | undefined;
  seed: number;
  batchSize: number;
  candidates: EvalCandidate[];
  judgeModel?: string | undefined;
  maxTokens: number;
  concurrency: number;
  minImprovement?: number | undefined;
  batchesPerRun?: number | undefined;
}

/** What one run of the evaluation workflow hands the next across continue-as-new: no results, only where it is. */
export interface EvaluationCarry {
  plan: Omit<PrepareEvalOutput, 'batches'>;
  nextBatch: number;
  done: number;
}

export interface EvaluationOutput {
  examples: number;
  summary: EvalSummary;
}

/** Runs batches [from, to) in a few lanes, reporting each finished batch's example count. */
async function runBatches(
  input: EvaluationInput,
  evalSetPath: string,
  batches: EvalBatchRange[],
  onBatchDone: (examples: number) => void,
): Promise<void> {
  const pending = [...batches];
  await Promise.all(
    Array.from({ length: Math.min(LANES, pending.length) }, async () => {
      for (let batch = pending.shift(); batch; batch = pending.shift()) {
        const done = await evalActivities.evaluateBatch({
          runId: input.runKey,
          evalSetPath,
          batch,
          candidates: input.candidates,
          judgeModel: input.judgeModel,
          seed: input.seed,
          maxTokens: input.maxTokens,
          concurrency: input.concurrency,
        });
        onBatchDone(done.examples);
      }
    }),
  );
}

function summarize(input: EvaluationInput): Promise<EvalSummary> {
  return evalActivities.summarizeEval({
    runId: input.runKey,
    candidates: input.candidates,
    seed: input.seed,
    minImprovement: input.minImprovement,
    judgeModel: input.judgeModel,
  });
}

function prepare(input: EvaluationInput): Promise<PrepareEvalOutput> {
  return evalActivities.prepareEval({ runId: input.runKey, sourcePath: input.sourcePath, maxExamples: input.maxExamples, seed: input.seed, batchSize: input.batchSize });
}

/**
 * The side-by-side evaluation as a child of the pipeline: it prepares the eval set, runs the batches
 * and summarises. It continues as new every few hundred batches, so a 20,000-example evaluation keeps
 * every history (its own and the parent's) far below Temporal's event limits.
 */
export async function evaluateCandidates(input: EvaluationInput, carry?: EvaluationCarry): Promise<EvaluationOutput> {
  const parent = workflowInfo().parent;
  const report = async (done: number, total: number) => {
    if (!parent) return;
    // The parent may already be closing (cancelled); a progress report is not worth failing for.
    await getExternalWorkflowHandle(parent.workflowId, parent.runId)
      .signal(evalProgressSignal, { done, total })
      .catch(() => undefined);
  };

  let plan: EvaluationCarry['plan'];
  if (carry) plan = carry.plan;
  else {
    const prepared = await prepare(input);
    plan = { evalSetPath: prepared.evalSetPath, examples: prepared.examples, skipped: prepared.skipped, sha256: prepared.sha256 };
    await report(0, plan.examples);
  }
  const batches = planBatches(plan.examples, input.batchSize);
  const from = carry?.nextBatch ?? 0;
  const to = Math.min(batches.length, from + (input.batchesPerRun ?? EVAL_BATCHES_PER_RUN));
  const reportEvery = Math.max(1, Math.ceil(batches.length / PROGRESS_REPORTS));
  let done = carry?.done ?? 0;
  let finished = 0;
  const pendingReports: Array<Promise<void>> = [];
  await runBatches(input, plan.evalSetPath, batches.slice(from, to), (examples) => {
    done += examples;
    finished += 1;
    if (finished % reportEvery === 0) pendingReports.push(report(done, plan.examples));
  });
  await Promise.all(pendingReports);
  if (to < batches.length) {
    await report(done, plan.examples);
    await continueAsNew<typeof evaluateCandidates>(input, { plan, nextBatch: to, done });
  }
  const summary = await summarize(input);
  await report(done, plan.examples);
  return { examples: plan.examples, summary };
}

/**
 * The evaluation as runs started before 0.2 recorded it, inside the pipeline's own history. Kept only so
 * those histories replay; new runs use the child workflow above.
 */
export async function evaluateInline(input: EvaluationInput, onTotal: (examples: number) => void, onDone: (examples: number) => void): Promise<EvalSummary> {
  const plan = await prepare(input);
  onTotal(plan.examples);
  await runBatches(input, plan.evalSetPath, plan.batches, onDone);
  return summarize(input);
}
