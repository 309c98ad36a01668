import {
  ActivityFailure,
  allHandlersFinished,
  ChildWorkflowFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JobPoll } from '../activities/provider-jobs';
import type { ServingReport, ServingRequest } from '../activities/serving';
import { pickBestCheckpoint, type CheckpointSummary, type ChosenModel } from '../domain/checkpoints';
import type { SplitManifest } from '../domain/dataset';
import type { Champion } from '../domain/lines';
import {
  InvalidPipelineInputError,
  readPipelineInputLeniently,
  type PipelineInput,
  type PipelineOutcome,
  type PipelineProgress,
  type PipelineResult,
  type ResolvedPipelineInput,
  type SkippedRunResult,
  type UploadedFile,
} from '../domain/pipeline';
import { approvableModels, challengerOf, gateDecision, gateReason, lineScores } from '../domain/promotion';
import { KEY_REFUSAL_TYPES, unreachableBackoffSeconds } from '../domain/provider-trouble';
import { currentDetails, humanDuration, pollSummary, pollWaitSummary } from '../domain/run-details';
import { evalCandidates, hostingCost, runArtifactsKey, type EvalCandidate, type EvalSummary, type RunDecision, type RunFacts, type ServingFacts } from '../domain/run';
import { BASE_MODEL_KEY, FINE_TUNED_MODEL_KEY, JOB_ID_KEY, LINE_KEY, OUTCOME_KEY, STAGE_KEY } from '../domain/search-attributes';
import { isTerminalJobStatus, type Stage } from '../domain/stages';
import { evaluateCandidates, evaluateInline, type EvaluationInput } from './evaluation';
import { approveUpdate, evalProgressSignal, jobEventSignal, progressQuery, rejectUpdate, resumeSignal, type DecisionAck } from '../messages';
import { reportStage } from './sinks';

export { progressQuery, resumeSignal } from '../messages';

/**
 * One gate for the 0.2 shape of a run: run-scoped artifacts, continue-as-new after the sleep, the
 * evaluation in a child workflow, no provider call for a cancel before anything exists there, and the
 * job stopped when a run fails. Runs started before it replay as they were recorded.
 */
export const DURABILITY_PATCH = 'tuneflow-0.2-durability';

/**
 * The 0.3 shape: the provider is asked once whether models must be deployed before they answer; if
 * so the run deploys the models it evaluates (stage `deploying`) and deletes every deployment it made
 * afterwards (stage `cleaning_up`), also when evaluation fails or the run is cancelled.
 */
export const PROVIDERS_PATCH = 'tuneflow-0.3-providers';

/**
 * The 0.4 shape: model lines (skip a dataset the champion was trained on, the champion evaluated beside
 * the run's models, the decision recorded on the line), approval by a person, polls that a webhook's
 * jobEvent signal cuts short and whose pace adapts to the job, and search attributes and memo kept on
 * every run. Runs started before it replay as they were recorded.
 */
export const LINES_PATCH = 'tuneflow-0.4-lines';

/** How long the run waits for the provider to make its models answerable before it gives up (and cleans up). */
const SERVING_DEADLINE_MS = 6 * 60 * 60 * 1000;
/** Looks at deletions still in progress before the run stops waiting for them; the reaper sweeps anything left. */
const CLEANUP_ROUNDS = 20;

// No maximumAttempts: unlimited, for the calls that must not give up while a paid job exists.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

// Validation and the split read the whole dataset and heartbeat by bytes read.
const datasetActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 3 },
});
// Uploads stream from disk and heartbeat by bytes sent; a retry finds an upload that landed by its name.
const uploadActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 10 },
});
// Creating the job (one quick call that looks before it creates) and stopping it retry until the provider answers.
const untilAnsweredActivities = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { ...retry, maximumInterval: '2 minutes' },
});
// A poll answers "unreachable" or "refused" itself; Temporal retries only a poll that timed out or crashed.
const pollActivities = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumInterval: '10 seconds' },
});
const checkpointActivities = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { ...retry, maximumAttempts: 10 },
});
// Deploying and deleting: quick calls that look before they act, retried until the provider answers.
const servingActivities = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { ...retry, maximumInterval: '2 minutes' },
});
const reportActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 10 },
});
// The line's entity workflow answers through Temporal; retried until it does (the line's state is not optional).
const lineActivities = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry,
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
  /** Where the run's files live; absent in carries of runs started before 0.2 (they used the workflow id). */
  runKey?: string;
  adoptedJobFrom?: string | null;
}

