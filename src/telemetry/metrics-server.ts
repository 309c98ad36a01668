import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { TuneflowMetrics } from './metrics';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** A free TCP port on loopback, for the Temporal runtime's own exporter (it cannot report a port it picked). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The Temporal runtime's exposition, or a comment saying why it is missing (the project's series are served regardless). */
async function runtimeExposition(url: string | undefined, logger: Logger): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.text();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    logger.warn({ url, err: reason }, 'Temporal runtime metrics unavailable');
    return `# Temporal runtime metrics unavailable: ${reason.replace(/\s+/g, ' ')}\n`;
  }
}

/**
 * Serves GET /metrics: the project's series (prom-client) followed by the Temporal runtime's, which the
 * SDK's Rust core exports only from its own HTTP listener, fetched from it on each scrape. The two sets
 * never share a name (`tuneflow_` and `temporal_` prefixes), so one exposition holds both.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  metrics: TuneflowMetrics;
  /** The runtime's exporter, e.g. http://127.0.0.1:PORT/metrics. */
  runtimeMetricsUrl?: string | undefined;
  logger: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are served at GET /metrics\n');
      return;
    }
    void Promise.all([opts.metrics.expose(), runtimeExposition(opts.runtimeMetricsUrl, opts.logger)]).then(
      ([own, runtime]) => {
        res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(`${own}\n${runtime}`);
      },
      (err: unknown) => {
        opts.logger.error({ err }, 'rendering metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
