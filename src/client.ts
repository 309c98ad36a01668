/**
 * `tuneflow/client`: what another service needs to start, follow and decide runs, with no workflow or
 * activity code behind it (a test walks the built module graph to keep it so).
 */
import {
  CancelledFailure,
  type Client,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { loadConfig, type AppConfig } from './config';
import type { PipelineInput, PipelineOutcome, PipelineProgress } from './domain/pipeline';
import type { Stage } from './domain/stages';
import { STAGE_KEY } from './domain/search-attributes';
import { RunAlreadyExistsError, startPipeline } from './starter';
import { connectClient } from './temporal/connect';
import { approveUpdate, progressQuery, rejectUpdate, type ApproveRequest, type DecisionAck, type RejectRequest } from './messages';

export { loadConfig, type AppConfig } from './config';
export {
  PipelineInputSchema,
  resolvePipelineInput,
  type LatestMetrics,
  isSkipped,
  type PendingApproval,
  type PipelineInput,
  type PipelineOutcome,
  type PipelineProgress,
  type PipelineResult,
  type ResolvedPipelineInput,
  type RunStatus,
  type SkippedRunResult,
} from './domain/pipeline';
export type { Champion, LineHistoryEntry, LineState } from './domain/lines';
export type { RunDecision } from './domain/run';
// The search attribute names tuneflow sets, for visibility queries (`TuneflowStage = 'training'`).
export { SEARCH_ATTRIBUTE_NAMES, STAGES, TERMINAL_STAGES, type Stage } from './domain/stages';
export { anonymousWorkflowId, defaultWorkflowId, RunAlreadyExistsError, startPipeline, uiLink, type PipelineHandle } from './starter';
// A client from the config's Temporal settings (envconfig profile) whose payloads go through the codec keys, if any.
export { connectClient, tuneflowDataConverter } from './temporal/connect';
// Definitions only (defineQuery/defineSignal/defineUpdate): importing them loads no workflow code.
export * from './messages';

/** A run as the client knows it: its workflow id and the first run id of its chain (stable across continue-as-new). */
export interface RunRef {
  workflowId: string;
  runId: string;
}

/** What Temporal says of a run: its execution status, tuneflow's stage search attribute and the memo. */
export interface RunDescription extends RunRef {
  /** `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TERMINATED`, `TIMED_OUT`, `CONTINUED_AS_NEW`. */
  status: string;
  /** The `TuneflowStage` search attribute; null when the namespace lacks it or the run has not set it yet. */
  stage: Stage | null;
  memo: Record<string, unknown>;
  taskQueue: string;
  startTime: Date;
  closeTime: Date | null;
  historyLength: number;
}

/** No run has this workflow id in the client's namespace. */
export class RunNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`No run with workflow id ${JSON.stringify(workflowId)} in this namespace.`);
    this.name = 'RunNotFoundError';
  }
}

/** The run ended without a result: it failed, was cancelled or terminated, or timed out; `cause` is Temporal's failure. */
export class RunFailedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly status: 'failed' | 'cancelled' | 'terminated' | 'timed_out',
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'RunFailedError';
  }
}

/** The run refused an approve or reject: it is not waiting for approval, the model is not its candidate, or it has ended. */
export class DecisionRefusedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly decision: 'approve' | 'reject',
    /** The run's own words (its validator's message), or why the decision could not reach it. */
    readonly reason: string,
    options?: { cause: unknown },
  ) {
    super(`Run ${workflowId} refused the ${decision === 'approve' ? 'approval' : 'rejection'}: ${reason}`, options);
    this.name = 'DecisionRefusedError';
  }
}

/** A typed client for tuneflow runs, over a Temporal client (its namespace) and tuneflow's config (task queue, codec). */
export class TuneflowClient {
  readonly temporal: Client;
  readonly config: AppConfig;
  private readonly ownsConnection: boolean;

  constructor(opts: { client: Client; config?: AppConfig }, ownsConnection = false) {
    this.temporal = opts.client;
    this.config = opts.config ?? loadConfig();
    this.ownsConnection = ownsConnection;
  }

  /** Connects with the config's Temporal settings and codec keys (`loadConfig()` when none is given); `close()` closes the connection. */
  static async connect(config: AppConfig = loadConfig()): Promise<TuneflowClient> {
    const client = await connectClient(config.temporal, { codec: config.codec });
    return new TuneflowClient({ client, config }, true);
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.temporal.connection.close();
  }

  /**
   * Starts a run under `workflowId`, or returns the run that already has that id, running or closed:
   * calling it again (a retried request, a second service) never makes a second run or job.
   * Refuses a bad input with the field named before anything starts.
   */
  async start(input: PipelineInput, opts: { workflowId: string }): Promise<RunRef> {
    try {
      const handle = await startPipeline(this.temporal, this.config, input, { workflowId: opts.workflowId, onExisting: 'use-existing' });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      // A start racing another start of the same id.
      if (err instanceof RunAlreadyExistsError) {
        const existing = await this.existingRun(opts.workflowId);
        if (existing) return existing;
      }
      throw err;
    }
  }

