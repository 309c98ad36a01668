import type { Command } from 'commander';
import { cliContext } from './context';

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker that executes pipeline runs (stops gracefully on SIGINT/SIGTERM)')
    .action(async () => {
      const { config, logger } = await cliContext();
      const { runWorker } = await import('../worker');
      await runWorker(config, logger);
    });
}
