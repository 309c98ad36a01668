/**
 * What following a fine-tuning job costs (npm run bench:polling): provider calls and history events per
 * job-hour and how late the run notices the job's end, for today's 30 s loop, a 10 s loop, adaptive
 * polling without webhooks and webhooks with a slow polling fallback, on a simulated 2-hour job.
 *
 * Measured, on one local stack (Temporal dev server, workers, the local backend, `tuneflow webhooks`):
 *  - one poll cycle's history events and provider calls, from a real run polling every second;
 *  - how long after a terminal poll the run leaves `training` (history timestamps);
 *  - the webhook path: the backend delivers to the real receiver, which signals a real run; the time from
 *    the job's end (backend) to the run leaving `training` (history), and the events the signal adds.
 * Counted with the pure rule (src/domain/polling.ts): the polls each design makes over the 2-hour timeline.
 *
 *   npm run bench:polling [-- --time-scale 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { LOCAL_SAMPLE_MODEL, localProvider } from '../src/cli/local-provider';
import { startLocalStack } from '../src/cli/local-stack';
import { loadConfig, type AppConfig } from '../src/config';
import type { PipelineInput } from '../src/domain/pipeline';
import { pollDelaySeconds } from '../src/domain/polling';
import { createLogger } from '../src/log';
import { startLocalBackend } from '../src/openai-local';
import type { DeliveryRecord } from '../src/openai-local/webhooks';
import { createProvider } from '../src/provider';
import type { FineTuneProvider } from '../src/provider/types';
import { startPipeline } from '../src/starter';
import { openWorkerConnection } from '../src/temporal/connect';
import { startWebhookReceiver } from '../src/webhooks/receiver';
import { createWorker } from '../src/worker';
import { progressQuery } from '../src/messages';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** The loop run: slow enough that a 1 s poll interval makes a dozen or more polls. */
const LOOP_TIME_SCALE = Number(argValue('--time-scale') ?? 20);
const WEBHOOK_TIME_SCALE = 100;
const SECRET = `whsec_${Buffer.from('bench-polling-webhook-secret-0123456789').toString('base64')}`;
/** How long the webhook run may take to leave `training` once the webhook is acknowledged. */
const WAKE_BOUND_MS = 60_000;

const eventMs = (ev: HistoryEvent): number => Number(ev.eventTime?.seconds ?? 0) * 1000 + Math.round((ev.eventTime?.nanos ?? 0) / 1e6);
const isPoll = (ev: HistoryEvent): boolean => ev.activityTaskScheduledEventAttributes?.activityType?.name === 'pollFineTuningJob';
function stageOf(ev: HistoryEvent): string | null {
  const payload = ev.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TuneflowStage;
  return payload?.data ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as string) : null;
}
/** Index of the upsert that moves the run out of `training`. */
function leftTrainingIndex(events: HistoryEvent[]): number {
  let inTraining = false;
  for (let i = 0; i < events.length; i++) {
    const stage = stageOf(events[i] as HistoryEvent);
    if (stage === 'training') inTraining = true;
    else if (stage !== null && inTraining) return i;
  }
  return -1;
}

async function history(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

async function stats(origin: string): Promise<{ requests: Record<string, number>; webhooks: { delivered: number; failed: number; recent: DeliveryRecord[] } }> {
  return (await (await fetch(`${origin}/_admin/stats`)).json()) as { requests: Record<string, number>; webhooks: { delivered: number; failed: number; recent: DeliveryRecord[] } };
}

async function waitFor<T>(what: string, get: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`  gave up waiting for ${what} after ${timeoutMs / 1000} s\n`);
  return undefined;
}

interface LoopMeasure {
  polls: number;
  eventsPerCycle: number;
  callsPerPoll: number;
  /** Events from a TimerFired to the next poll's scheduling: the tail of a timer-driven wake. */
  timerWakeEvents: number;
  /** From the terminal poll's scheduling to the run leaving `training`. */
  reactionMs: number;
}

interface WebhookMeasure {
  delivery: DeliveryRecord;
  signalled: boolean;
  /** The jobEvent signal's own events (signal, workflow task) until the next poll is scheduled. */
  signalWakeEvents: number | null;
  wokeOnSignal: boolean;
  /** Job end (backend, real time) → the run leaves `training` (history). */
  finishToDetectMs: number | null;
  /** Webhook sent → the run leaves `training`. */
  webhookToDetectMs: number | null;
  signalAtMs: number | null;
  receiverCallsPerWebhook: number;
}

