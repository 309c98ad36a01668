import type { Command } from 'commander';
import { cliConfig, connectClient, UsageError } from './context';

export function register(program: Command): void {
  program
    .command('setup')
    .description("register tuneflow's search attributes on the namespace (once per cluster; safe to run again)")
    .option('--json', 'print what was added as JSON')
    .action(async (o: { json?: boolean }) => {
      const config = await cliConfig();
      const client = await connectClient(config);
      const { registerSearchAttributes, SearchAttributesNotRegisteredError } = await import('../temporal/search-attributes');
      const target = { address: config.temporal.address, namespace: config.temporal.namespace };
      let outcome;
      try {
        outcome = await registerSearchAttributes(client.connection.operatorService, target);
      } catch (err) {
        throw err instanceof SearchAttributesNotRegisteredError ? new UsageError(err.message) : err;
      } finally {
        await client.connection.close();
      }
      if (o.json) return console.log(JSON.stringify({ ...target, ...outcome }));
      if (outcome.added.length === 0) console.log(`Namespace ${target.namespace} at ${target.address} has all of tuneflow's search attributes already; nothing to do.`);
      else console.log(`Registered on namespace ${target.namespace} at ${target.address}: ${outcome.added.join(', ')} (Keyword).${outcome.alreadyThere.length ? ` Already there: ${outcome.alreadyThere.join(', ')}.` : ''}`);
    });
}
