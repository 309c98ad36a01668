import { Context } from '@temporalio/activity';
import type { FineTuneProvider } from '../provider/types';
import type { Logger } from 'pino';
import { reapProviderJobs, type ReapEntry } from '../reaper/reap';

export interface ReaperDeps {
  logger: Logger;
  provider: () => FineTuneProvider;
}

export function createReaperActivities({ logger, provider }: ReaperDeps) {
  return {
    /** One sweep of `tuneflow reap`, for the schedule; Temporal is reached through the worker's own client. */
    async reapOrphanedProviderJobs(req: { dryRun: boolean }): Promise<ReapEntry[]> {
      const ctx = Context.current();
      return reapProviderJobs({ provider: provider(), temporal: ctx.client, logger, onProgress: (p) => ctx.heartbeat(p) }, req);
    },
  };
}
