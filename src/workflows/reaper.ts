import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ReapEntry } from '../domain/reap';

export interface ReapInput {
  dryRun?: boolean;
}

// A sweep heartbeats after each page and each job; a provider call may take up to its 60 s timeout.
const { reapOrphanedProviderJobs } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '3 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

/** One sweep of `tuneflow reap`, started by the reaper schedule: cancels live jobs of closed runs. */
export async function reapOrphanedJobs(input: ReapInput = {}): Promise<ReapEntry[]> {
  return reapOrphanedProviderJobs({ dryRun: input.dryRun ?? false });
}