function freshProgress(workflowId: string): PipelineProgress {
  return {
    workflowId,
    stage: 'validating',
    jobId: null,
    jobStatus: null,
    fineTunedModel: null,
    latest: { step: null, trainLoss: null, validLoss: null, fullValidLoss: null },
    counts: { examples: null, trainExamples: null, validExamples: null, events: 0, polls: 0, checkpoints: 0, evalExamplesDone: 0, evalExamplesTotal: null },
    estimatedFinish: null,
    error: null,
    providerUnreachableSince: null,
    providerError: null,
    waitingFor: null,
  };
}

/** Everything one execution of the pipeline shares: its identity, its progress and how it talks to people. */
interface RunContext {
  rawInput: PipelineInput;
  input: ResolvedPipelineInput;
  workflowId: string;
  runId: string;
  runKey: string;
  v2: boolean;
  /** The 0.4 shape (LINES_PATCH). */
  v4: boolean;
  progress: PipelineProgress;
  /** Shows the progress in the Temporal UI's current details (0.4 runs). */
  showDetails(): void;
  /** True once a webhook said something about the job since the last poll. */
  jobEventArrived: boolean;
  /** Whether the fine-tuned model's name may be a search attribute (in clear even with codec keys). */
  modelNamesInClear: boolean;
  enter(stage: Stage): void;
  tagged: boolean;
  /** True from the moment a create call may have reached the provider. */
  jobRequested: boolean;
  /** When the run first asked for a deployment (workflow time): from then until cleanup, deployments may exist. Null otherwise. */
  servingSinceMs: number | null;
  /** Blocks until `tuneflow resume` (the resume update) after the provider refused the key. */
  waitForPerson(why: string): Promise<void>;
}

/**
 * The whole fine-tuning run as one durable workflow. It holds only references and aggregates:
 * paths, hashes, file and job ids, counts, losses. Every side effect is an activity.
 */
export async function fineTunePipeline(rawInput: PipelineInput, carry?: TrainingCarry): Promise<PipelineOutcome> {
  const input = readOrRefuse(rawInput);
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const runId = info.firstExecutionRunId;
  const v2 = patched(DURABILITY_PATCH);
  const v4 = v2 && patched(LINES_PATCH);
  const runKey = carry ? (carry.runKey ?? workflowId) : v2 ? runArtifactsKey(workflowId, runId) : workflowId;

  const progress: PipelineProgress = { ...freshProgress(workflowId), ...carry?.progress };
  let resumeRequested = false;
  setHandler(progressQuery, () => progress);
  setHandler(evalProgressSignal, ({ done, total }) => {
    progress.counts.evalExamplesDone = done;
    progress.counts.evalExamplesTotal = total;
  });
  setHandler(resumeSignal, () => {
    if (progress.waitingFor !== null) resumeRequested = true;
    else log.info('resume signal ignored: the run is not waiting for a person', { workflowId, stage: progress.stage });
  });

  // 0.4 workers refuse to start unless the attributes are registered: every 0.4 run keeps them, however it was started.
  const tagged = v4 || info.typedSearchAttributes.get(STAGE_KEY) !== undefined;
  // Search attributes are never encrypted: a model's name goes there only when the starter put the base model there (it does not with codec keys).
  const modelNamesInClear = info.typedSearchAttributes.get(BASE_MODEL_KEY) !== undefined;
  // A run continued as new was already counted in its stage by the execution before.
  let reportedStage: Stage | null = carry ? progress.stage : null;
  const run: RunContext = {
    rawInput,
    input,
    workflowId,
    runId,
    runKey,
    v2,
    v4,
    progress,
    tagged,
    modelNamesInClear,
    jobEventArrived: false,
    showDetails() {
      if (v4) setCurrentDetails(currentDetails(progress, workflowNowMs(), { line: input.line, approvalHint: approvalHint(workflowId, progress) }));
    },
    jobRequested: carry !== undefined,
    servingSinceMs: null,
    enter(stage) {
      progress.stage = stage;
      log.info('stage', { stage, workflowId });
      if (stage !== reportedStage) reportStage(reportedStage, stage);
      reportedStage = stage;
      // Only runs started with the attributes set may upsert them: an unregistered attribute would stall the run.
      if (tagged) upsertSearchAttributes([{ key: STAGE_KEY, value: stage }]);
      this.showDetails();
    },
    async waitForPerson(why) {
      progress.waitingFor = `${why} Fix the key or its access, then run \`tuneflow resume ${workflowId}\`.`;
      log.warn('waiting for a person', { workflowId, stage: progress.stage });
      resumeRequested = false;
      run.showDetails();
      await condition(() => resumeRequested);
      progress.waitingFor = null;
    },
  };
  setHandler(jobEventSignal, (event) => {
    // Only a poll decides anything: the signal just brings the next one forward while the run follows its job.
    if (progress.stage === 'training' && (progress.jobId === null || event.jobId === progress.jobId)) run.jobEventArrived = true;
    else log.info('job event ignored', { workflowId, jobId: event.jobId, type: event.type, stage: progress.stage });
  });
  const approval = approvalDesk(run);
  // Runs started without it (another service, a bare start) get the line a person filters by; the stage follows at once.
  if (v4 && !carry && input.line && info.typedSearchAttributes.get(LINE_KEY) === undefined) upsertSearchAttributes([{ key: LINE_KEY, value: input.line }]);

  try {
    const trained = carry ?? (await prepareAndStartJob(run));
    if ('skipped' in trained) return finishSkipped(run, trained.skipped);
    const result = await followTrainAndEvaluate(run, trained, approval);
    markOutcome(run, result.status, result);
    return result;
  } catch (err) {
    if (err instanceof ContinueAsNew) {
      // Runs before 0.2 marked the stage failed on the way out (a stray upsert their histories hold).
      if (!v2) run.enter('failed');
      throw err;
    }
    if (isCancellation(err)) {
      // The provider job outlives the workflow unless we stop it; do it even though we are being cancelled.
      await CancellationScope.nonCancellable(() => (v2 ? stopProviderJob(run) : legacyCancelJob(run)));
      await cleanUpServing(run);
      run.enter('cancelled');
      markOutcome(run, 'cancelled');
      throw err;
    }
    const failure = rootFailure(err);
    progress.error = failure instanceof Error ? failure.message : String(failure);
    // A failed run leaves nothing training at the provider.
    if (v2) await CancellationScope.nonCancellable(() => stopProviderJob(run));
    await cleanUpServing(run);
    run.enter('failed');
    markOutcome(run, 'failed');
    throw failure;
  }
}

