// Counters served by GET /_admin/stats: requests per OpenAPI operationId, injected faults, outage and latency, rate limits, completed creates, deployments, endpoints and webhooks.
import type { FaultKind } from './limits';

export class Stats {
  requests: Record<string, number> = {};
  faults: Record<FaultKind, number> = this.emptyFaults();
  /** /v1 requests whose connection was dropped because of `outage`. */
  outageDropped = 0;
  /** /v1 requests held back by `latencyMs`. */
  delayed = 0;
  rateLimited = 0;
  /** 429s of the token limit (also counted in rateLimited). */
  rateLimitedTokens = 0;
  /** Chat completion tokens the token limit charged, as settled (prompt + completion). */
  tokensCharged = 0;
  unauthorized = 0;
  created = { files: 0, jobs: 0 };
  /** Together dialect: dedicated endpoints existing now, and created/deleted since the last reset. */
  endpoints = { live: 0, created: 0, deleted: 0 };
  /** Azure dialect: deployments created by PUT, deleted by DELETE, removed at the end of their lifetime, refused. */
  deployments = { created: 0, deleted: 0, expired: 0, refused: 0 };
  /** Webhook events a receiver acknowledged with 2xx, and those given up on after every retry. */
  webhooks = { delivered: 0, failed: 0 };

  countRequest(operationId: string): void {
    this.requests[operationId] = (this.requests[operationId] ?? 0) + 1;
  }

  countFault(kind: FaultKind): void {
    this.faults[kind] += 1;
  }

  reset(): void {
    this.requests = {};
    this.faults = this.emptyFaults();
    this.outageDropped = 0;
    this.delayed = 0;
    this.rateLimited = 0;
    this.rateLimitedTokens = 0;
    this.tokensCharged = 0;
    this.unauthorized = 0;
    this.created = { files: 0, jobs: 0 };
    this.endpoints = { live: this.endpoints.live, created: 0, deleted: 0 };
    this.deployments = { created: 0, deleted: 0, expired: 0, refused: 0 };
    this.webhooks = { delivered: 0, failed: 0 };
  }

  snapshot(): Record<string, unknown> {
    const injected = { ...this.faults };
    const total = Object.values(injected).reduce((a, b) => a + b, 0);
    return {
      requests: { ...this.requests },
      faults: { injected, total, outageDropped: this.outageDropped, delayed: this.delayed },
      rateLimited: this.rateLimited,
      rateLimitedTokens: this.rateLimitedTokens,
      tokensCharged: this.tokensCharged,
      unauthorized: this.unauthorized,
      created: { ...this.created },
      endpoints: { ...this.endpoints },
      deployments: { ...this.deployments },
      webhooks: { ...this.webhooks },
    };
  }

  private emptyFaults(): Record<FaultKind, number> {
    return { rate_limit: 0, server_error: 0, unavailable: 0, dropped_connection: 0, slow: 0 };
  }
}
