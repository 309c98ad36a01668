// `tuneflow webhooks`: receives OpenAI's fine-tuning webhooks, verifies them with the openai SDK and wakes the runs they are about.
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { FineTuneProvider } from '../provider/types';
import { JOB_END_EVENTS, wakeRunOfJob } from './wake-run';

export interface WebhookReceiverOptions {
  host?: string;
  /** 0: any free port. */
  port: number;
  /** The endpoint's signing secret (`whsec_…`, OPENAI_WEBHOOK_SECRET). */
  secret: string;
  /** Signals the runs. */
  client: Client;
  /** Reads a job's metadata; its SDK client verifies the signatures. */
  provider: () => FineTuneProvider;
  logger: Logger;
  /** Seconds a signature's timestamp may be old (or ahead); default the SDK's, 300. */
  toleranceSeconds?: number;
}

export interface WebhookReceiver {
  /** Where the provider must POST: `http://host:port/webhooks`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const WEBHOOK_PATH = '/webhooks';
/** OpenAI's events are a few hundred bytes; nothing bigger is read. */
const BODY_LIMIT = 64 * 1024;

function headersOf(request: FastifyRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return headers;
}

/**
 * Answers within one provider call and one signal: a forged, stale or unsigned request is refused (400)
 * before anything is asked; an event about a job or run that is not (or no longer) there is acknowledged
 * (200) so the provider stops sending it; only when the provider or Temporal cannot be reached does it
 * answer 503, so the provider retries (the run's fallback poll finds the job's end meanwhile anyway).
 */
export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  if (!opts.secret) throw new Error('startWebhookReceiver: a signing secret is required (OPENAI_WEBHOOK_SECRET)');
  const log = opts.logger.child({ component: 'webhooks' });
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: BODY_LIMIT });
  // The signature covers the exact bytes sent: keep the body as text, parse only once verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/healthz', async () => ({ ok: true }));

  app.post(WEBHOOK_PATH, async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    const webhookId = request.headers['webhook-id'];
    let event: { type: string; data?: { id?: unknown } };
    try {
      event = (await opts.provider().chat().webhooks.unwrap(raw, headersOf(request), opts.secret, opts.toleranceSeconds)) as typeof event;
    } catch (err) {
      log.warn({ webhookId, reason: err instanceof Error ? err.message : String(err) }, 'webhook refused');
      return reply.status(400).send({ error: 'invalid webhook: signature, timestamp or headers do not verify' });
    }
    const id = typeof webhookId === 'string' ? webhookId : null;
    if (!JOB_END_EVENTS.has(event.type)) {
      log.debug({ webhookId: id, type: event.type }, 'webhook ignored: not the end of a fine-tuning job');
      return { ok: true, ignored: 'event_type' };
    }
    const jobId = event.data?.id;
    if (typeof jobId !== 'string' || jobId === '') {
      log.warn({ webhookId: id, type: event.type }, 'webhook ignored: no job id in data.id');
      return { ok: true, ignored: 'no_job_id' };
    }
    const outcome = await wakeRunOfJob(opts, { jobId, type: event.type, webhookId: id });
    const fields = { webhookId: id, type: event.type, jobId, ...outcome };
    switch (outcome.kind) {
      case 'signalled':
        log.info(fields, 'run signalled');
        return { ok: true, workflowId: outcome.workflowId };
      case 'ignored':
        log.info(fields, 'webhook acknowledged, no run to wake');
        return { ok: true, ignored: outcome.reason };
      case 'retry_later':
        log.warn(fields, 'could not wake the run now; the provider will retry');
        return reply.status(503).send({ error: 'try again later' });
    }
  });

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port });
  const port = (app.server.address() as AddressInfo).port;
  const host = opts.host === undefined || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}${WEBHOOK_PATH}`,
    port,
    close: async () => {
      await app.close();
    },
  };
}
