import { Option, type Command } from 'commander';
import type { ScheduledRun, ScheduleDetail, ScheduleView } from '../schedules';
import { cliConfig, connectClient, UsageError } from './context';
import { addRunInputOptions, runInputFromOptions, type RunInputOptions } from './run';

const OVERLAP_WORDS = ['skip', 'buffer-one', 'buffer-all', 'allow-all', 'cancel-other', 'terminate-other'] as const;
type OverlapFlag = (typeof OVERLAP_WORDS)[number];

interface CreateOptions extends RunInputOptions {
  dataset: string;
  cron: string;
  timezone?: string;
  jitter?: string;
  catchupWindow?: string;
  overlap: OverlapFlag;
  paused?: boolean;
  note?: string;
  json?: boolean;
}

/** The schedule module, with its refusals turned into usage errors (printed without a stack, exit 2). */
async function schedules() {
  return import('../schedules');
}

async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  const s = await schedules();
  try {
    return await work();
  } catch (err) {
    if (err instanceof s.InvalidScheduleRequestError || err instanceof s.NoSuchScheduleError || err instanceof s.ScheduleExistsError) throw new UsageError(err.message);
    throw err;
  }
}

async function durationMs(flag: string, raw: string): Promise<number> {
  const { parseDuration, InvalidDurationError } = await import('../domain/durations');
  try {
    return parseDuration(flag, raw);
  } catch (err) {
    throw err instanceof InvalidDurationError ? new UsageError(err.message) : err;
  }
}

function isoTime(flag: string, raw: string): Date {
  const at = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at.getTime())) throw new UsageError(`${flag} ${JSON.stringify(raw)} is not an ISO 8601 time, e.g. 2026-03-01T02:00:00Z`);
  return at;
}

async function connect() {
  const config = await cliConfig();
  return { config, client: await connectClient(config) };
}

function runText(run: ScheduledRun | null): string {
  return run ? `${run.workflowId} (${run.status ?? 'unknown'})` : '-';
}