/** The outcome search attribute, the fine-tuned model and the memo a person reads in the UI's list and run page (0.4 runs). */
function markOutcome(run: RunContext, outcome: string, result?: PipelineResult): void {
  if (!run.v4) return;
  const model = result?.fineTunedModel ?? run.progress.fineTunedModel;
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: outcome }, ...(model && run.modelNamesInClear ? [{ key: FINE_TUNED_MODEL_KEY, value: model }] : [])]);
  upsertMemo({
    outcome,
    fineTunedModel: model ?? null,
    ...(result ? { report: { html: result.report.html, markdown: result.report.markdown, command: `tuneflow report ${run.workflowId}` } } : {}),
    ...(result?.decision ? { decision: result.decision } : {}),
  });
  run.showDetails();
}

/** The line's champion was trained on this very dataset: nothing is uploaded or paid, and the run says so. */
async function finishSkipped(run: RunContext, skipped: SkippedRunResult): Promise<SkippedRunResult> {
  await lineActivities.recordLineRun({
    line: skipped.line,
    at: new Date(workflowNowMs()).toISOString(),
    workflowId: run.workflowId,
    runId: run.runId,
    model: null,
    datasetSha256: skipped.dataset.sha256,
    outcome: 'skipped',
    decidedBy: 'gate',
    reason: skipped.reason,
    scores: null,
  });
  run.enter('done');
  upsertSearchAttributes([{ key: OUTCOME_KEY, value: 'skipped' }]);
  upsertMemo({ outcome: 'skipped', skipped: skipped.reason });
  setCurrentDetails(`**Skipped** · line \`${skipped.line}\`\n\n${skipped.reason}`);
  return skipped;
}

function approvalHint(workflowId: string, progress: PipelineProgress): string | null {
  const a = progress.approval;
  if (!a || progress.stage !== 'awaiting_approval') return null;
  return (
    `**Waiting for approval until ${a.deadline}.** ${a.gate}.\n\n` +
    `Approve: \`tuneflow approve ${workflowId}\`${a.recommended ? ` (promotes \`${a.recommended}\`; another: \`--model <one of ${a.models.join(', ')}>\`)` : ''}; ` +
    `reject: \`tuneflow reject ${workflowId} --reason …\`. Without an answer the run rejects by itself.`
  );
}

/** A person's decision, taken by the approve and reject updates while (and only while) the run waits for it. */
interface ApprovalDesk {
  /** Waits for a person until the timeout; null when nobody answered. */
  wait(timeoutSeconds: number): Promise<RunDecision | null>;
}

