import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { FineTuneProvider } from '../provider/types';
import type { Logger } from 'pino';
import { storageSettings, type AppConfig } from '../config';
import { JudgeIsCandidateError, assertJudgeIsNotCandidate } from '../domain/eval/judge';
import { planBatches } from '../domain/eval/subsample';
import { validateCandidates } from '../domain/eval/summary';
import type { EvalCandidate, EvalSummary, MetricName, RunFacts } from '../domain/run';
import { ChatCaller, type EvalMetricsSink } from '../eval/chat';
import { batchKey, evalDirKey, evalSetKey, resultsKey } from '../eval/paths';
import { prepareEvalSet } from '../eval/prepare';
import { ProviderRateLimiter } from '../eval/rate-limiter';
import { EvalSetMismatchError, runEvalBatch } from '../eval/runner';
import { IncompleteEvaluationError, summarizeEvalRun } from '../eval/summarize';
import { writeReportFiles } from '../report';
import { assertRunKey, openStorage, parseReference, referenceSource, type ByteSource, type Storage } from '../store';
import { nonRetryable } from './failures';
import { withProgressHeartbeat } from './heartbeat';
import { openInputFile } from './input-files';

export interface EvalActivityDeps {
  config: AppConfig;
  /** The run store every eval file is read from and written to; absent: opened from the config. */
  storage?: Storage | undefined;
  logger: Logger;
  provider: () => FineTuneProvider;
  metrics?: EvalMetricsSink | undefined;
}

export interface EvalBatchRange {
  index: number;
  start: number;
  end: number;
}

export interface PrepareEvalInput {
  runId: string;
  /**
   * The held-out split (its store key under the run's key; an absolute path for runs from 0.2) or the
   * user's --eval-file (a path under the data roots, or an `s3://` URI).
   */
  sourcePath: string;
  maxExamples?: number | undefined;
  seed: number;
  batchSize: number;
}

export interface PrepareEvalOutput {
  /** The store key of eval-set.jsonl. */
  evalSetPath: string;
  examples: number;
  skipped: number;
  sha256: string;
  batches: EvalBatchRange[];
}

export interface EvaluateBatchInput {
  runId: string;
  /** A store key (an absolute path for runs from 0.2). */
  evalSetPath: string;
  batch: EvalBatchRange;
  candidates: EvalCandidate[];
  judgeModel?: string | undefined;
  seed: number;
  maxTokens: number;
  concurrency: number;
}

export interface EvaluateBatchOutput {
  index: number;
  examples: number;
  failed: number;
  /** Provider requests this attempt made (0 when the batch file was already complete). */
  requests: number;
}

export interface SummarizeEvalInput {
  runId: string;
  candidates: EvalCandidate[];
  seed: number;
  primaryMetric?: MetricName | undefined;
  minImprovement?: number | undefined;
  judgeModel?: string | undefined;
}

/** Where the report went, for people: paths, or `s3://` URIs on a bucket store. */
export interface WriteRunReportOutput {
  html: string;
  markdown: string;
  runJson: string;
  runDir: string;
}

/** Progress an evaluateBatch attempt records, so a retry knows how far the last one got. */
export interface EvaluateBatchHeartbeat {
  done: number;
}

/** Keeps the activity visibly alive while it waits on the provider's rate limit. */
const KEEPALIVE_HEARTBEAT_MS = 5_000;


/** Turns rule violations (bad candidates, a judge that is a candidate) into failures that retrying cannot fix. */
function refuseBadCandidates(candidates: EvalCandidate[], judgeModel: string | undefined, primaryMetric?: MetricName): void {
  if (primaryMetric === 'judge' && !judgeModel) throw nonRetryable('The judge metric can only be primary when a judge model is set.', 'InvalidEvalSettings');
  try {
    validateCandidates(candidates);
    if (judgeModel) assertJudgeIsNotCandidate(judgeModel, candidates);
  } catch (err) {
    const type = err instanceof JudgeIsCandidateError ? 'JudgeIsCandidate' : 'InvalidEvalCandidates';
    throw nonRetryable(err instanceof Error ? err.message : String(err), type, err);
  }
}

