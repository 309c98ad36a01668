import { isGrpcDeadlineError, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { LINE_NAME_PATTERN, LINE_WORKFLOW_TYPE, lineWorkflowId, type Champion, type LineState, type ModelLineWorkflow } from './domain/lines';
import { LINE_KEY } from './domain/search-attributes';
import { lineStateQuery, promoteUpdate, rollbackUpdate } from './messages';

/**
 * Model lines from outside a worker (the `tuneflow line` commands, other services): each line is a
 * `modelLine` entity workflow, read by its query and changed by its updates.
 */

/** How long a read waits for a worker to answer before saying none did. */
const QUERY_DEADLINE_MS = 10_000;
/** How long a change waits for a worker; the change may still land once one comes. */
const UPDATE_DEADLINE_MS = 60_000;

export class UnknownLineError extends Error {
  override name = 'UnknownLineError';
  constructor(readonly line: string) {
    super(`No line named ${line}; \`tuneflow line list\` shows the lines`);
  }
}

/** The line refused the change (its update validator's message). */
export class LineRequestRefusedError extends Error {
  override name = 'LineRequestRefusedError';
}

export class InvalidLineNameError extends Error {
  override name = 'InvalidLineNameError';
  constructor(readonly line: string) {
    super(`${JSON.stringify(line)} is not a line name: use 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

export function assertLineName(line: string): void {
  if (!LINE_NAME_PATTERN.test(line)) throw new InvalidLineNameError(line);
}

/** Starts the line's entity workflow on first use, or uses the running one (update-with-start). */
export function lineStartOperation(line: string, taskQueue: string): WithStartWorkflowOperation<ModelLineWorkflow> {
  return new WithStartWorkflowOperation<ModelLineWorkflow>(LINE_WORKFLOW_TYPE, {
    workflowId: lineWorkflowId(line),
    taskQueue,
    args: [{ line }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: LINE_KEY, value: line }],
  });
}

/** The update id of a run's record: Temporal drops a retried record by it, as the line drops one it already has. */
export function recordLineRunUpdateId(workflowId: string, runId: string): string {
  return `record-run:${workflowId}:${runId}`;
}

function noWorker(line: string, what: string, ms: number, mayLand: boolean): Error {
  const later = mayLand ? ' The request stays with the line and is applied once a worker picks it up.' : '';
  return new Error(`No worker answered ${what} on line ${line} within ${ms / 1000} s; start one with \`tuneflow worker\`.${later}`);
}

/** A line's state, or null when the line does not exist (its workflow was never started). No deadline: for activities. */
export async function queryLineState(client: Client, line: string): Promise<LineState | null> {
  assertLineName(line);
  try {
    return await client.workflow.getHandle(lineWorkflowId(line)).query(lineStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export async function showLine(client: Client, line: string): Promise<LineState> {
  const state = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => queryLineState(client, line)).catch((err: unknown) => {
    throw isGrpcDeadlineError(err) ? noWorker(line, 'the state query', QUERY_DEADLINE_MS, false) : err;
  });
  if (!state) throw new UnknownLineError(line);
  return state;
}

/** A running line as `listLines` finds it: its state, or why there is none (no worker answered its query). */
export interface LineListing {
  line: string;
  state: LineState | null;
  error: string | null;
}

/** Every running line with its state, by name; a line no worker answers for is listed with the reason, not dropped. */
export async function listLines(client: Client): Promise<LineListing[]> {
  const prefix = lineWorkflowId('');
  const lines = new Set<string>();
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${LINE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` })) {
    const line = wf.typedSearchAttributes.get(LINE_KEY) ?? (wf.workflowId.startsWith(prefix) ? wf.workflowId.slice(prefix.length) : '');
    if (LINE_NAME_PATTERN.test(line)) lines.add(line);
  }
  const listings = await Promise.all(
    [...lines].map(async (line): Promise<LineListing | null> => {
      try {
        return { line, state: await showLine(client, line), error: null };
      } catch (err) {
        // Closed between the list and the query.
        if (err instanceof UnknownLineError) return null;
        return { line, state: null, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return listings.filter((l): l is LineListing => l !== null).sort((a, b) => a.line.localeCompare(b.line));
}

async function changeLine<T>(client: Client, line: string, what: string, change: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + UPDATE_DEADLINE_MS, change);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UnknownLineError(line);
    if (err instanceof WorkflowUpdateFailedError) throw new LineRequestRefusedError(err.cause?.message ?? err.message);
    if (isGrpcDeadlineError(err)) throw noWorker(line, what, UPDATE_DEADLINE_MS, true);
    throw err;
  }
}

export interface PromoteRequest {
  /** The task queue of the workers that run lines, for a line this promotion creates. */
  taskQueue: string;
  line: string;
  model: string;
  by: string;
  reason?: string | undefined;
}

/** Makes `model` the line's champion by hand; promoting on a line that does not exist yet creates it. */
export async function promoteModel(client: Client, req: PromoteRequest): Promise<Champion> {
  assertLineName(req.line);
  return changeLine(client, req.line, 'promote', () =>
    client.workflow.executeUpdateWithStart(promoteUpdate, {
      args: [{ model: req.model, by: req.by, ...(req.reason !== undefined ? { reason: req.reason } : {}) }],
      startWorkflowOperation: lineStartOperation(req.line, req.taskQueue),
    }),
  );
}

/** Restores the line's previous champion; refused (LineRequestRefusedError) when it has none. */
export async function rollbackLine(client: Client, line: string, by: string, reason?: string): Promise<Champion> {
  assertLineName(line);
  return changeLine(client, line, 'rollback', () =>
    client.workflow.getHandle(lineWorkflowId(line)).executeUpdate(rollbackUpdate, { args: [{ by, ...(reason !== undefined ? { reason } : {}) }] }),
  );
}