function approvalDesk(run: RunContext): ApprovalDesk {
  const { progress, workflowId } = run;
  let decision: RunDecision | null = null;
  const waiting = () => progress.stage === 'awaiting_approval' && progress.approval !== null && progress.approval !== undefined && decision === null;
  const refuseUnlessWaiting = () => {
    if (!waiting()) throw new Error(`Run ${workflowId} is not waiting for approval (stage ${progress.stage}); only a run with --approval required that passed its gate waits for one.`);
  };
  const ack = (d: RunDecision): DecisionAck => ({ workflowId, outcome: d.outcome, model: d.model });
  const now = () => new Date(workflowNowMs()).toISOString();
  setHandler(
    approveUpdate,
    (req) => {
      const model = req.model ?? progress.approval?.recommended ?? null;
      decision = { outcome: 'promoted', model, decidedBy: `person:${req.by}`, reason: req.reason ?? 'approved', at: now(), approvalRequired: true };
      return ack(decision);
    },
    {
      validator: (req) => {
        refuseUnlessWaiting();
        if (!req.by || typeof req.by !== 'string') throw new Error('approve needs `by`: who approves.');
        const models = progress.approval?.models ?? [];
        if (req.model !== undefined && !models.includes(req.model)) {
          throw new Error(`${req.model} is not a candidate of run ${workflowId}; approve one of: ${models.join(', ')}.`);
        }
        if (req.model === undefined && !progress.approval?.recommended) throw new Error(`Run ${workflowId} recommends none of its own models; name one with --model (${models.join(', ')}).`);
      },
    },
  );
  setHandler(
    rejectUpdate,
    (req) => {
      decision = { outcome: 'rejected', model: progress.approval?.recommended ?? null, decidedBy: `person:${req.by}`, reason: req.reason, at: now(), approvalRequired: true };
      return ack(decision);
    },
    {
      validator: (req) => {
        refuseUnlessWaiting();
        if (!req.by || typeof req.by !== 'string') throw new Error('reject needs `by`: who rejects.');
        if (!req.reason || typeof req.reason !== 'string') throw new Error('reject needs a reason (--reason).');
      },
    },
  );
  return {
    async wait(timeoutSeconds) {
      // Not condition(fn, timeout): an answer would cancel its timer in the same task the update completes in, and the
      // recorded order of the two differs from the one a replay makes. This timer is never cancelled, and nothing else
      // is asked of Temporal until the update has completed.
      let timedOut = false;
      void sleep(timeoutSeconds * 1000, { summary: `wait up to ${humanDuration(timeoutSeconds)} for approve or reject` }).then(() => (timedOut = true));
      await condition(() => decision !== null || timedOut);
      await condition(allHandlersFinished);
      return decision;
    },
  };
}

/** A bad input from a schedule or another service fails the run with the reason, instead of retrying the task forever. */
function readOrRefuse(raw: PipelineInput): ResolvedPipelineInput {
  try {
    return readPipelineInputLeniently(raw);
  } catch (err) {
    if (!(err instanceof InvalidPipelineInputError)) throw err;
    throw ApplicationFailure.create({ message: err.message, type: 'InvalidPipelineInput', nonRetryable: true });
  }
}

/**
 * An activity's own failure (the provider's refusal, a missing file) is what a person needs to read,
 * so the run fails with it rather than with the generic "activity task failed" wrapper.
 */
function rootFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  // The evaluation runs in a child workflow: its activity's own failure is what a person needs to read.
  if (err instanceof ChildWorkflowFailure && err.cause && !isCancellation(err)) return rootFailure(err.cause);
  return err;
}

/** The provider's refusal of the key (401/403) behind an activity failure, or null for any other failure. */
function keyRefusal(err: unknown): ApplicationFailure | null {
  const failure = rootFailure(err);
  return failure instanceof ApplicationFailure && KEY_REFUSAL_TYPES.has(failure.type ?? '') ? failure : null;
}

/** Stops the run's provider job if it may exist and may still run; asks a person when the key is refused. */
async function stopProviderJob(run: RunContext): Promise<void> {
  const { progress } = run;
  // Nothing was ever asked of the provider's jobs: there is nothing to stop.
  if (!run.jobRequested && progress.jobId === null) return;
  if (progress.jobStatus !== null && isTerminalJobStatus(progress.jobStatus)) return;
  for (;;) {
    try {
      const stopped = await untilAnsweredActivities.cancelFineTuningJob({ workflowId: run.workflowId, runId: run.runId, jobId: progress.jobId });
      if (stopped) {
        progress.jobId = stopped.jobId;
        progress.jobStatus = stopped.status;
      }
      return;
    } catch (err) {
      const refusal = keyRefusal(err);
      if (!refusal) throw err;
      await run.waitForPerson(`The provider refused the key while tuneflow was stopping job ${progress.jobId ?? '(being looked up)'}: ${refusal.message}`);
    }
  }
}