export function formatScheduleTable(views: ScheduleView[]): string {
  if (views.length === 0) return 'No tuneflow schedules. Create one with `tuneflow schedule create <name> --dataset <file> --model <model> --cron <expr>`.';
  const head = ['name', 'cron', 'time zone', 'paused', 'next run', 'last run'];
  const rows = views.map((v) => [v.name, v.cron ?? '(calendar)', v.timezone, v.paused ? 'yes' : 'no', v.paused ? '-' : (v.nextRun ?? '-'), runText(v.lastRun)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export function formatScheduleDetail(d: ScheduleDetail): string {
  const lines = [
    `Schedule ${d.name} (${d.scheduleId})${d.paused ? ': PAUSED' : ''}`,
    `  cron:          ${d.cron ?? '(calendar)'} in ${d.timezone}${d.jitterSeconds ? `, jitter up to ${d.jitterSeconds} s` : ''}`,
    `  runs:          fineTunePipeline on task queue ${d.taskQueue} as ${d.workflowIdPrefix}-<scheduled time>`,
    `  trains:        ${d.model ?? '?'} on ${d.dataset ?? '(encrypted)'}${d.line ? `, line ${d.line}` : ''}`,
    `  overlap:       ${d.overlap}; catch-up window ${d.catchupWindowSeconds} s${d.pauseOnFailure ? '; pauses on failure' : ''}`,
    `  note:          ${d.note ?? '-'}`,
    `  actions:       ${d.actionsTaken} taken, ${d.skippedForOverlap} skipped for overlap, ${d.missedCatchupWindow} missed the catch-up window`,
    `  running:       ${d.runningWorkflowIds.length ? d.runningWorkflowIds.join(', ') : '-'}`,
    `  next runs:     ${d.paused ? '(paused)' : d.nextRuns.slice(0, 5).join(', ') || '-'}`,
    '  recent runs:',
    ...(d.recentRuns.length ? [...d.recentRuns].reverse().map((r) => `    ${r.scheduledAt}  ${r.workflowId}  ${r.status ?? 'unknown'}`) : ['    -']),
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  const schedule = program.command('schedule').description('retrain on a cron: Temporal schedules that start pipeline runs');

  addRunInputOptions(
    schedule
      .command('create')
      .description('create a schedule that starts a run of the pipeline on a cron')
      .argument('<name>', "the schedule's name; its runs' workflow ids are <name>-<scheduled time>")
      .requiredOption('--dataset <file>', 'chat JSONL dataset: a path the worker can read, or an s3:// URI')
      .requiredOption('--cron <expr>', "when to run, e.g. '0 2 * * *' (02:00 every day)")
      .option('--timezone <tz>', 'IANA time zone the cron is read in (default UTC)')
      .option('--jitter <duration>', 'start each run up to this much later, at random, e.g. 5m')
      .option('--catchup-window <duration>', 'a run that could not start within this of its time (server down) is skipped (default 10m)')
      .addOption(new Option('--overlap <policy>', 'when a run is still going at the next time').choices(OVERLAP_WORDS).default('skip'))
      .option('--paused', 'create it paused')
      .option('--note <text>', "the schedule's note (shown by describe and in the UI)")
      .option('--json', 'print the created schedule as JSON'),
  ).action(async (name: string, o: CreateOptions) => {
    const s = await schedules();
    await asUsage(async () => s.scheduleIdOf(name));
    const jitterMs = o.jitter !== undefined ? await durationMs('--jitter', o.jitter) : undefined;
    const catchupWindowMs = o.catchupWindow !== undefined ? await durationMs('--catchup-window', o.catchupWindow) : undefined;
    const { datasetReference } = await import('../starter');
    const { resolved } = await runInputFromOptions(datasetReference(o.dataset), o, '--dataset');
    const { config, client } = await connect();
    const req = { name, cron: o.cron, timezone: o.timezone, jitterMs, catchupWindowMs, overlap: o.overlap, paused: o.paused, note: o.note, input: resolved };
    // Everything checkable here is checked before the server is asked: a bad option leaves no schedule behind.
    await asUsage(async () => s.scheduleOptions(req, config));
    const created = await asUsage(() => s.createSchedule(client, config, req));
    if (o.json) return console.log(JSON.stringify(created, null, 2));
    console.log(
      `Created schedule ${name} (${created.scheduleId}): '${o.cron}' in ${created.timezone}, overlap ${created.overlap}, catch-up window ${created.catchupWindowSeconds} s${created.paused ? ', paused' : ''}\n` +
        `  next run: ${created.paused ? '(paused)' : (created.nextRun ?? 'not planned')}\n` +
        `  see:      tuneflow schedule describe ${name}`,
    );
  });

  schedule
    .command('list')
    .description("tuneflow's schedules: cron, paused, next run, last run and its status")
    .option('--json', 'print them as JSON')
    .action(async (o: { json?: boolean }) => {
      const s = await schedules();
      const { client } = await connect();
      const views = await s.listSchedules(client);
      console.log(o.json ? JSON.stringify(views, null, 2) : formatScheduleTable(views));
    });

  schedule
    .command('describe')
    .description("a schedule's spec, policies, recent runs (with workflow ids and status) and next times")
    .argument('<name>')
    .option('--json', 'print it as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const s = await schedules();
      const { client } = await connect();
      const d = await asUsage(() => s.describeSchedule(client, name));
      console.log(o.json ? JSON.stringify(d, null, 2) : formatScheduleDetail(d));
    });

  schedule
    .command('pause')
    .description('stop a schedule from starting runs (runs in flight go on)')
    .argument('<name>')
    .option('--note <text>', 'why (shown by describe and in the UI)')
    .action(async (name: string, o: { note?: string }) => {
      const s = await schedules();
      const { client } = await connect();
      await asUsage(() => s.pauseSchedule(client, name, o.note));
      console.log(`Paused schedule ${name}.`);
    });

  schedule
    .command('unpause')
    .description('let a paused schedule start runs again')
    .argument('<name>')
    .option('--note <text>', 'why (shown by describe and in the UI)')
    .action(async (name: string, o: { note?: string }) => {
      const s = await schedules();
      const { client } = await connect();
      await asUsage(() => s.unpauseSchedule(client, name, o.note));
      const d = await asUsage(() => s.describeSchedule(client, name));
      console.log(`Unpaused schedule ${name}; next run ${d.nextRun ?? 'not planned'}.`);
    });

  schedule
    .command('trigger')
    .description("start the schedule's run now, under its overlap policy")
    .argument('<name>')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const s = await schedules();
      const { client } = await connect();
      const outcome = await asUsage(() => s.triggerSchedule(client, name));
      if (o.json) return console.log(JSON.stringify(outcome));
      if (outcome.outcome === 'started') console.log(`Triggered ${name}: started ${outcome.workflowId}\n  follow: tuneflow status ${outcome.workflowId} --watch`);
      else if (outcome.outcome === 'skipped') console.log(`Triggered ${name}, but overlap ${outcome.overlap} skipped it: ${outcome.runningWorkflowIds.join(', ') || 'a run'} is still running.`);
      else if (outcome.outcome === 'buffered') console.log(`Triggered ${name}: overlap ${outcome.overlap} starts it when ${outcome.runningWorkflowIds.join(', ') || 'the running run'} ends.`);
      else console.log(`Triggered ${name} (overlap ${outcome.overlap}); no run started yet: see \`tuneflow schedule describe ${name}\`.`);
    });

  schedule
    .command('backfill')
    .description('take the runs the schedule would have started between two times')
    .argument('<name>')
    .requiredOption('--start <time>', 'ISO 8601 time, e.g. 2026-03-01T00:00:00Z')
    .requiredOption('--end <time>', 'ISO 8601 time')
    .addOption(new Option('--overlap <policy>', "overlap policy for the backfilled runs (default: the schedule's)").choices(OVERLAP_WORDS))
    .action(async (name: string, o: { start: string; end: string; overlap?: OverlapFlag }) => {
      const start = isoTime('--start', o.start);
      const end = isoTime('--end', o.end);
      const s = await schedules();
      const { client } = await connect();
      const { overlap } = await asUsage(() => s.backfillSchedule(client, name, { start, end, overlap: o.overlap }));
      console.log(`Backfilling ${name} from ${start.toISOString()} to ${end.toISOString()} (overlap ${overlap}); see \`tuneflow schedule describe ${name}\`.`);
    });

  schedule
    .command('delete')
    .description('delete a schedule (runs it started go on)')
    .argument('<name>')
    .action(async (name: string) => {
      const s = await schedules();
      const { client } = await connect();
      await asUsage(() => s.deleteSchedule(client, name));
      console.log(`Deleted schedule ${name}.`);
    });
}