function measureLoop(events: HistoryEvent[], calls: number): LoopMeasure {
  const polls = events.map((e, i) => (isPoll(e) ? i : -1)).filter((i) => i >= 0);
  const first = polls[0] ?? 0;
  const last = polls.at(-1) ?? 0;
  const left = leftTrainingIndex(events);
  const timerFired = events.findIndex((e, i) => i > first && e.timerFiredEventAttributes);
  const nextPoll = polls.find((p) => p > timerFired) ?? timerFired;
  return {
    polls: polls.length,
    eventsPerCycle: polls.length > 1 ? (last - first) / (polls.length - 1) : NaN,
    callsPerPoll: calls / polls.length,
    timerWakeEvents: timerFired >= 0 ? nextPoll - timerFired : NaN,
    reactionMs: left >= 0 ? eventMs(events[left] as HistoryEvent) - eventMs(events[last] as HistoryEvent) : NaN,
  };
}

const home = mkdtempSync(join(tmpdir(), 'tuneflow-bench-polling-'));
const logger = createLogger('error');
const base = loadConfig({ ...process.env, TUNEFLOW_HOME: home, TUNEFLOW_DATA_ROOTS: process.cwd(), TUNEFLOW_STORE: '', TUNEFLOW_WEBHOOKS: '0' });
const model = LOCAL_SAMPLE_MODEL.openai;
const dataset = 'data/sample/support-conversations.jsonl';
const smallEval = { maxExamples: 8, compare: [], batchSize: 8, concurrency: 4, maxTokens: 256 };

process.stderr.write(`starting a dev server, a worker and the local backend (time scale ${LOOP_TIME_SCALE})…\n`);
const stack = await startLocalStack({
  config: base,
  logger,
  worker: true,
  taskQueue: 'bench-polling-loop',
  server: {},
  backend: { port: 0, stateDir: join(home, 'backend-loop'), timeScale: LOOP_TIME_SCALE },
});
const stops: Array<() => Promise<void>> = [];
let loop: LoopMeasure;
let hook: WebhookMeasure | null = null;
try {
  // 1. Today's loop, for real: what one poll cycle costs.
  process.stderr.write('run 1: polling every second until the job ends…\n');
  await fetch(`${stack.backend.origin}/_admin/reset-stats`, { method: 'POST' });
  const run1 = await startPipeline(stack.client, stack.config, { datasetPath: dataset, model, pollIntervalSeconds: 1, eval: smallEval } as PipelineInput);
  await run1.result();
  const s1 = await stats(stack.backend.origin);
  loop = measureLoop(await history(stack.client, run1.workflowId), (s1.requests.retrieveFineTuningJob ?? 0) + (s1.requests.listFineTuningEvents ?? 0));

  // 2. The webhook path, for real: backend → `tuneflow webhooks` → jobEvent → the run.
  process.stderr.write('run 2: an hour-long poll interval, webhooks delivered by the backend to the receiver…\n');
  const ref: { provider?: FineTuneProvider } = {};
  const receiver = await startWebhookReceiver({ port: 0, secret: SECRET, client: stack.client, provider: () => ref.provider as FineTuneProvider, logger });
  stops.push(() => receiver.close());
  const backend2 = await startLocalBackend({ port: 0, stateDir: join(home, 'backend-hooks'), timeScale: WEBHOOK_TIME_SCALE, webhookUrl: receiver.url, webhookSecret: SECRET });
  stops.push(() => backend2.close());
  const config2: AppConfig = {
    ...stack.config,
    temporal: { ...stack.config.temporal, taskQueue: 'bench-polling-webhooks' },
    provider: localProvider('openai', backend2.url).config,
    webhooks: { enabled: true, fallbackSeconds: 600, secret: SECRET },
  };
  ref.provider = createProvider(config2.provider);
  const connection = await openWorkerConnection(config2.temporal);
  stops.push(() => connection.close());
  const worker2 = await createWorker({ config: config2, logger, connection });
  const running2 = worker2.run();
  stops.push(async () => {
    if (worker2.getState() === 'RUNNING') worker2.shutdown();
    await running2;
  });
  const run2 = await startPipeline(stack.client, config2, { datasetPath: dataset, model, pollIntervalSeconds: 3600, eval: smallEval } as PipelineInput);
  const jobId = await waitFor('the job', async () => (await stack.client.workflow.getHandle(run2.workflowId).query(progressQuery)).jobId ?? undefined, 120_000);
  const delivery = await waitFor(
    'the webhook delivery',
    async () => (await stats(backend2.origin)).webhooks.recent.find((d) => d.jobId === jobId && d.deliveredAtMs !== null),
    120_000,
  );
  if (delivery) {
    const left = await waitFor('the run to leave training', async () => {
      const evs = await history(stack.client, run2.workflowId);
      return leftTrainingIndex(evs) >= 0 ? evs : undefined;
    }, WAKE_BOUND_MS);
    const events = left ?? (await history(stack.client, run2.workflowId));
    const signal = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'jobEvent');
    const nextPoll = events.findIndex((e, i) => i > signal && isPoll(e));
    const timerBetween = signal >= 0 && nextPoll > signal && events.slice(signal, nextPoll).some((e) => e.timerFiredEventAttributes);
    const leftIdx = leftTrainingIndex(events);
    const leftAt = leftIdx >= 0 ? eventMs(events[leftIdx] as HistoryEvent) : null;
    const s2 = await stats(backend2.origin);
    const polls2 = events.filter(isPoll).length;
    hook = {
      delivery,
      signalled: signal >= 0,
      signalWakeEvents: signal >= 0 && nextPoll > signal ? nextPoll - signal : null,
      wokeOnSignal: signal >= 0 && nextPoll > signal && !timerBetween,
      finishToDetectMs: leftAt !== null ? leftAt - delivery.finishedAtMs : null,
      webhookToDetectMs: leftAt !== null ? leftAt - delivery.sentAtMs : null,
      signalAtMs: signal >= 0 ? eventMs(events[signal] as HistoryEvent) : null,
      receiverCallsPerWebhook: ((s2.requests.retrieveFineTuningJob ?? 0) - polls2) / Math.max(1, s2.webhooks.delivered),
    };
    if (leftAt === null) await run2.terminate('bench: the run did not react to the webhook').catch(() => undefined);
    else await run2.result().catch(() => undefined);
  } else {
    await run2.terminate('bench: no webhook delivered').catch(() => undefined);
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await stack.stop();
  rmSync(home, { recursive: true, force: true });
}

