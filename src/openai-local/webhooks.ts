// Webhook delivery as OpenAI does it: Standard Webhooks headers, HMAC-SHA256 signature, retried on failure.
import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Stats } from './stats';
import type { JobFinal, JobRecord } from './types';

/** The fine-tuning events OpenAI sends (`WebhookFineTuningJobSucceeded` etc. in its OpenAPI spec). */
export type FineTuningWebhookType = `fine_tuning.job.${JobFinal['status']}`;

export interface FineTuningWebhookEvent {
  id: string;
  object: 'event';
  /** When the job reached its status (unix seconds, on the backend's simulated clock, as `finished_at`). */
  created_at: number;
  type: FineTuningWebhookType;
  data: { id: string };
}

export interface WebhookTarget {
  url: string;
  /** `whsec_<base64>` as OpenAI's dashboard shows it; any other string is used as UTF-8 bytes, as the SDK does. */
  secret: string;
}

/** One delivery, for /_admin/stats: real (wall-clock) milliseconds, so a bench can line them up with history times. */
export interface DeliveryRecord {
  webhookId: string;
  eventId: string;
  type: FineTuningWebhookType;
  jobId: string;
  /** When the simulated clock reached the job's terminal instant, in real time. */
  finishedAtMs: number;
  /** When the backend first observed the terminal status and sent the first attempt. */
  sentAtMs: number;
  /** When a receiver answered 2xx; null if every attempt failed. */
  deliveredAtMs: number | null;
  attempts: number;
  lastStatus: number | null;
}

/** Real milliseconds before each retry; OpenAI retries for days, a local backend for seconds. */
export const DEFAULT_RETRY_DELAYS_MS = [250, 1000, 4000] as const;
const ATTEMPT_TIMEOUT_MS = 10_000;
const KEPT_RECORDS = 20;

function secretBytes(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function signWebhook(p: { secret: string; webhookId: string; timestamp: number; body: string }): string {
  const mac = createHmac('sha256', secretBytes(p.secret)).update(`${p.webhookId}.${p.timestamp}.${p.body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers for one attempt (timestamp: now, real seconds). */
export function webhookHeaders(p: { secret: string; webhookId: string; body: string; timestamp?: number }): Record<string, string> {
  const timestamp = p.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': p.webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook({ ...p, timestamp }),
  };
}

const hexId = (prefix: string): string => prefix + randomBytes(16).toString('hex');

/**
 * Sends one event per job that reaches a terminal status. Deliveries run in the background (the job
 * service does not wait for them); `drain` waits for those in flight on shutdown.
 */
export class WebhookSender {
  private readonly recent: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();

  constructor(
    private readonly target: WebhookTarget,
    private readonly stats: Stats,
    private readonly log: Logger,
    private readonly retryDelaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
  ) {}

  /** Called once per job, when the backend first records its terminal status. */
  jobFinished(job: JobRecord, final: JobFinal, finishedAtRealMs: number): void {
    const event: FineTuningWebhookEvent = {
      id: hexId('evt_'),
      object: 'event',
      created_at: Math.floor(final.finishedAtMs / 1000),
      type: `fine_tuning.job.${final.status}`,
      data: { id: job.id },
    };
    const record: DeliveryRecord = {
      webhookId: hexId('wh_'),
      eventId: event.id,
      type: event.type,
      jobId: job.id,
      finishedAtMs: finishedAtRealMs,
      sentAtMs: Date.now(),
      deliveredAtMs: null,
      attempts: 0,
      lastStatus: null,
    };
    this.recent.push(record);
    if (this.recent.length > KEPT_RECORDS) this.recent.shift();
    const run = this.deliver(record, JSON.stringify(event)).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async deliver(record: DeliveryRecord, body: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      record.attempts = attempt + 1;
      try {
        const res = await fetch(this.target.url, {
          method: 'POST',
          headers: webhookHeaders({ secret: this.target.secret, webhookId: record.webhookId, body }),
          body,
          signal: AbortSignal.any([AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), this.closing.signal]),
        });
        record.lastStatus = res.status;
        await res.body?.cancel();
        if (res.ok) {
          record.deliveredAtMs = Date.now();
          this.stats.webhooks.delivered += 1;
          this.log.info({ webhookId: record.webhookId, type: record.type, jobId: record.jobId, attempts: record.attempts }, 'webhook delivered');
          return;
        }
      } catch (err) {
        record.lastStatus = null;
        this.log.debug({ err, webhookId: record.webhookId }, 'webhook attempt failed');
      }
      const delay = this.retryDelaysMs[attempt];
      if (delay === undefined || this.closing.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.closing.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.stats.webhooks.failed += 1;
    this.log.warn({ webhookId: record.webhookId, type: record.type, jobId: record.jobId, attempts: record.attempts, status: record.lastStatus }, 'webhook not delivered');
  }

  /** The latest deliveries, oldest first. */
  recentDeliveries(): DeliveryRecord[] {
    return this.recent.map((r) => ({ ...r }));
  }

  /** Stops retrying, aborts the attempts in flight and waits for them to end. */
  async drain(): Promise<void> {
    this.closing.abort();
    await Promise.all([...this.inFlight]);
  }
}
