import type { Command } from 'commander';
import { runWorker } from '../worker';
import { cliContext } from './context';

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker that executes pipeline runs (stops gracefully on SIGINT/SIGTERM)')
    .action(async () => {
      const { config, logger } = cliContext();
      await runWorker(config, logger);
    });
}