// 3. The 2-hour job, counted with the rule: validating 5 min, queued 10 min, running until the end with an accurate estimate.
const JOB_SECONDS = 7200;
const HOURS = JOB_SECONDS / 3600;
type Design = { name: string; delay: (status: string, est: number | null, now: number) => number; webhook: boolean; estimateLateBy?: number };
const designs: Design[] = [
  { name: "30 s loop (today's)", delay: () => 30, webhook: false },
  { name: '10 s loop', delay: () => 10, webhook: false },
  { name: 'adaptive, no webhooks (base 30 s)', delay: (status, est, now) => pollDelaySeconds({ status, estimatedFinishSec: est, nowSec: now, baseSeconds: 30, webhooks: false }), webhook: false },
  {
    name: 'adaptive, no webhooks, the job ends 10 min before its estimate',
    delay: (status, est, now) => pollDelaySeconds({ status, estimatedFinishSec: est, nowSec: now, baseSeconds: 30, webhooks: false }),
    webhook: false,
    estimateLateBy: 600,
  },
  { name: 'webhooks + 600 s fallback (base 30 s)', delay: (status, est, now) => pollDelaySeconds({ status, estimatedFinishSec: est, nowSec: now, baseSeconds: 30, webhooks: true, fallbackSeconds: 600 }), webhook: true },
];
const webhookDetectS = hook?.wokeOnSignal && hook.finishToDetectMs !== null ? hook.finishToDetectMs / 1000 : null;
const reactionS = loop.reactionMs / 1000;

/** Polls and detection latency of one design for a job that ends at `end` (s after creation). */
function follow(d: Design, end: number): { polls: number; wakes: number; detectS: number } {
  const status = (t: number): string => (t >= end ? 'succeeded' : t < 300 ? 'validating_files' : t < 900 ? 'queued' : 'running');
  let t = 0;
  let polls = 0;
  for (;;) {
    polls += 1;
    if (status(t) === 'succeeded') return { polls, wakes: 0, detectS: t - end + reactionS };
    const next = t + d.delay(status(t), status(t) === 'running' ? end + (d.estimateLateBy ?? 0) : null, t);
    // The webhook wakes the run as soon as it arrives (measured above), whatever its timer says.
    if (d.webhook && webhookDetectS !== null && next >= end) return { polls: polls + 1, wakes: 1, detectS: webhookDetectS };
    t = next;
  }
}