async function legacyCancelJob(run: RunContext): Promise<void> {
  const stopped = await untilAnsweredActivities.cancelFineTuningJob({ workflowId: run.workflowId, runId: run.runId, jobId: run.progress.jobId });
  if (stopped) run.progress.jobStatus = stopped.status;
}

/** Runs `fn` so a cancel cannot tear it in half: the ids it returns are what the cancellation then uses. */
function whole<T>(run: RunContext, fn: () => Promise<T>): Promise<T> {
  return run.v2 ? CancellationScope.nonCancellable(fn) : fn();
}

async function prepareAndStartJob(run: RunContext): Promise<TrainingCarry | { skipped: SkippedRunResult }> {
  const { input, workflowId, runId, runKey, progress } = run;
  const startedAt = workflowInfo().startTime.toISOString();
  run.enter('validating');
  const validation = await datasetActivities.validateDataset({
    runId: runKey,
    datasetPath: input.datasetPath,
    model: input.model,
    allowTruncation: input.allowTruncation,
    budgetUsd: input.budgetUsd,
    validRatio: input.validRatio,
    seed: input.seed,
    // The strict check of the input runs here, once: its verdict is recorded, never re-made on replay.
    ...(run.v2 ? { pipelineInput: run.rawInput } : {}),
  });
  progress.counts.examples = validation.examples;
  if (validation.failureMessage !== null) {
    // Nothing has left the machine yet, and no retry can make this dataset valid.
    throw ApplicationFailure.create({ message: validation.failureMessage, type: 'InvalidDataset', nonRetryable: true, details: [validation.errorCounts] });
  }
  if (run.v4 && input.line) {
    // Retraining the champion's own data pays again for the same model: a scheduled run on unchanged data stops here.
    const champion = await lineActivities.lineChampion({ line: input.line });
    if (champion && champion.datasetSha256 === validation.sha256) {
      return {
        skipped: {
          workflowId,
          status: 'skipped',
          baseModel: input.model,
          line: input.line,
          reason: `Skipped: the dataset (sha256 ${validation.sha256.slice(0, 12)}…) is the one line ${input.line}'s champion ${champion.model} was trained on${champion.workflowId ? ` (run ${champion.workflowId})` : ''}; nothing was uploaded or paid.`,
          dataset: { path: input.datasetPath, sha256: validation.sha256, examples: validation.examples },
          champion: { model: champion.model, workflowId: champion.workflowId },
        },
      };
    }
  }

  run.enter('splitting');
  const split = await datasetActivities.splitDataset({ runId: runKey, datasetPath: input.datasetPath, seed: input.seed, validRatio: input.validRatio });
  progress.counts.trainExamples = split.train.examples;
  progress.counts.validExamples = split.valid.examples;

  run.enter('uploading');
  // Uploads are named by workflow id, role and content hash: a re-run of the id finds them instead of paying twice.
  const upload = (role: 'train' | 'valid') =>
    uploadActivities.uploadTrainingFile({ runId: workflowId, role, path: split[role].path, sha256: split[role].sha256, examples: split[role].examples, bytes: split[role].bytes });
  const [train, valid] = await whole(run, () => Promise.all([upload('train'), upload('valid')]));

  run.enter('creating_job');
  run.jobRequested = true;
  const job = await whole(run, () =>
    untilAnsweredActivities.createFineTuningJob({
      workflowId,
      runId,
      model: input.model,
      trainingFileId: train.fileId,
      validationFileId: valid.fileId,
      seed: input.seed,
      suffix: input.suffix,
      hyperparameters: input.hyperparameters,
      ...(run.v2 ? { datasetSha256: validation.sha256, validRatio: input.validRatio } : {}),
    }),
  );
  progress.jobId = job.jobId;
  progress.jobStatus = job.status;
  if (run.tagged) upsertSearchAttributes([{ key: JOB_ID_KEY, value: job.jobId }]);

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
    runKey,
    adoptedJobFrom: job.adoptedFrom ?? null,
  };
}

