import type { Command } from 'commander';
import { REAPER_SCHEDULE_ID } from '../domain/reap';
import type { ReapEntry } from '../domain/reap';
import { cliContext, connectClient, UsageError } from './context';

interface ReapOptions {
  dryRun?: boolean;
  json?: boolean;
  schedule?: string;
  deleteSchedule?: boolean;
  scheduleId: string;
}

export function formatReapTable(entries: ReapEntry[]): string {
  if (entries.length === 0) return 'No live fine-tuning jobs tagged by tuneflow.';
  const head = ['job', 'workflow', 'job status', 'workflow status', 'action', 'reason'];
  const rows = entries.map((e) => [e.jobId, e.workflowId, e.jobStatus, e.workflowStatus, e.action, e.reason]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const count = (a: ReapEntry['action']) => entries.filter((e) => e.action === a).length;
  const summary = `${entries.length} live job(s) tagged by tuneflow: ${count('cancelled')} cancelled, ${count('would-cancel')} would be cancelled, ${count('kept')} kept.`;
  return [line(head), ...rows.map(line), '', summary].join('\n');
}

export function register(program: Command): void {
  program
    .command('reap')
    .description('cancel live provider jobs tagged by tuneflow whose workflow is closed (e.g. terminated runs)')
    .option('--dry-run', 'only report what would be cancelled (with --schedule: every scheduled sweep only reports)')
    .option('--json', 'print the findings as JSON')
    .option('--schedule <cron>', 'create (or update) a Temporal schedule that reaps on this cron, instead of reaping now')
    .option('--delete-schedule', 'delete the reaper schedule')
    .option('--schedule-id <id>', 'id of the reaper schedule', REAPER_SCHEDULE_ID)
    .action(async (o: ReapOptions) => {
      if (o.schedule !== undefined && o.deleteSchedule) throw new UsageError('--schedule and --delete-schedule cannot be used together');
      const { config, logger } = await cliContext();
      const client = await connectClient(config);
      if (o.deleteSchedule) {
        const { deleteReapSchedule } = await import('./reap-schedule');
        const deleted = await deleteReapSchedule(client, o.scheduleId);
        console.log(deleted ? `Deleted schedule ${o.scheduleId}.` : `No schedule ${o.scheduleId}; nothing to delete.`);
        return;
      }
      if (o.schedule !== undefined) {
        const { upsertReapSchedule } = await import('./reap-schedule');
        const req = { scheduleId: o.scheduleId, cron: o.schedule, taskQueue: config.temporal.taskQueue, dryRun: o.dryRun ?? false };
        // The Temporal client turns the server's "Invalid schedule spec" into a TypeError.
        const outcome = await upsertReapSchedule(client, req).catch((err: unknown) => {
          throw err instanceof TypeError ? new UsageError(`--schedule ${JSON.stringify(o.schedule)} is not a cron expression Temporal accepts: ${err.message}`) : err;
        });
        const next = (await client.schedule.getHandle(o.scheduleId).describe()).info.nextActionTimes[0];
        if (o.json) console.log(JSON.stringify({ ...req, outcome, nextRun: next?.toISOString() ?? null }));
        else console.log(`Schedule ${o.scheduleId} ${outcome}: reaps on '${o.schedule}' via task queue ${req.taskQueue}${req.dryRun ? ' (dry run)' : ''}; next run ${next?.toISOString() ?? 'not planned'}.`);
        return;
      }
      const [{ createProvider }, { reapProviderJobs }] = await Promise.all([import('../provider'), import('../reaper/reap')]);
      const provider = createProvider(config.provider);
      const entries = await reapProviderJobs({ provider, temporal: client, logger }, { dryRun: o.dryRun ?? false });
      console.log(o.json ? JSON.stringify(entries, null, 2) : formatReapTable(entries));
    });
}
