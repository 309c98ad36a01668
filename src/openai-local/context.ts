// What route handlers share: store, clock, services, settings and counters of one backend instance.
import type { Logger } from 'pino';
import type { SimClock } from './clock';
import type { JobService } from './jobs';
import type { FaultInjector, RateLimiter, TokenRateLimiter } from './limits';
import type { ChatService } from './chat';
import type { DeploymentService } from './deployments';
import type { RuntimeSettings } from './settings';
import type { Stats } from './stats';
import type { Store } from './store';
import type { WebhookSender } from './webhooks';

/** The provider APIs the backend can speak. */
export const DIALECTS = ['openai', 'azure', 'together'] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface BackendContext {
  /** Which provider's API the backend speaks. */
  dialect: Dialect;
  store: Store;
  clock: SimClock;
  jobs: JobService;
  chat: ChatService;
  settings: RuntimeSettings;
  stats: Stats;
  limiter: RateLimiter;
  tokenLimiter: TokenRateLimiter;
  faults: FaultInjector;
  log: Logger;
  /** ARM deployments; only the Azure dialect has them. */
  deployments: DeploymentService | null;
  /** Webhook delivery (`--webhook-url`); null when none is configured. */
  webhooks?: WebhookSender | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** OpenAPI operationId of the route, used for stats and to tell /v1 operations apart. */
    operationId?: string;
    /** 'arm': an Azure Resource Manager operation (own auth and error envelope, not counted against rpm). */
    plane?: 'arm';
  }
}
