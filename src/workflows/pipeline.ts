import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JobPoll } from '../activities/provider-jobs';
import { pickBestCheckpoint, type CheckpointSummary } from '../domain/checkpoints';
import type { SplitManifest } from '../domain/dataset';
import {
  resolvePipelineInput,
  type PipelineInput,
  type PipelineProgress,
  type PipelineResult,
  type ResolvedPipelineInput,
  type UploadedFile,
} from '../domain/pipeline';
import type { EvalCandidate, RunFacts } from '../domain/run';
import { JOB_ID_KEY, STAGE_KEY } from '../domain/search-attributes';
import { isTerminalJobStatus, type Stage } from '../domain/stages';

export const progressQuery = defineQuery<PipelineProgress>('progress');

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 } as const;

const datasetActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 3 },
});
const providerActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry,
});
// A poll is cheap and the next timer is near: retry it quickly rather than backing off for minutes.
const pollActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumInterval: '10 seconds', maximumAttempts: 20 },
});
// A batch resumes from its results file, so each attempt keeps what the last one finished.
const evalActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 30 },
});

/** What a run carries across continue-as-new while it follows a long job. */
export interface TrainingCarry {
  startedAt: string;
  examples: number;
  sha256: string;
  estimatedCostUsd: number;
  chargedTokens: number;
  epochs: number;
  split: SplitManifest;
  train: UploadedFile;
  valid: UploadedFile;
  jobId: string;
  lastEventId: string | null;
  progress: PipelineProgress;
}

/**
 * The whole fine-tuning run as one durable workflow. It holds only references and aggregates:
 * paths, hashes, file and job ids, counts, losses. Every side effect is an activity.
 */
export async function fineTunePipeline(rawInput: PipelineInput, carry?: TrainingCarry): Promise<PipelineResult> {
  const input = resolveOrRefuse(rawInput);
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const runId = info.firstExecutionRunId;
  const tagged = info.typedSearchAttributes.get(STAGE_KEY) !== undefined;

  const progress: PipelineProgress = carry?.progress ?? {
    workflowId,
    stage: 'validating',
    jobId: null,
    jobStatus: null,
    fineTunedModel: null,
    latest: { step: null, trainLoss: null, validLoss: null, fullValidLoss: null },
    counts: { examples: null, trainExamples: null, validExamples: null, events: 0, polls: 0, checkpoints: 0, evalExamplesDone: 0, evalExamplesTotal: null },
    estimatedFinish: null,
    error: null,
  };
  setHandler(progressQuery, () => progress);

  const enter = (stage: Stage) => {
    progress.stage = stage;
    log.info('stage', { stage, workflowId });
    // Only runs started with the attributes set may upsert them: an unregistered attribute would stall the run.
    if (tagged) upsertSearchAttributes([{ key: STAGE_KEY, value: stage }]);
  };

  try {
    const trained = carry ?? (await prepareAndStartJob(input, workflowId, runId, progress, enter, tagged));
    return await followTrainAndEvaluate(input, workflowId, runId, trained, progress, enter);
  } catch (err) {
    if (isCancellation(err)) {
      // The provider job outlives the workflow unless we stop it; do it even though we are being cancelled.
      await CancellationScope.nonCancellable(async () => {
        const stopped = await providerActivities.cancelFineTuningJob({ workflowId, runId, jobId: progress.jobId });
        if (stopped) progress.jobStatus = stopped.status;
      });
      enter('cancelled');
      throw err;
    }
    const failure = rootFailure(err);
    progress.error = failure instanceof Error ? failure.message : String(failure);
    enter('failed');
    throw failure;
  }
}

/**
 * Input from a schedule or another service skips the starter's checks. A plain Error here would fail
 * the workflow task and be retried forever; a non-retryable failure ends the run with the reason.
 */
function resolveOrRefuse(raw: PipelineInput): ResolvedPipelineInput {
  try {
    return resolvePipelineInput(raw);
  } catch (err) {
    throw ApplicationFailure.create({ message: err instanceof Error ? err.message : String(err), type: 'InvalidPipelineInput', nonRetryable: true });
  }
}

/**
 * An activity's own failure (the provider's refusal, a missing file) is what a person needs to read,
 * so the run fails with it rather than with the generic "activity task failed" wrapper.
 */
function rootFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  return err;
}

async function prepareAndStartJob(
  input: ResolvedPipelineInput,
  workflowId: string,
  runId: string,
  progress: PipelineProgress,
  enter: (s: Stage) => void,
  tagged: boolean,
): Promise<TrainingCarry> {
  const startedAt = workflowInfo().startTime.toISOString();
  enter('validating');
  const validation = await datasetActivities.validateDataset({
    runId: workflowId,
    datasetPath: input.datasetPath,
    model: input.model,
    allowTruncation: input.allowTruncation,
    budgetUsd: input.budgetUsd,
    validRatio: input.validRatio,
    seed: input.seed,
  });
  progress.counts.examples = validation.examples;
  if (validation.failureMessage !== null) {
    // Nothing has left the machine yet, and no retry can make this dataset valid.
    throw ApplicationFailure.create({ message: validation.failureMessage, type: 'InvalidDataset', nonRetryable: true, details: [validation.errorCounts] });
  }

  enter('splitting');
  const split = await datasetActivities.splitDataset({ runId: workflowId, datasetPath: input.datasetPath, seed: input.seed, validRatio: input.validRatio });
  progress.counts.trainExamples = split.train.examples;
  progress.counts.validExamples = split.valid.examples;

  enter('uploading');
  const upload = (role: 'train' | 'valid') =>
    providerActivities.uploadTrainingFile({ runId: workflowId, role, path: split[role].path, sha256: split[role].sha256, examples: split[role].examples, bytes: split[role].bytes });
  const [train, valid] = await Promise.all([upload('train'), upload('valid')]);

  enter('creating_job');
  const job = await providerActivities.createFineTuningJob({
    workflowId,
    runId,
    model: input.model,
    trainingFileId: train.fileId,
    validationFileId: valid.fileId,
    seed: input.seed,
    suffix: input.suffix,
    hyperparameters: input.hyperparameters,
  });
  progress.jobId = job.jobId;
  progress.jobStatus = job.status;
  if (tagged) upsertSearchAttributes([{ key: JOB_ID_KEY, value: job.jobId }]);

  return {
    startedAt,
    examples: validation.examples,
    sha256: validation.sha256,
    estimatedCostUsd: validation.estimatedCostUsd,
    chargedTokens: validation.chargedTokens,
    epochs: validation.epochs,
    split,
    train,
    valid,
    jobId: job.jobId,
    lastEventId: null,
    progress,
  };
}

