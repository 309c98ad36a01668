import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { PipelineProgress, PipelineResult } from '../domain/pipeline';
import { STAGE_KEY } from '../domain/search-attributes';
import type { Stage } from '../domain/stages';
import { uiLink } from '../starter';
import { progressQuery } from '../workflows';
import { cliContext, connectClient } from './context';
import { formatProgress, formatResult } from './progress';

/** What `tuneflow status` shows: Temporal's execution status plus the pipeline's stage, progress or result. */
export interface RunStatusView {
  workflowId: string;
  status: string;
  stage: Stage | null;
  progress: PipelineProgress | null;
  result: PipelineResult | null;
  error: string | null;
  ui: string;
}

const CLOSED_STAGE: Record<string, Stage> = { COMPLETED: 'done', FAILED: 'failed', CANCELLED: 'cancelled', TERMINATED: 'failed', TIMED_OUT: 'failed' };

/** A run's status without needing a worker for closed runs: the result or failure comes from history. */
export async function runStatus(client: Client, workflowId: string, uiBase: string, namespace: string): Promise<RunStatusView> {
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe();
  const status = desc.status.name;
  const out: RunStatusView = { workflowId, status, stage: null, progress: null, result: null, error: null, ui: uiLink(uiBase, namespace, workflowId) };
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') {
    try {
      out.progress = await Promise.race([
        handle.query(progressQuery),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no worker answered')), 5000)),
      ]);
      out.stage = out.progress.stage;
    } catch {
      out.stage = (desc.typedSearchAttributes.get(STAGE_KEY) as Stage | undefined) ?? null;
      out.error = 'No worker answered the progress query; start one with `tuneflow worker`.';
    }
    return out;
  }
  out.stage = CLOSED_STAGE[status] ?? null;
  try {
    out.result = (await handle.result()) as PipelineResult;
  } catch (err) {
    out.error = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : err instanceof Error ? err.message : String(err);
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('status')
    .description("show a run's stage, job status, latest losses and counts")
    .argument('<workflowId>')
    .option('--json', 'print as JSON (with a `stage` field)')
    .action(async (workflowId: string, o: { json?: boolean }) => {
      const { config } = cliContext();
      const client = await connectClient(config);
      const s = await runStatus(client, workflowId, config.temporal.uiUrl, config.temporal.namespace);
      if (o.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      console.log(`${s.workflowId}: ${s.status} (${s.stage ?? 'unknown stage'})`);
      if (s.progress) console.log(`  ${formatProgress(s.progress)}`);
      if (s.result) console.log(formatResult(s.result));
      if (s.error) console.log(`  ${s.error}`);
      console.log(`  UI: ${s.ui}`);
    });
}