/** Follows the job to its end with durable timers; an unreachable or refusing provider never ends the run. */
async function followJob(run: RunContext, trained: TrainingCarry): Promise<JobPoll> {
  const { input, progress } = run;
  let lastEventId = trained.lastEventId;
  let pollsThisRun = 0;
  let unanswered = 0;
  const carryOn = () => continueAsNew<typeof fineTunePipeline>(input, { ...trained, lastEventId, progress, runKey: run.runKey });
  const historyFull = () => workflowInfo().continueAsNewSuggested || (input.continueAsNewAfterPolls !== undefined && pollsThisRun >= input.continueAsNewAfterPolls);
  for (;;) {
    const pollArgs = { runId: run.runKey, jobId: trained.jobId, lastEventId, ...(run.v4 ? { pollIntervalSeconds: input.pollIntervalSeconds } : {}) };
    run.jobEventArrived = false;
    const poll = await pollActivities.pollFineTuningJob.executeWithOptions({ summary: pollSummary(trained.jobId, progress.jobStatus, progress.latest.step) }, [pollArgs]);
    progress.counts.polls += 1;
    pollsThisRun += 1;
    if (poll.trouble?.kind === 'refused') {
      await run.waitForPerson(`The provider refused the key while job ${trained.jobId} exists: ${poll.trouble.message}`);
      continue;
    }
    if (poll.trouble) {
      unanswered += 1;
      progress.providerUnreachableSince ??= new Date().toISOString();
      progress.providerError = poll.trouble.message;
      await sleep(unreachableBackoffSeconds(input.pollIntervalSeconds, unanswered) * 1000);
      if (historyFull()) await carryOn();
      continue;
    }
    unanswered = 0;
    progress.providerUnreachableSince = null;
    progress.providerError = null;
    lastEventId = poll.lastEventId;
    progress.counts.events += poll.newEvents;
    progress.jobStatus = poll.status;
    progress.estimatedFinish = poll.estimatedFinish;
    for (const k of ['step', 'trainLoss', 'validLoss', 'fullValidLoss', 'totalSteps'] as const) {
      const value = poll.latest[k];
      if (value !== null && value !== undefined) progress.latest[k] = value;
    }
    run.showDetails();
    if (isTerminalJobStatus(poll.status)) return poll;
    if (!run.v2 && historyFull()) await carryOn();
    if (run.v4) {
      // The pace the poll advises (job status, estimated finish, webhooks configured); a webhook's signal cuts the wait short.
      const seconds = Math.max(input.pollIntervalSeconds, poll.nextPollSeconds ?? input.pollIntervalSeconds);
      await condition(() => run.jobEventArrived, seconds * 1000, { summary: pollWaitSummary(seconds, poll.webhooks ?? false) });
    } else {
      await sleep(`${input.pollIntervalSeconds} seconds`);
    }
    if (run.v2 && historyFull()) await carryOn();
  }
}

function distinct(models: string[]): string[] {
  return [...new Set(models)];
}

/**
 * Makes every fine-tuned model and checkpoint the run evaluates answerable, and waits until they all
 * answer. From the first request on, the run owns deployments: every way out of the run deletes them.
 */
async function deployForEvaluation(
  run: RunContext,
  kind: ServingFacts['kind'],
  candidates: EvalCandidate[],
): Promise<{ servedAs: Record<string, string>; facts: ServingFacts }> {
  const { input, progress } = run;
  run.enter('deploying');
  const request: ServingRequest = {
    runKey: run.runKey,
    tags: { workflowId: run.workflowId, runId: run.runId, fingerprint: null },
    models: distinct(candidates.filter((c) => c.role === 'checkpoint' || c.role === 'final' || c.role === 'champion').map((c) => c.model)),
    baseModels: distinct(candidates.filter((c) => c.role === 'base' || c.role === 'extra').map((c) => c.model)),
  };
  const serving = { kind, total: request.models.length, ready: 0, removed: 0 };
  progress.serving = serving;
  const startedMs = workflowNowMs();
  run.servingSinceMs = startedMs;
  let report: ServingReport = await whole(run, () => servingActivities.startServing(request));
  for (;;) {
    serving.ready = report.states.filter((s) => s.state === 'ready').length;
    const failed = report.states.filter((s) => s.state === 'failed' || s.state === 'missing');
    if (failed.length > 0) {
      throw ApplicationFailure.create({
        message: `The provider could not make ${failed.length === 1 ? 'a model' : `${failed.length} models`} answerable: ${failed.map((f) => `${f.model} (${kind} ${f.name}): ${f.detail ?? f.state}`).join('; ')}`,
        type: 'DeploymentFailed',
        nonRetryable: true,
      });
    }
    if (serving.ready === request.models.length) break;
    if (workflowNowMs() - startedMs > SERVING_DEADLINE_MS) {
      throw ApplicationFailure.create({
        message: `${request.models.length - serving.ready} of ${request.models.length} ${kind}s were still not ready after ${SERVING_DEADLINE_MS / 3_600_000} hours`,
        type: 'DeploymentTimedOut',
        nonRetryable: true,
      });
    }
    await sleep(`${input.pollIntervalSeconds} seconds`);
    report = await servingActivities.checkServing(request);
  }
  const hourly = report.states.map((s) => s.hourlyCostUsd);
  return {
    servedAs: report.servedAs,
    facts: {
      kind,
      deployments: report.states.map((s) => ({ name: s.name, model: s.model, servedAs: s.servedAs, created: s.created })),
      startedAt: new Date(startedMs).toISOString(),
      deployingSeconds: (workflowNowMs() - startedMs) / 1000,
      hourlyCostUsd: hourly.every((h): h is number => h !== null) ? hourly.reduce((a, b) => a + b, 0) : null,
      hostedSeconds: null,
      hostingCostUsd: null,
      removed: 0,
    },
  };
}