function heartbeatDone(details: unknown): number | undefined {
  const done = (details as Partial<EvaluateBatchHeartbeat> | undefined)?.done;
  return typeof done === 'number' && Number.isInteger(done) && done >= 0 ? done : undefined;
}

/**
 * Evaluation and report activities. The rate limiter and the chat caller live in this closure, one
 * per worker process, so every batch running in the worker shares the provider's budget.
 */
/**
 * Finished examples are kept in the batch file, so an attempt that made progress is not a reason to
 * back off: the next attempt starts where this one stopped, after the provider's retry-after if any.
 */
function retrySoon(err: unknown): unknown {
  if (!(err instanceof ApplicationFailure) || err.nonRetryable) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: err.type ?? undefined,
    nonRetryable: false,
    details: err.details ? [...err.details] : undefined,
    cause: err.cause,
    nextRetryDelay: err.nextRetryDelay ?? '1 second',
  });
}

export function createEvalActivities(deps: EvalActivityDeps) {
  const { config, logger } = deps;
  const settings = storageSettings(config);
  const storage = deps.storage ?? openStorage(settings.location, settings.s3);
  const { store } = storage;

  /** The run's own held-out split comes from the store; a user's eval file is checked like a dataset. */
  async function openEvalSource(runKey: string, ref: string): Promise<string | ByteSource> {
    const parsed = parseReference(ref);
    if (parsed.kind === 'key' && parsed.key.startsWith(`${assertRunKey(runKey)}/`)) {
      if (!(await store.exists(parsed.key))) {
        throw nonRetryable(
          `Eval file ${store.url(parsed.key)} (the run's held-out split) is not in the store: every worker of a task queue must share one TUNEFLOW_STORE.`,
          'EvalFileNotFound',
        );
      }
      return store.source(parsed.key);
    }
    return openInputFile(ref, { what: 'Eval file', notFoundType: 'EvalFileNotFound', roots: config.dataRoots, artifactsDir: config.artifactsDir }, storage);
  }

  const log = logger.child({ component: 'eval' });
  const limiter = new ProviderRateLimiter({ logger: log });
  let caller: ChatCaller | undefined;
  // Built on first use: a worker that never evaluates needs no provider key.
  const chatCaller = () => (caller ??= new ChatCaller({ client: deps.provider().chat(), limiter, logger: log, metrics: deps.metrics }));

  return {
    async prepareEval(input: PrepareEvalInput): Promise<PrepareEvalOutput> {
      const source = await openEvalSource(input.runId, input.sourcePath);
      const prepared = await withProgressHeartbeat({ pass: 1, lines: 0 }, (reporter) =>
        prepareEvalSet({
          source,
          store,
          outKey: evalSetKey(input.runId),
          maxExamples: input.maxExamples,
          seed: input.seed,
          onProgress: (p) => reporter.update(p),
        }),
      );
      log.info(
        { runId: input.runId, examples: prepared.examples, skipped: prepared.skipped, skippedReasons: prepared.skippedReasons, batchSize: input.batchSize },
        'eval set prepared',
      );
      if (prepared.examples === 0) {
        throw nonRetryable(
          `No usable eval examples in ${input.sourcePath}: every line needs messages ending in an assistant answer with text (${prepared.skipped} skipped).`,
          'EvalSetEmpty',
        );
      }
      return {
        evalSetPath: prepared.key,
        examples: prepared.examples,
        skipped: prepared.skipped,
        sha256: prepared.sha256,
        batches: planBatches(prepared.examples, input.batchSize),
      };
    },

    async evaluateBatch(input: EvaluateBatchInput): Promise<EvaluateBatchOutput> {
      refuseBadCandidates(input.candidates, input.judgeModel);
      const ctx = Context.current();
      const previous = heartbeatDone(ctx.info.heartbeatDetails);
      let done = previous ?? 0;
      let progressed = false;
      const keepalive = setInterval(() => ctx.heartbeat({ done } satisfies EvaluateBatchHeartbeat), KEEPALIVE_HEARTBEAT_MS);
      keepalive.unref();
      const batchLog = log.child({ runId: input.runId, batch: input.batch.index, attempt: ctx.info.attempt });
      try {
        const outcome = await runEvalBatch(
          {
            evalSet: referenceSource(storage, input.evalSetPath),
            store,
            batchKey: batchKey(input.runId, input.batch.index),
            start: input.batch.start,
            end: input.batch.end,
            candidates: input.candidates,
            judgeModel: input.judgeModel ?? null,
            seed: input.seed,
            maxTokens: input.maxTokens,
            concurrency: input.concurrency,
          },
          {
            caller: chatCaller(),
            logger: batchLog,
            signal: ctx.cancellationSignal,
            heartbeatDone: previous,
            onExampleDone: (finished) => {
              done = finished;
              progressed = true;
              ctx.heartbeat({ done } satisfies EvaluateBatchHeartbeat);
            },
          },
        );
        batchLog.info({ examples: outcome.examples, failed: outcome.failed, requests: outcome.requests, resumed: outcome.resumed }, 'eval batch finished');
        return { index: input.batch.index, examples: outcome.examples, failed: outcome.failed, requests: outcome.requests };
      } catch (err) {
        if (ctx.cancellationSignal.aborted) {
          batchLog.info({ done }, 'eval batch cancelled; finished examples stay in the batch file');
          throw ctx.cancellationSignal.reason instanceof CancelledFailure ? ctx.cancellationSignal.reason : new CancelledFailure('eval batch cancelled');
        }
        if (err instanceof JudgeIsCandidateError) throw nonRetryable(err.message, 'JudgeIsCandidate', err);
        if (err instanceof EvalSetMismatchError) throw nonRetryable(err.message, 'EvalSetMismatch', err);
        throw progressed ? retrySoon(err) : err;
      } finally {
        clearInterval(keepalive);
      }
    },

    async summarizeEval(input: SummarizeEvalInput): Promise<EvalSummary> {
      refuseBadCandidates(input.candidates, input.judgeModel, input.primaryMetric);
      try {
        const summary = await withProgressHeartbeat({ examples: 0 }, (reporter) =>
          summarizeEvalRun({
            store,
            evalDirKey: evalDirKey(input.runId),
            evalSet: store.source(evalSetKey(input.runId)),
            resultsKey: resultsKey(input.runId),
            candidates: input.candidates,
            seed: input.seed,
            primaryMetric: input.primaryMetric,
            minImprovement: input.minImprovement,
            judgeModel: input.judgeModel ?? null,
            onProgress: (p) => reporter.update(p),
          }),
        );
        log.info(
          { runId: input.runId, examples: summary.examples, failed: summary.failedExamples, recommended: summary.recommended, beatsBase: summary.beatsBase, gate: summary.gate?.outcome ?? null },
          'evaluation summarised',
        );
        return summary;
      } catch (err) {
        if (err instanceof IncompleteEvaluationError) throw nonRetryable(err.message, 'EvalIncomplete', err);
        throw err;
      }
    },

    async writeRunReport(input: { facts: RunFacts }): Promise<WriteRunReportOutput> {
      const runKey = assertRunKey(input.facts.runKey ?? input.facts.workflowId);
      // The workflow cannot read the worker's environment; the endpoint it evaluated against is known here.
      const facts: RunFacts = { ...input.facts, provider: { baseURL: input.facts.provider.baseURL ?? config.provider.baseURL ?? null } };
      const written = await withProgressHeartbeat({ filesWritten: 0 }, (reporter) =>
        writeReportFiles({ facts, store, runKey, writeRunJson: true, onProgress: (p) => reporter.update(p) }),
      );
      log.info({ runId: facts.workflowId, html: written.html, markdown: written.markdown }, 'run report written');
      return { html: written.html, markdown: written.markdown, runJson: written.runJson as string, runDir: store.url(runKey) };
    },
  };
}

export type EvalActivities = ReturnType<typeof createEvalActivities>;
