import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { cliConfig, connectClient, UsageError } from './context';

/**
 * Lets a run go on that waits for a person: only when it says it is waiting (the run ignores a resume
 * it is not waiting for anyway). Returns what to tell the person.
 */
export async function resumeRun(client: Client, workflowId: string): Promise<string> {
  const { progressQuery, resumeSignal } = await import('../messages');
  const handle = client.workflow.getHandle(workflowId);
  const progress = await handle.query(progressQuery);
  if (!progress.waitingFor) throw new UsageError(`Run ${workflowId} is not waiting for a person (stage ${progress.stage}); nothing to resume.`);
  await handle.signal(resumeSignal);
  return `Resume sent: ${workflowId} goes on from stage ${progress.stage}. It waits again if the provider still refuses the key.`;
}

export function register(program: Command): void {
  program
    .command('resume')
    .description('let a run go on that waits for a person (the provider refused its key while a job exists); fix the key first')
    .argument('<workflowId>')
    .action(async (workflowId: string) => {
      const client = await connectClient(await cliConfig());
      console.log(await resumeRun(client, workflowId));
    });
}