async function followTrainAndEvaluate(
  input: ResolvedPipelineInput,
  workflowId: string,
  runId: string,
  trained: TrainingCarry,
  progress: PipelineProgress,
  enter: (s: Stage) => void,
): Promise<PipelineResult> {
  enter('training');
  let lastEventId = trained.lastEventId;
  let pollsThisRun = 0;
  let poll: JobPoll;
  for (;;) {
    poll = await pollActivities.pollFineTuningJob({ runId: workflowId, jobId: trained.jobId, lastEventId });
    lastEventId = poll.lastEventId;
    progress.counts.polls += 1;
    pollsThisRun += 1;
    progress.counts.events += poll.newEvents;
    progress.jobStatus = poll.status;
    progress.estimatedFinish = poll.estimatedFinish;
    for (const k of ['step', 'trainLoss', 'validLoss', 'fullValidLoss'] as const) {
      if (poll.latest[k] !== null) progress.latest[k] = poll.latest[k];
    }
    if (isTerminalJobStatus(poll.status)) break;
    const historyBoundReached = input.continueAsNewAfterPolls !== undefined && pollsThisRun >= input.continueAsNewAfterPolls;
    if (workflowInfo().continueAsNewSuggested || historyBoundReached) {
      await continueAsNew<typeof fineTunePipeline>(input, { ...trained, lastEventId, progress });
    }
    await sleep(`${input.pollIntervalSeconds} seconds`);
  }

  if (poll.status !== 'succeeded' || !poll.fineTunedModel) {
    const why = poll.error ? `${poll.error.code ? `[${poll.error.code}] ` : ''}${poll.error.message}${poll.error.param ? ` (${poll.error.param})` : ''}` : `status ${poll.status}`;
    throw ApplicationFailure.create({
      message: `Fine-tuning job ${trained.jobId} ended without a model: ${why}`,
      type: poll.status === 'cancelled' ? 'FineTuningJobCancelled' : 'FineTuningJobFailed',
      nonRetryable: true,
    });
  }
  progress.fineTunedModel = poll.fineTunedModel;

  enter('selecting_checkpoint');
  const checkpoints: CheckpointSummary[] = await pollActivities.listJobCheckpoints({ jobId: trained.jobId });
  progress.counts.checkpoints = checkpoints.length;
  const chosen = pickBestCheckpoint(checkpoints, poll.fineTunedModel);

  enter('evaluating');
  const candidates: EvalCandidate[] = [
    { model: input.model, role: 'base', step: null, fullValidLoss: null },
    ...checkpoints.map((c): EvalCandidate => ({ model: c.model, role: 'checkpoint', step: c.step, fullValidLoss: c.fullValidLoss })),
    { model: poll.fineTunedModel, role: 'final', step: null, fullValidLoss: null },
    ...input.eval.compare.map((model): EvalCandidate => ({ model, role: 'extra', step: null, fullValidLoss: null })),
  ];
  const plan = await evalActivities.prepareEval({
    runId: workflowId,
    sourcePath: input.eval.evalFile ?? trained.split.valid.path,
    maxExamples: input.eval.maxExamples,
    seed: input.seed,
    batchSize: input.eval.batchSize,
  });
  progress.counts.evalExamplesTotal = plan.examples;
  const pending = [...plan.batches];
  // A couple of batches at a time; each batch bounds its own request concurrency.
  const lanes = Math.min(2, pending.length);
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let batch = pending.shift(); batch; batch = pending.shift()) {
        const done = await evalActivities.evaluateBatch({
          runId: workflowId,
          evalSetPath: plan.evalSetPath,
          batch,
          candidates,
          judgeModel: input.eval.judgeModel,
          seed: input.seed,
          maxTokens: input.eval.maxTokens,
          concurrency: input.eval.concurrency,
        });
        progress.counts.evalExamplesDone += done.examples;
      }
    }),
  );
  const evalSummary = await evalActivities.summarizeEval({
    runId: workflowId,
    candidates,
    seed: input.seed,
    minImprovement: input.eval.minImprovement,
    judgeModel: input.eval.judgeModel,
  });

  enter('reporting');
  const status = evalSummary.gate ? evalSummary.gate.outcome : 'succeeded';
  const facts: RunFacts = {
    workflowId,
    status,
    startedAt: trained.startedAt,
    finishedAt: new Date().toISOString(),
    baseModel: input.model,
    provider: { baseURL: null },
    dataset: {
      path: input.datasetPath,
      sha256: trained.sha256,
      examples: trained.examples,
      train: { examples: trained.train.examples, sha256: trained.train.sha256, fileId: trained.train.fileId },
      valid: { examples: trained.valid.examples, sha256: trained.valid.sha256, fileId: trained.valid.fileId },
      seed: input.seed,
      validRatio: input.validRatio,
    },
    cost: { estimatedCostUsd: trained.estimatedCostUsd, chargedTokens: trained.chargedTokens, epochs: trained.epochs },
    job: { id: trained.jobId, fineTunedModel: poll.fineTunedModel, trainedTokens: poll.trainedTokens, hyperparameters: poll.hyperparameters },
    checkpoints,
    chosen,
    eval: evalSummary,
    metricsPath: 'metrics.jsonl',
  };
  const report = await evalActivities.writeRunReport({ facts });

  enter('done');
  return {
    workflowId,
    status,
    baseModel: input.model,
    jobId: trained.jobId,
    fineTunedModel: poll.fineTunedModel,
    trainedTokens: poll.trainedTokens,
    hyperparameters: poll.hyperparameters,
    bestCheckpoint: { model: chosen.model, step: chosen.step, fullValidLoss: chosen.fullValidLoss },
    chosen,
    checkpoints,
    dataset: {
      path: input.datasetPath,
      sha256: trained.sha256,
      examples: trained.examples,
      estimatedCostUsd: trained.estimatedCostUsd,
      chargedTokens: trained.chargedTokens,
      epochs: trained.epochs,
      train: trained.train,
      valid: trained.valid,
    },
    eval: evalSummary,
    artifactsDir: report.runDir,
    report: { html: report.html, markdown: report.markdown },
  };
}
