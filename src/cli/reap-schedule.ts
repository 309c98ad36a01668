import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction } from '@temporalio/client';
import { reapOrphanedJobs } from '../workflows/reaper';

export { REAPER_SCHEDULE_ID } from '../domain/reap';

export interface ReapScheduleRequest {
  scheduleId: string;
  cron: string;
  taskQueue: string;
  dryRun: boolean;
}

/** Creates the reaper schedule, or points an existing one at the new cron; sweeps never overlap. */
export async function upsertReapSchedule(client: Client, req: ReapScheduleRequest): Promise<'created' | 'updated'> {
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: reapOrphanedJobs,
    args: [{ dryRun: req.dryRun }],
    taskQueue: req.taskQueue,
    workflowId: req.scheduleId,
  };
  const spec = { cronExpressions: [req.cron] };
  try {
    await client.schedule.create({ scheduleId: req.scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(req.scheduleId).update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
  return 'updated';
}

/** Deletes the reaper schedule; false when there was none. */
export async function deleteReapSchedule(client: Client, scheduleId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
