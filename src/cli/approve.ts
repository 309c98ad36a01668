import type { Command } from 'commander';
import type { TuneflowClient } from '../client';
import type { DecisionAck } from '../messages';
import { cliConfig, connectClient, personName, UsageError } from './context';

function describeAck(ack: DecisionAck, by: string): string {
  return ack.outcome === 'promoted'
    ? `Approved by ${by}: ${ack.workflowId} promotes ${ack.model ?? 'the recommended model'}.`
    : `Rejected by ${by}: ${ack.workflowId} promotes nothing.`;
}

/** Sends the decision through the typed client; a refusal (not waiting, not a candidate, ended) is the person's to fix. */
async function decide(workflowId: string, send: (c: TuneflowClient) => Promise<DecisionAck>, by: string): Promise<void> {
  const [{ TuneflowClient, DecisionRefusedError, RunNotFoundError }, config] = await Promise.all([import('../client'), cliConfig()]);
  const client = new TuneflowClient({ client: await connectClient(config), config });
  try {
    console.log(describeAck(await send(client), by));
  } catch (err) {
    if (err instanceof DecisionRefusedError || err instanceof RunNotFoundError) throw new UsageError(err.message);
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('approve')
    .description('approve a run waiting for approval (--approval required): it promotes the model given, or the one its evaluation recommends')
    .argument('<workflowId>')
    .option('--model <model>', 'the model to promote: a checkpoint or the final model of this run (default: the recommended one)')
    .option('--by <name>', 'who approves, recorded in the result, the report and the line history (default: $USER)')
    .option('--reason <text>', 'why, recorded beside the decision')
    .action(async (workflowId: string, o: { model?: string; by?: string; reason?: string }) => {
      const by = o.by ?? personName();
      const request = { by, ...(o.model !== undefined ? { model: o.model } : {}), ...(o.reason !== undefined ? { reason: o.reason } : {}) };
      await decide(workflowId, (c) => c.approve(workflowId, request), by);
    });
  program
    .command('reject')
    .description('reject a run waiting for approval: it promotes nothing and records who and why')
    .argument('<workflowId>')
    .requiredOption('--reason <text>', 'why, recorded in the result, the report and the line history')
    .option('--by <name>', 'who rejects (default: $USER)')
    .action(async (workflowId: string, o: { by?: string; reason: string }) => {
      if (!o.reason.trim()) throw new UsageError('--reason must say why the run is rejected.');
      const by = o.by ?? personName();
      await decide(workflowId, (c) => c.reject(workflowId, { by, reason: o.reason }), by);
    });
}
