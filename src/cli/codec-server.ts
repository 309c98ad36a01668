// `tuneflow codec-server`: Temporal's remote codec endpoint, so the Temporal UI can show decrypted payloads.
import type { Command } from 'commander';
import { cliContext, parsePort, UsageError } from './context';

export const DEFAULT_CODEC_SERVER_PORT = 8888;

function originOf(raw: string, previous: string[] = []): string[] {
  let origin: string;
  try {
    origin = new URL(raw).origin;
  } catch {
    throw new UsageError(`--ui-origin must be a URL such as http://127.0.0.1:8233, got ${JSON.stringify(raw)}`);
  }
  return [...previous, origin];
}

export function register(program: Command): void {
  program
    .command('codec-server')
    .description('serve Temporal\'s codec protocol (POST /encode, /decode) with the codec keys, for the Temporal UI and CLI')
    .option('--port <port>', `port to listen on (0 = any free port, default ${DEFAULT_CODEC_SERVER_PORT})`, parsePort())
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option('--ui-origin <url>', 'a browser origin allowed to call it (repeatable; default: the origin of TEMPORAL_UI_URL)', originOf)
    .action(async (o: { port?: number; host: string; uiOrigin?: string[] }) => {
      const { config, logger } = await cliContext();
      if (!config.codec) {
        throw new UsageError('No codec keys: set TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE to the keys the workers use.');
      }
      const { startCodecServer } = await import('../codec/server');
      const allowedOrigins = o.uiOrigin ?? [new URL(config.temporal.uiUrl).origin];
      const server = await startCodecServer({
        keyring: config.codec,
        host: o.host,
        port: o.port ?? DEFAULT_CODEC_SERVER_PORT,
        allowedOrigins,
        token: config.codecServerToken,
        logger,
      });
      // stdout carries only the URL, for scripts to read; the rest is logged on stderr.
      process.stdout.write(`${server.url}\n`);
      logger.info({ url: server.url, allowedOrigins, keyIds: config.codec.ids, token: config.codecServerToken !== undefined }, 'codec server listening');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
