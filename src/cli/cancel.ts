import type { Command } from 'commander';
import { cliConfig, connectClient } from './context';

export function register(program: Command): void {
  program
    .command('cancel')
    .description('cancel a run; the run cancels its provider job before it closes')
    .argument('<workflowId>')
    .option('--no-wait', 'return once the cancellation is requested')
    .action(async (workflowId: string, o: { wait: boolean }) => {
      const client = await connectClient(await cliConfig());
      const handle = client.workflow.getHandle(workflowId);
      await handle.cancel();
      console.log(`Cancellation requested for ${workflowId}.`);
      if (!o.wait) return;
      try {
        await handle.result();
        console.log('The run had already finished.');
      } catch (err) {
        const { WorkflowFailedError } = await import('@temporalio/client');
        const closed = await handle.describe();
        console.log(`Run is ${closed.status.name}${err instanceof WorkflowFailedError && err.cause ? `: ${err.cause.message}` : ''}`);
      }
    });
}
