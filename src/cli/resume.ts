import type { Command } from 'commander';
import { cliConfig, connectClient, UsageError } from './context';

export function register(program: Command): void {
  program
    .command('resume')
    .description('let a run go on that waits for a person (the provider refused its key while a job exists); fix the key first')
    .argument('<workflowId>')
    .action(async (workflowId: string) => {
      const client = await connectClient(await cliConfig());
      const [{ WorkflowUpdateFailedError }, { resumeUpdate }] = await Promise.all([import('@temporalio/client'), import('../workflows/messages')]);
      try {
        console.log(await client.workflow.getHandle(workflowId).executeUpdate(resumeUpdate));
      } catch (err) {
        // The update's validator refuses a run that is not waiting; say so plainly.
        if (err instanceof WorkflowUpdateFailedError) throw new UsageError(err.cause?.message ?? err.message);
        throw err;
      }
    });
}