  /** The run's stage, job, losses and counts (the `progress` query; answered by any worker, also for a closed run). */
  async progress(workflowId: string): Promise<PipelineProgress> {
    return this.notFoundAsTyped(workflowId, () => this.handle(workflowId).query(progressQuery));
  }

  /** Waits for the run's result, following continue-as-new; a run that ends otherwise throws `RunFailedError`. */
  async result(workflowId: string): Promise<PipelineOutcome> {
    try {
      return await this.notFoundAsTyped(workflowId, () => this.handle(workflowId).result());
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw runFailure(workflowId, err);
      throw err;
    }
  }

  async describe(workflowId: string): Promise<RunDescription> {
    const d = await this.notFoundAsTyped(workflowId, () => this.handle(workflowId).describe());
    return {
      workflowId: d.workflowId,
      runId: d.raw.workflowExecutionInfo?.firstRunId || d.runId,
      status: d.status.name,
      stage: (d.typedSearchAttributes.get(STAGE_KEY) as Stage | undefined) ?? null,
      memo: d.memo ?? {},
      taskQueue: d.taskQueue,
      startTime: d.startTime,
      closeTime: d.closeTime ?? null,
      historyLength: d.historyLength,
    };
  }

  /** Asks the run to cancel; it cancels its provider job before it closes (await `result()` to see it end). */
  async cancel(workflowId: string): Promise<void> {
    await this.notFoundAsTyped(workflowId, () => this.handle(workflowId).cancel());
  }

  /** Approves a run waiting for approval: the model given (a candidate of this run) or the one its evaluation recommends. */
  async approve(workflowId: string, request: ApproveRequest): Promise<DecisionAck> {
    return this.decide(workflowId, 'approve', () => this.handle(workflowId).executeUpdate(approveUpdate, { args: [request] }));
  }

  /** Rejects a run waiting for approval: it promotes nothing and records who and why. */
  async reject(workflowId: string, request: RejectRequest): Promise<DecisionAck> {
    return this.decide(workflowId, 'reject', () => this.handle(workflowId).executeUpdate(rejectUpdate, { args: [request] }));
  }

  private handle(workflowId: string): WorkflowHandle {
    return this.temporal.workflow.getHandle(workflowId);
  }

  /** The run under this id, whatever its status, or null when there is none. */
  private async existingRun(workflowId: string): Promise<RunRef | null> {
    try {
      const d = await this.handle(workflowId).describe();
      return { workflowId, runId: d.raw.workflowExecutionInfo?.firstRunId || d.runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  private async notFoundAsTyped<T>(workflowId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(workflowId);
      throw err;
    }
  }

  private async decide(workflowId: string, decision: 'approve' | 'reject', send: () => Promise<DecisionAck>): Promise<DecisionAck> {
    try {
      return await send();
    } catch (err) {
      // The validator's (or the update handler's) refusal, in the run's own words.
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = err.cause?.message ?? err.message;
        const why = /^No registered handler for update/.test(reason)
          ? `it does not take approvals (its workflow has no '${decision}' update: a run started by a tuneflow before 0.4, or not a pipeline run)`
          : reason;
        throw new DecisionRefusedError(workflowId, decision, why, { cause: err });
      }
      if (err instanceof WorkflowNotFoundError) {
        // The server answers "not found" both for an unknown id and for a run that has closed.
        const closed = await this.existingRun(workflowId).then((ref) => (ref ? this.describe(workflowId) : null));
        if (!closed) throw new RunNotFoundError(workflowId);
        throw new DecisionRefusedError(workflowId, decision, `it has ended (${closed.status}, stage ${closed.stage ?? 'unknown'}); only a run waiting for approval takes a decision`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}

function runFailure(workflowId: string, err: WorkflowFailedError): RunFailedError {
  const cause = err.cause;
  if (cause instanceof CancelledFailure) return new RunFailedError(workflowId, 'cancelled', `Run ${workflowId} was cancelled.`, { cause });
  if (cause instanceof TerminatedFailure) return new RunFailedError(workflowId, 'terminated', `Run ${workflowId} was terminated${cause.message ? `: ${cause.message}` : ''}.`, { cause });
  if (cause instanceof TimeoutFailure) return new RunFailedError(workflowId, 'timed_out', `Run ${workflowId} timed out.`, { cause });
  return new RunFailedError(workflowId, 'failed', `Run ${workflowId} failed: ${cause?.message ?? err.message}`, { cause: cause ?? err });
}