interface Row {
  name: string;
  pollsPerHour: number;
  callsPerHour: number;
  eventsPerHour: number;
  detectMean: number;
  detectMax: number;
}
const extraWakeEvents = hook?.signalWakeEvents !== null && hook?.signalWakeEvents !== undefined ? hook.signalWakeEvents - loop.timerWakeEvents : 0;
const rows: Row[] = designs.map((d) => {
  // The job's end falls anywhere between two polls: average over 60 offsets of half a second.
  const runs = Array.from({ length: 60 }, (_, k) => follow(d, JOB_SECONDS - k * 0.5));
  const mean = (f: (r: ReturnType<typeof follow>) => number): number => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  const polls = mean((r) => r.polls);
  const wakes = mean((r) => r.wakes);
  return {
    name: d.name,
    pollsPerHour: polls / HOURS,
    callsPerHour: (polls * loop.callsPerPoll + wakes * (hook?.receiverCallsPerWebhook ?? 0)) / HOURS,
    eventsPerHour: (polls * loop.eventsPerCycle + wakes * extraWakeEvents) / HOURS,
    detectMean: mean((r) => r.detectS),
    detectMax: Math.max(...runs.map((r) => r.detectS)),
  };
});

const f1 = (n: number | null | undefined, digits = 1): string => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
console.log('\nMeasured on a real stack (dev server, worker, local backend, `tuneflow webhooks`), one run each:');
console.log(`- one poll cycle: ${f1(loop.eventsPerCycle)} history events and ${f1(loop.callsPerPoll, 2)} provider calls (retrieve + list events), over ${loop.polls} polls of a run polling every 1 s (backend time scale ${LOOP_TIME_SCALE})`);
console.log(`- terminal poll scheduled → run leaves training: ${f1(loop.reactionMs, 0)} ms (history timestamps)`);
if (!hook) {
  console.log('- webhook path: no delivery was recorded; not measured');
} else {
  const d = hook.delivery;
  console.log(
    `- webhook path: job end → webhook sent ${f1(d.sentAtMs - d.finishedAtMs, 0)} ms, → acknowledged ${f1((d.deliveredAtMs ?? NaN) - d.finishedAtMs, 0)} ms, ` +
      `→ jobEvent in history ${f1(hook.signalAtMs !== null ? hook.signalAtMs - d.finishedAtMs : null, 0)} ms, → run leaves training ${f1(hook.finishToDetectMs, 0)} ms`,
  );
  console.log(`  the run ${hook.wokeOnSignal ? 'woke on the signal' : hook.signalled ? `did NOT wake on the signal within ${WAKE_BOUND_MS / 1000} s (the workflow does not wait on jobEvent yet): detection latency not measured` : 'received no signal'}`);
  console.log(`  signal + wake: ${hook.signalWakeEvents ?? '–'} events until the next poll is scheduled (a timer wake: ${f1(loop.timerWakeEvents, 0)}); receiver provider calls per webhook: ${f1(hook.receiverCallsPerWebhook, 1)}`);
}
console.log(`\nA ${HOURS}-hour job (validating 5 min, queued 10 min, running with an accurate estimated_finish unless said), polls counted with the rule, per job-hour:\n`);
console.log('| design | polls | provider calls | history events | detection latency mean / max (s) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const detect = r.name.startsWith('webhooks') && webhookDetectS === null ? 'not measured' : `${f1(r.detectMean)} / ${f1(r.detectMax)}`;
  console.log(`| ${r.name} | ${f1(r.pollsPerHour)} | ${f1(r.callsPerHour)} | ${f1(r.eventsPerHour, 0)} | ${detect} |`);
}
const [today, ten, , , hooks] = rows as [Row, Row, Row, Row, Row];
const verdict = (ok: boolean | null): string => (ok === null ? 'not measured' : ok ? 'met' : 'MISSED');
const callRatio = hooks.callsPerHour / ten.callsPerHour;
const eventRatio = hooks.eventsPerHour / today.eventsPerHour;
const afterWebhookS = hook?.wokeOnSignal && hook.webhookToDetectMs !== null ? hook.webhookToDetectMs / 1000 : null;
console.log('\nTargets (webhooks + fallback):');
console.log(`- provider calls per job-hour vs the 10 s loop: ${f1(callRatio, 3)} (target ≤ 0.100): ${verdict(callRatio <= 0.1)}`);
console.log(`- detection after the webhook is sent: ${afterWebhookS === null ? '–' : `${f1(afterWebhookS, 2)} s`} (target ≤ 2 s): ${verdict(afterWebhookS === null ? null : afterWebhookS <= 2)}`);
console.log(`- history events per job-hour vs today's 30 s loop: ${f1(eventRatio, 3)} (target ≤ 0.100): ${verdict(eventRatio <= 0.1)}`);
