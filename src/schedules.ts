import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptions,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { AppConfig } from './config';
import type { ResolvedPipelineInput } from './domain/pipeline';
import { assertUsableWorkflowId, explainMissingSearchAttributes, pipelineStartDecoration, tuneflowVersion } from './starter';

/** Schedules tuneflow made carry this prefix: `list` shows them and no one else's (the reaper's, other apps'). */
export const SCHEDULE_ID_PREFIX = 'tuneflow-schedule-';
/** A schedule name: also the first part of its runs' workflow ids (Temporal appends the scheduled time). */
export const SCHEDULE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/**
 * A run that could not start within this of its time (server down, schedule paused by an outage) is
 * skipped: long enough for a server restart, short enough that a retraining never starts hours late, after
 * an outage, as a surprise bill at a busy hour (Temporal's own default is a year).
 */
export const DEFAULT_CATCHUP_WINDOW_MS = 10 * 60_000;
/** Temporal's smallest catch-up window. */
export const MIN_CATCHUP_WINDOW_MS = 10_000;

/** The `--overlap` words and Temporal's policies. */
export const OVERLAP_POLICIES = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'allow-all': 'ALLOW_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'terminate-other': 'TERMINATE_OTHER',
} as const satisfies Record<string, ScheduleOverlapPolicy>;
export type OverlapWord = keyof typeof OVERLAP_POLICIES;

export function overlapWord(policy: ScheduleOverlapPolicy): string {
  return Object.entries(OVERLAP_POLICIES).find(([, p]) => p === policy)?.[0] ?? String(policy).toLowerCase();
}

export class InvalidScheduleRequestError extends Error {}
export class NoSuchScheduleError extends Error {}
export class ScheduleExistsError extends Error {}

export function scheduleIdOf(name: string): string {
  if (!SCHEDULE_NAME_PATTERN.test(name)) {
    throw new InvalidScheduleRequestError(
      `Schedule name ${JSON.stringify(name)} cannot be used: 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return `${SCHEDULE_ID_PREFIX}${name}`;
}

/** What a schedule's memo says: the cron as typed (the server keeps only the calendar it compiles it to) and what it trains. */
export interface ScheduleMemo {
  version: string;
  cron: string;
  /** Null for encrypted runs. */
  dataset: string | null;
  model: string;
  line: string | null;
}

export interface ScheduleRequest {
  name: string;
  cron: string;
  /** IANA time zone of the cron; absent: UTC. */
  timezone?: string | undefined;
  jitterMs?: number | undefined;
  /** Absent: DEFAULT_CATCHUP_WINDOW_MS. */
  catchupWindowMs?: number | undefined;
  overlap: OverlapWord;
  paused?: boolean | undefined;
  note?: string | undefined;
  /** Resolved and checked by the input schema before anything is created. */
  input: ResolvedPipelineInput;
}

/** True when `tz` is a time zone this machine (and so, the tz database the server uses) knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The schedule Temporal is asked to create: each action starts `fineTunePipeline` decorated as `tuneflow run` decorates it. */
export function scheduleOptions(req: ScheduleRequest, config: Pick<AppConfig, 'codec' | 'store' | 'artifactsDir' | 'temporal'>): ScheduleOptions {
  const scheduleId = scheduleIdOf(req.name);
  assertUsableWorkflowId(req.name);
  if (req.timezone !== undefined && !isTimeZone(req.timezone)) throw new InvalidScheduleRequestError(`--timezone ${JSON.stringify(req.timezone)} is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  const catchupWindowMs = req.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS;
  if (catchupWindowMs < MIN_CATCHUP_WINDOW_MS) throw new InvalidScheduleRequestError(`--catchup-window must be at least 10s (Temporal's minimum)`);
  const decoration = pipelineStartDecoration(req.input, config, `${req.name}-<scheduled time>`);
  const memo: ScheduleMemo = {
    version: tuneflowVersion(),
    cron: req.cron,
    dataset: config.codec !== undefined ? null : req.input.datasetPath,
    model: req.input.model,
    line: req.input.line ?? null,
  };
  return {
    scheduleId,
    spec: {
      cronExpressions: [req.cron],
      ...(req.timezone !== undefined ? { timezone: req.timezone } : {}),
      ...(req.jitterMs ? { jitter: req.jitterMs } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'fineTunePipeline',
      taskQueue: config.temporal.taskQueue,
      // Temporal appends the scheduled time: nightly-2026-03-01T02:00:00Z.
      workflowId: req.name,
      args: [req.input],
      ...decoration,
    },
    policies: { overlap: OVERLAP_POLICIES[req.overlap], catchupWindow: catchupWindowMs },
    memo: { tuneflow: memo },
    state: { paused: req.paused ?? false, note: req.note ?? 'created by tuneflow schedule create' },
  };
}

export async function createSchedule(client: Client, config: AppConfig, req: ScheduleRequest): Promise<ScheduleDetail> {
  const options = scheduleOptions(req, config);
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new ScheduleExistsError(`A schedule named ${req.name} already exists; see \`tuneflow schedule describe ${req.name}\`, or delete it first.`);
    // The client turns the server's "Invalid schedule spec" into a TypeError.
    if (err instanceof TypeError) throw new InvalidScheduleRequestError(`--cron ${JSON.stringify(req.cron)} is not a schedule Temporal accepts: ${err.message}`);
    throw explainMissingSearchAttributes(err, config.temporal.namespace);
  }
  return describeSchedule(client, req.name);
}

export interface ScheduledRun {
  workflowId: string;
  runId: string;
  scheduledAt: string;
  takenAt: string;
  /** Temporal's execution status (RUNNING, COMPLETED, FAILED, ...), or null when the run is no longer known. */
  status: string | null;
}

export interface ScheduleView {
  name: string;
  scheduleId: string;
  cron: string | null;
  timezone: string;
  paused: boolean;
  note: string | null;
  nextRun: string | null;
  lastRun: ScheduledRun | null;
  dataset: string | null;
  model: string | null;
  line: string | null;
}

export interface ScheduleDetail extends ScheduleView {
  jitterSeconds: number;
  overlap: string;
  catchupWindowSeconds: number;
  pauseOnFailure: boolean;
  taskQueue: string;
  workflowIdPrefix: string;
  recentRuns: ScheduledRun[];
  runningWorkflowIds: string[];
  nextRuns: string[];
  actionsTaken: number;
  skippedForOverlap: number;
  missedCatchupWindow: number;
  createdAt: string;
}

async function handleOf(client: Client, name: string): Promise<{ handle: ScheduleHandle; description: ScheduleDescription }> {
  const handle = client.schedule.getHandle(scheduleIdOf(name));
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NoSuchScheduleError(`No schedule named ${name}; see \`tuneflow schedule list\`.`);
    throw err;
  }
}

async function runStatus(client: Client, workflowId: string): Promise<string | null> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch {
    return null;
  }
}