/**
 * Deletes everything the run made answerable (found by the run's name prefix, so also what a killed
 * attempt created), even while the run is being cancelled. Returns how long it was all hosted.
 */
async function cleanUpServing(run: RunContext): Promise<Pick<ServingFacts, 'removed' | 'hostedSeconds'> | null> {
  const since = run.servingSinceMs;
  if (since === null) return null;
  return CancellationScope.nonCancellable(async () => {
    run.enter('cleaning_up');
    const removed = new Set<string>();
    for (let round = 1; ; round += 1) {
      try {
        const out = await servingActivities.stopServing({ runKey: run.runKey });
        for (const name of out.removed) removed.add(name);
        if (run.progress.serving) run.progress.serving.removed = removed.size;
        if (out.stillDeleting.length === 0) break;
        if (round >= CLEANUP_ROUNDS) {
          log.warn('deletions still in progress; the provider finishes them by itself', { workflowId: run.workflowId, names: out.stillDeleting });
          break;
        }
        await sleep(`${run.input.pollIntervalSeconds} seconds`);
      } catch (err) {
        const refusal = keyRefusal(err);
        if (!refusal) throw err;
        await run.waitForPerson(`The provider refused the key while tuneflow was deleting this run's deployments: ${refusal.message}`);
      }
    }
    run.servingSinceMs = null;
    return { removed: removed.size, hostedSeconds: (workflowNowMs() - since) / 1000 };
  });
}

async function evaluate(run: RunContext, trained: TrainingCarry, candidates: EvalCandidate[]): Promise<EvalSummary> {
  const { input, progress } = run;
  // A run of a line, or one a person must approve, always has a gate: by default any established gain.
  const gated = run.v4 && (input.line !== undefined || input.approval === 'required');
  const evaluation: EvaluationInput = {
    runKey: run.runKey,
    sourcePath: input.eval.evalFile ?? trained.split.valid.path,
    maxExamples: input.eval.maxExamples,
    seed: input.seed,
    batchSize: input.eval.batchSize,
    candidates,
    judgeModel: input.eval.judgeModel,
    maxTokens: input.eval.maxTokens,
    concurrency: input.eval.concurrency,
    minImprovement: input.eval.minImprovement ?? (gated ? 0 : undefined),
    batchesPerRun: input.eval.batchesPerWorkflowRun,
  };
  if (!run.v2) {
    return evaluateInline(
      evaluation,
      (total) => (progress.counts.evalExamplesTotal = total),
      (done) => (progress.counts.evalExamplesDone += done),
    );
  }
  const out = await executeChild(evaluateCandidates, { args: [evaluation], workflowId: `${run.workflowId}-eval-${run.runId}` });
  progress.counts.evalExamplesTotal = out.examples;
  progress.counts.evalExamplesDone = out.examples;
  return out.summary;
}

