import type { Command } from 'commander';
import { cliContext, parsePort } from './context';

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker that executes pipeline runs (stops gracefully on SIGINT/SIGTERM)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port at /metrics (env TUNEFLOW_METRICS_PORT)', parsePort('--metrics-port'))
    .action(async (o: { metricsPort?: number }) => {
      const { config, logger } = await cliContext();
      const { runWorker } = await import('../worker');
      const telemetry = config.telemetry && o.metricsPort !== undefined ? { ...config.telemetry, metricsPort: o.metricsPort } : config.telemetry;
      await runWorker({ ...config, telemetry }, logger);
    });
}