function memoOf(description: Pick<ScheduleDescription, 'memo'>): Partial<ScheduleMemo> {
  const memo = description.memo?.tuneflow;
  return typeof memo === 'object' && memo !== null ? (memo as Partial<ScheduleMemo>) : {};
}

/** `statusOf`: which recent runs to look up the status of (a list needs only the last one's). */
async function detailOf(client: Client, name: string, d: ScheduleDescription, statusOf: 'all' | 'last' = 'all'): Promise<ScheduleDetail> {
  const memo = memoOf(d);
  const actions = d.info.recentActions;
  const recentRuns = await Promise.all(
    actions.map(async (a, i) => ({
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      status: statusOf === 'all' || i === actions.length - 1 ? await runStatus(client, a.action.workflow.workflowId) : null,
    })),
  );
  const input = d.action.args?.[0] as Partial<ResolvedPipelineInput> | undefined;
  return {
    name,
    scheduleId: d.scheduleId,
    cron: memo.cron ?? null,
    timezone: d.spec.timezone || 'UTC',
    paused: d.state.paused,
    note: d.state.note ?? null,
    nextRun: d.info.nextActionTimes[0]?.toISOString() ?? null,
    lastRun: recentRuns.at(-1) ?? null,
    dataset: memo.dataset ?? null,
    model: memo.model ?? input?.model ?? null,
    line: memo.line ?? input?.line ?? null,
    jitterSeconds: (d.spec.jitter ?? 0) / 1000,
    overlap: overlapWord(d.policies.overlap),
    catchupWindowSeconds: d.policies.catchupWindow / 1000,
    pauseOnFailure: d.policies.pauseOnFailure,
    taskQueue: d.action.taskQueue,
    workflowIdPrefix: d.action.workflowId,
    recentRuns,
    runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    actionsTaken: d.info.numActionsTaken,
    skippedForOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    createdAt: d.info.createdAt.toISOString(),
  };
}