async function followTrainAndEvaluate(run: RunContext, trained: TrainingCarry, approval: ApprovalDesk): Promise<PipelineResult> {
  const { input, workflowId, progress } = run;
  run.enter('training');
  const poll = await followJob(run, trained);

  if (poll.status !== 'succeeded' || !poll.fineTunedModel) {
    const why = poll.error ? `${poll.error.code ? `[${poll.error.code}] ` : ''}${poll.error.message}${poll.error.param ? ` (${poll.error.param})` : ''}` : `status ${poll.status}`;
    throw ApplicationFailure.create({
      message: `Fine-tuning job ${trained.jobId} ended without a model: ${why}`,
      type: poll.status === 'cancelled' ? 'FineTuningJobCancelled' : 'FineTuningJobFailed',
      nonRetryable: true,
    });
  }
  progress.fineTunedModel = poll.fineTunedModel;
  if (run.v4 && run.modelNamesInClear) upsertSearchAttributes([{ key: FINE_TUNED_MODEL_KEY, value: poll.fineTunedModel }]);

  run.enter('selecting_checkpoint');
  const checkpoints: CheckpointSummary[] = await checkpointActivities.listJobCheckpoints({ jobId: trained.jobId });
  progress.counts.checkpoints = checkpoints.length;
  const v3 = patched(PROVIDERS_PATCH);
  const profile = v3 ? await checkpointActivities.describeProvider() : { kind: null, checkpointsHaveLoss: true };
  const chosen: ChosenModel = pickBestCheckpoint(checkpoints, poll.fineTunedModel, { providerReportsLoss: profile.checkpointsHaveLoss });

  // Read now, not at the start: training may take hours, and the run must face the champion in production today.
  const champion: Champion | null = run.v4 && input.line ? await lineActivities.lineChampion({ line: input.line }) : null;
  let candidates = evalCandidates({ base: input.model, checkpoints, final: poll.fineTunedModel, extras: input.eval.compare, dedupeFinal: v3, champion: champion?.model ?? null });
  let serving: ServingFacts | null = null;
  if (profile.kind !== null) {
    const deployed = await deployForEvaluation(run, profile.kind, candidates);
    candidates = candidates.map((c) => ({ ...c, servedAs: deployed.servedAs[c.model] ?? c.model }));
    serving = deployed.facts;
  }

  run.enter('evaluating');
  const evalSummary = await evaluate(run, trained, candidates);
  if (serving) serving = hostingCost({ ...serving, ...(await cleanUpServing(run)) });

  let decision: RunDecision | null = null;
  if (run.v4) decision = await decide(run, evalSummary, approval);
  if (run.v4 && input.line) {
    const model = decision?.model ?? challengerOf(evalSummary);
    await lineActivities.recordLineRun({
      line: input.line,
      at: decision?.at ?? new Date(workflowNowMs()).toISOString(),
      workflowId,
      runId: run.runId,
      model,
      datasetSha256: trained.sha256,
      outcome: decision?.outcome ?? 'rejected',
      decidedBy: decision?.decidedBy ?? 'gate',
      reason: decision?.reason ?? gateReason(evalSummary),
      scores: lineScores(evalSummary, model),
    });
  }

  run.enter('reporting');
  const status = decision ? decision.outcome : evalSummary.gate ? evalSummary.gate.outcome : 'succeeded';
  const facts: RunFacts = {
    workflowId,
    ...(run.v2 ? { runKey: run.runKey } : {}),
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
    ...(serving ? { serving } : {}),
    ...(run.v4 ? { line: input.line ? { name: input.line, champion: champion?.model ?? null } : null, decision } : {}),
  };
  const report = await reportActivities.writeRunReport({ facts });

  run.enter('done');
  return {
    workflowId,
    status,
    baseModel: input.model,
    jobId: trained.jobId,
    adoptedJobFrom: trained.adoptedJobFrom ?? null,
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
    ...(serving ? { serving } : {}),
    artifactsDir: report.runDir,
    report: { html: report.html, markdown: report.markdown },
    ...(run.v4 ? { line: facts.line ?? null, decision } : {}),
  };
}

/**
 * The gate's verdict, confirmed by a person when the run requires approval: a run that failed its gate
 * is rejected without asking anyone; one that passed waits, and rejects by itself at the timeout.
 */
async function decide(run: RunContext, summary: EvalSummary, approval: ApprovalDesk): Promise<RunDecision | null> {
  const { input, progress } = run;
  const required = input.approval === 'required';
  const verdict = gateDecision(summary, new Date(workflowNowMs()).toISOString(), required);
  if (!required || !verdict || verdict.outcome === 'rejected') return verdict;
  const deadlineMs = workflowNowMs() + input.approvalTimeoutSeconds * 1000;
  progress.approval = { models: approvableModels(summary), recommended: verdict.model, deadline: new Date(deadlineMs).toISOString(), gate: verdict.reason };
  run.enter('awaiting_approval');
  const answer = await approval.wait(input.approvalTimeoutSeconds);
  progress.approval = null;
  if (answer) return answer;
  return {
    outcome: 'rejected',
    model: verdict.model,
    decidedBy: 'timeout',
    reason: `nobody approved or rejected within ${humanDuration(input.approvalTimeoutSeconds)}; the gate had said: ${verdict.reason}`,
    at: new Date(workflowNowMs()).toISOString(),
    approvalRequired: true,
  };
}

/** Workflow time (the task's start, replayed identically), never the wall clock. */
function workflowNowMs(): number {
  return new Date().getTime();
}
