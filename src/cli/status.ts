import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { PipelineOutcome, PipelineProgress } from '../domain/pipeline';
import type { Stage } from '../domain/stages';
import { findPayloadKeyError } from '../codec/errors';
import { cliConfig, connectClient } from './context';
import { formatProgress, formatResult, LiveRunDisplay, queryWithin } from './progress';

/** What `tuneflow status` shows: Temporal's execution status plus the pipeline's stage, progress or result. */
export interface RunStatusView {
  workflowId: string;
  status: string;
  stage: Stage | null;
  progress: PipelineProgress | null;
  /** A trained run's result, or a skipped run's (its line's champion has this data). */
  result: PipelineOutcome | null;
  error: string | null;
  ui: string;
}

const CLOSED_STAGE: Record<string, Stage> = { COMPLETED: 'done', FAILED: 'failed', CANCELLED: 'cancelled', TERMINATED: 'failed', TIMED_OUT: 'failed' };

/** A run's status without needing a worker for closed runs: the result or failure comes from history. */
export async function runStatus(client: Client, workflowId: string, uiBase: string, namespace: string): Promise<RunStatusView> {
  const [{ WorkflowFailedError }, { STAGE_KEY }, { uiLink }, { progressQuery }] = await Promise.all([
    import('@temporalio/client'),
    import('../domain/search-attributes'),
    import('../starter'),
    import('../messages'),
  ]);
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe();
  const status = desc.status.name;
  const out: RunStatusView = { workflowId, status, stage: null, progress: null, result: null, error: null, ui: uiLink(uiBase, namespace, workflowId) };
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') {
    try {
      out.progress = await queryWithin(handle, progressQuery, 5000);
      out.stage = out.progress.stage;
    } catch (err) {
      // A worker answered, in payloads this process holds no key for: say so rather than blame the worker.
      const keyError = findPayloadKeyError(err);
      if (keyError) throw keyError;
      out.stage = (desc.typedSearchAttributes.get(STAGE_KEY) as Stage | undefined) ?? null;
      out.error = 'No worker answered the progress query; start one with `tuneflow worker`.';
    }
    return out;
  }
  out.stage = CLOSED_STAGE[status] ?? null;
  try {
    out.result = (await handle.result()) as PipelineOutcome;
  } catch (err) {
    const keyError = findPayloadKeyError(err);
    if (keyError) throw keyError;
    out.error = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : err instanceof Error ? err.message : String(err);
  }
  return out;
}

const isOpen = (s: RunStatusView) => s.status === 'RUNNING' || s.status === 'CONTINUED_AS_NEW';

function printStatus(s: RunStatusView): void {
  console.log(`${s.workflowId}: ${s.status} (${s.stage ?? 'unknown stage'})`);
  if (s.progress) console.log(`  ${formatProgress(s.progress)}`);
  if (s.result) console.log(formatResult(s.result));
  if (s.error) console.log(`  ${s.error}`);
  console.log(`  UI: ${s.ui}`);
}

/**
 * `status --watch`: follows the run until it closes, then prints its status. On a terminal, the live
 * display; with --json, one JSON status per change (the last one closed); otherwise one line per change.
 */
async function watchStatus(client: Client, workflowId: string, config: { uiUrl: string; namespace: string }, json: boolean): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  let s = await runStatus(client, workflowId, config.uiUrl, config.namespace);
  const live = !json && process.stdout.isTTY && isOpen(s);
  const display = live ? await LiveRunDisplay.open(process.stdout, workflowId, (await handle.describe()).startTime.getTime()) : null;
  let last = '';
  while (isOpen(s)) {
    if (display) display.update(s.progress, s.error);
    else {
      const line = json ? JSON.stringify(s) : s.progress ? formatProgress(s.progress) : (s.error ?? s.stage ?? s.status);
      if (line !== last) console.log(line);
      last = line;
    }
    await new Promise((r) => setTimeout(r, 1000));
    s = await runStatus(client, workflowId, config.uiUrl, config.namespace);
  }
  if (display) {
    const { progressQuery } = await import('../messages');
    const final = await queryWithin(handle, progressQuery, 3000).catch(() => null);
    if (final) display.update(final);
    display.persist();
  }
  if (json) console.log(JSON.stringify(s));
  else printStatus(s);
}

export function register(program: Command): void {
  program
    .command('status')
    .description("show a run's stage, job status, latest losses and counts")
    .argument('<workflowId>')
    .option('--json', 'print as JSON (with a `stage` field); with --watch, one JSON object per line and change')
    .option('--watch', 'follow the run until it closes (a live display on a terminal), then print its status')
    .action(async (workflowId: string, o: { json?: boolean; watch?: boolean }) => {
      const config = await cliConfig();
      const client = await connectClient(config);
      if (o.watch) return watchStatus(client, workflowId, config.temporal, o.json ?? false);
      const s = await runStatus(client, workflowId, config.temporal.uiUrl, config.temporal.namespace);
      if (o.json) console.log(JSON.stringify(s, null, 2));
      else printStatus(s);
    });
}