export async function describeSchedule(client: Client, name: string): Promise<ScheduleDetail> {
  const { description } = await handleOf(client, name);
  return detailOf(client, name, description);
}

/**
 * tuneflow's schedules, each described (the list itself comes from visibility, which lags a new schedule
 * by a moment; a description is the schedule's state now).
 */
export async function listSchedules(client: Client): Promise<ScheduleView[]> {
  const names: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(SCHEDULE_ID_PREFIX)) names.push(summary.scheduleId.slice(SCHEDULE_ID_PREFIX.length));
  }
  names.sort();
  const views: ScheduleView[] = [];
  for (const name of names) {
    try {
      const d = await detailOf(client, name, (await handleOf(client, name)).description, 'last');
      views.push({ name, scheduleId: d.scheduleId, cron: d.cron, timezone: d.timezone, paused: d.paused, note: d.note, nextRun: d.nextRun, lastRun: d.lastRun, dataset: d.dataset, model: d.model, line: d.line });
    } catch (err) {
      // Deleted between the list and its description.
      if (!(err instanceof NoSuchScheduleError)) throw err;
    }
  }
  return views;
}

export async function pauseSchedule(client: Client, name: string, note?: string): Promise<void> {
  const { handle } = await handleOf(client, name);
  await handle.pause(note ?? 'paused by tuneflow schedule pause');
}

export async function unpauseSchedule(client: Client, name: string, note?: string): Promise<void> {
  const { handle } = await handleOf(client, name);
  await handle.unpause(note ?? 'unpaused by tuneflow schedule unpause');
}

export async function deleteSchedule(client: Client, name: string): Promise<void> {
  const { handle } = await handleOf(client, name);
  await handle.delete();
}

export type TriggerOutcome =
  | { outcome: 'started'; workflowId: string; runId: string }
  | { outcome: 'skipped'; overlap: string; runningWorkflowIds: string[] }
  | { outcome: 'buffered'; overlap: string; runningWorkflowIds: string[] }
  | { outcome: 'requested'; overlap: string };

/**
 * Starts the schedule's action now under the schedule's own overlap policy (the SDK's default for a
 * trigger is ALLOW_ALL), then watches the schedule for up to `waitMs` to say what came of it.
 */
export async function triggerSchedule(client: Client, name: string, waitMs = 10_000): Promise<TriggerOutcome> {
  const { handle, description: before } = await handleOf(client, name);
  const known = new Set([...before.info.recentActions.map((a) => a.action.workflow.workflowId), ...before.info.runningActions.map((a) => a.workflow.workflowId)]);
  const overlap = overlapWord(before.policies.overlap);
  const bufferOf = (d: ScheduleDescription) => d.raw.info?.bufferSize?.toString() ?? '0';
  await handle.trigger(before.policies.overlap);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const now = await handle.describe();
    const started = now.info.recentActions.find((a) => !known.has(a.action.workflow.workflowId));
    if (started) return { outcome: 'started', workflowId: started.action.workflow.workflowId, runId: started.action.workflow.firstExecutionRunId };
    const running = now.info.runningActions.map((a) => a.workflow.workflowId);
    if (now.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) return { outcome: 'skipped', overlap, runningWorkflowIds: running };
    if (bufferOf(now) !== bufferOf(before)) return { outcome: 'buffered', overlap, runningWorkflowIds: running };
    await new Promise((r) => setTimeout(r, 200));
  }
  return { outcome: 'requested', overlap };
}

export interface BackfillRequest {
  start: Date;
  end: Date;
  /** Absent: the schedule's own policy. */
  overlap?: OverlapWord | undefined;
}

/** Takes the actions the schedule would have taken between start and end, as if it had been running then. */
export async function backfillSchedule(client: Client, name: string, req: BackfillRequest): Promise<{ overlap: string }> {
  if (!(req.start.getTime() < req.end.getTime())) throw new InvalidScheduleRequestError(`--start (${req.start.toISOString()}) must be before --end (${req.end.toISOString()})`);
  const { handle, description } = await handleOf(client, name);
  const overlap = req.overlap !== undefined ? OVERLAP_POLICIES[req.overlap] : description.policies.overlap;
  await handle.backfill({ start: req.start, end: req.end, overlap });
  return { overlap: overlapWord(overlap) };
}
