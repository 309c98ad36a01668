// `tuneflow webhooks`: the endpoint OpenAI's fine-tuning webhooks go to; each verified one wakes its run.
import type { Command } from 'commander';
import { cliContext, connectClient, parsePort, UsageError } from './context';

export const DEFAULT_WEBHOOK_PORT = 8790;
/** A webhook is answered within one provider call: a hung provider must not hold the answer past OpenAI's patience. */
const PROVIDER_TIMEOUT_MS = 10_000;

export function register(program: Command): void {
  program
    .command('webhooks')
    .description('receive OpenAI fine-tuning webhooks (POST /webhooks), verify their signatures (OPENAI_WEBHOOK_SECRET) and signal the runs they are about')
    .option('--port <port>', `port to listen on (0 = any free port, default ${DEFAULT_WEBHOOK_PORT})`, parsePort())
    .option('--host <ip>', 'address to listen on (put a TLS reverse proxy or tunnel in front for OpenAI to reach it)', '127.0.0.1')
    .action(async (o: { port?: number; host: string }) => {
      const { config, logger } = await cliContext();
      const secret = config.webhooks?.secret;
      if (!secret) throw new UsageError("OPENAI_WEBHOOK_SECRET is not set: set it to the endpoint's signing secret (whsec_…) from OpenAI's dashboard.");
      if (config.provider.kind !== 'openai') throw new UsageError(`webhooks are OpenAI's: TUNEFLOW_PROVIDER=${config.provider.kind} sends none.`);
      if (!config.provider.apiKey) throw new UsageError("OPENAI_API_KEY is not set: the receiver reads each job's metadata to find its run.");
      const [{ createProvider }, { startWebhookReceiver }] = await Promise.all([import('../provider'), import('../webhooks/receiver')]);
      const client = await connectClient(config);
      const provider = createProvider(config.provider, { timeoutMs: PROVIDER_TIMEOUT_MS });
      const receiver = await startWebhookReceiver({ host: o.host, port: o.port ?? DEFAULT_WEBHOOK_PORT, secret, client, provider: () => provider, logger });
      // stdout carries only the URL, for scripts to read; the rest is logged on stderr.
      process.stdout.write(`${receiver.url}\n`);
      logger.info({ url: receiver.url, namespace: config.temporal.namespace }, 'webhook receiver listening');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await receiver.close();
      await client.connection.close();
    });
}
