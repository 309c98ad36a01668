import type { Command } from 'commander';
import { cliContext, UsageError } from './context';

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--metrics-port must be a port number 0..65535, got ${JSON.stringify(raw)}`);
  return port;
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker that executes pipeline runs (stops gracefully on SIGINT/SIGTERM)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port at /metrics (env TUNEFLOW_METRICS_PORT)', parsePort)
    .action(async (o: { metricsPort?: number }) => {
      const { config, logger } = await cliContext();
      const { runWorker } = await import('../worker');
      const telemetry = config.telemetry && o.metricsPort !== undefined ? { ...config.telemetry, metricsPort: o.metricsPort } : config.telemetry;
      await runWorker({ ...config, telemetry }, logger);
    });
}
