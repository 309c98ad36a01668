// The five scenarios: each starts its runs on a fresh stack, brings its fault, and waits for the runs to close.
import type { PipelineProgress } from '../../src/domain/pipeline';
import { STAGES, type Stage } from '../../src/domain/stages';
import type { ChaosDatasets } from './datasets';
import { sleep } from './processes';
import { progressOf, startRun, stageOf, waitForClose, type Closed, type Run } from './runs';
import type { ChaosStack } from './stack';
import type { RunPlan } from './verdicts';

export interface ScenarioOptions {
  runs: number;
  outageSeconds: number;
}

export interface ScenarioContext {
  stack: ChaosStack;
  datasets: ChaosDatasets;
  opts: ScenarioOptions;
  deadlineAt: number;
  /** True once Ctrl-C was pressed. */
  interrupted(): boolean;
  /** A line for the scenario's notes in the table. */
  note(text: string): void;
  log(text: string): void;
}

export interface Driven {
  plans: RunPlan[];
  closed: Map<string, Closed>;
}

export interface Scenario {
  name: string;
  what: string;
  /** Simulated seconds per real second at the backend: how long a job trains. */
  timeScale: number;
  backendFlags?: string[];
  /** From the stack being up to giving up on the runs still open. */
  deadlineMs(opts: ScenarioOptions): number;
  drive(ctx: ScenarioContext): Promise<Driven>;
}

const between = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);
const stageIndex = (s: Stage): number => STAGES.indexOf(s);

/** Sleeps `ms`, waking early once `stop()` holds. */
async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop()) await sleep(Math.min(250, until - Date.now()));
}

async function startRuns(ctx: ScenarioContext, ids: string[], dataset: (id: string) => string): Promise<Run[]> {
  const runs = await Promise.all(ids.map((id) => startRun(ctx.stack, id, dataset(id))));
  ctx.log(`${runs.length} runs started`);
  return runs;
}

const idsFor = (scenario: string, n: number): string[] => Array.from({ length: n }, (_, i) => `chaos-${scenario}-${i + 1}`);
const completing = (ids: string[]): RunPlan[] => ids.map((id) => ({ id, expect: 'completed' }));

/** Polls the runs' stages until `done(stages)` or `timeoutMs`; returns the last stages seen. */
async function watchStages(ctx: ScenarioContext, runs: Run[], done: (stages: Array<Stage | null>) => boolean, timeoutMs: number): Promise<Array<Stage | null>> {
  const until = Math.min(Date.now() + timeoutMs, ctx.deadlineAt);
  let stages: Array<Stage | null> = [];
  while (Date.now() < until && !ctx.interrupted()) {
    stages = await Promise.all(runs.map((r) => stageOf(ctx.stack, r)));
    if (done(stages)) break;
    await sleep(1000);
  }
  return stages;
}

const tally = (stages: Array<Stage | null>): string => {
  const counts = new Map<string, number>();
  for (const s of stages) counts.set(s ?? 'unknown', (counts.get(s ?? 'unknown') ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'none';
};

const workerKill: Scenario = {
  name: 'worker-kill',
  what: 'workers SIGKILLed at random moments and restarted',
  timeScale: 20,
  // A provider that takes half a second makes uploads, job creation and evaluation last long enough to be hit.
  backendFlags: ['--latency-ms', '500', '--latency-operations', 'createFile,createFineTuningJob,createChatCompletion'],
  deadlineMs: () => 7 * 60_000,
  async drive(ctx) {
    const ids = idsFor('worker-kill', ctx.opts.runs);
    const runs = await startRuns(ctx, ids, () => ctx.datasets.small);
    let finished = false;
    let kills = 0;
    const stagesAtKills: Stage[] = [];
    const killer = (async () => {
      for (;;) {
        await sleepUnless(between(2_000, 12_000), () => finished || ctx.interrupted());
        if (finished || ctx.interrupted()) return;
        const workers = ctx.stack.workers;
        const victim = workers[Math.floor(Math.random() * workers.length)];
        if (!victim) return;
        const stages = await Promise.all(runs.map((r) => stageOf(ctx.stack, r, 2000)));
        stagesAtKills.push(...stages.filter((s): s is Stage => s !== null && s !== 'done'));
        await victim.kill();
        kills += 1;
        ctx.log(`SIGKILL ${victim.name} (kill ${kills}, runs: ${tally(stages)}), restarted`);
        victim.start();
      }
    })();
    const closed = await waitForClose(runs, ctx.deadlineAt, ctx.interrupted);
    finished = true;
    await killer;
    ctx.note(`${kills} worker SIGKILLs (run stages at the kills: ${tally(stagesAtKills)})`);
    return { plans: completing(ids), closed };
  },
};

/** The stages a cancel is aimed at, and how long after entering one the cancel may come (ms). */
const CANCEL_WINDOW_MS: Partial<Record<Stage, number>> = {
  validating: 1500,
  splitting: 300,
  uploading: 1000,
  creating_job: 1000,
  training: 15_000,
  selecting_checkpoint: 1000,
  evaluating: 8000,
  reporting: 100,
};
const CANCEL_STAGES = Object.keys(CANCEL_WINDOW_MS) as Stage[];
/** Held back by the backend so uploading, creating_job, selecting_checkpoint and evaluating last long enough to hit. */
const CANCEL_LATENCY = { ms: 1500, operations: ['createFile', 'createFineTuningJob', 'listFineTuningJobCheckpoints', 'createChatCompletion'] };

/** Reporting lasts tens of milliseconds: aim at it from the moment the last evaluation batch is done. */
function reached(p: PipelineProgress, target: Stage): boolean {
  if (target === 'reporting' && p.stage === 'evaluating') return p.counts.evalExamplesTotal !== null && p.counts.evalExamplesDone >= p.counts.evalExamplesTotal;
  return stageIndex(p.stage) >= stageIndex(target);
}

/**
 * Waits for the run to reach `target`, then cancels it a random moment later. Records the stage it was
 * in and the backend's simulated clock when the cancel went out.
 */
async function cancelInStage(ctx: ScenarioContext, run: Run, target: Stage, plan: RunPlan): Promise<void> {
  let seen: PipelineProgress | null = null;
  while (Date.now() < ctx.deadlineAt && !ctx.interrupted()) {
    seen = (await progressOf(ctx.stack, run)) ?? seen;
    if (seen && reached(seen, target)) break;
    // Poll fast once the stage before the target is reached: some stages last well under a second.
    await sleep(seen && stageIndex(seen.stage) >= stageIndex(target) - 1 ? 100 : 1000);
  }
  if (!seen || !reached(seen, target)) return;
  // A stage that passed between two looks is missed: the cancel then goes at once, and the verdict knows.
  if (stageIndex(seen.stage) <= stageIndex(target)) await sleep(Math.random() * (CANCEL_WINDOW_MS[target] ?? 0));
  plan.cancelledIn = (await stageOf(ctx.stack, run, 2000)) ?? seen.stage;
  plan.cancelledAtSimSec = await ctx.stack.backend.simulatedNow();
  await run.handle.cancel().catch(() => undefined);
}

const cancel: Scenario = {
  name: 'cancel',
  what: 'runs cancelled at a random moment in every stage',
  timeScale: 10,
  backendFlags: ['--latency-ms', String(CANCEL_LATENCY.ms), '--latency-operations', CANCEL_LATENCY.operations.join(',')],
  deadlineMs: () => 6 * 60_000,
  async drive(ctx) {
    const plans: RunPlan[] = CANCEL_STAGES.flatMap((stage) =>
      Array.from({ length: ctx.opts.runs }, (_, k): RunPlan => ({ id: `chaos-cancel-${stage}-${k + 1}`, expect: 'cancelled', cancelledIn: null })),
    );
    const targetOf = (id: string): Stage => CANCEL_STAGES.find((s) => id.startsWith(`chaos-cancel-${s}-`)) ?? 'validating';
    const runs = await startRuns(ctx, plans.map((p) => p.id), (id) => (['validating', 'splitting'].includes(targetOf(id)) ? ctx.datasets.large : ctx.datasets.small));
    await Promise.all(
      runs.map(async (run, i) => {
        const plan = plans[i];
        if (!plan) return;
        await cancelInStage(ctx, run, targetOf(run.id), plan);
      }),
    );
    const closed = await waitForClose(runs, ctx.deadlineAt, ctx.interrupted);
    // A job created by a create call still in flight when the run closed shows up only after the latency.
    await sleep(CANCEL_LATENCY.ms + 3000);
    const missed = plans.filter((p) => p.cancelledIn !== targetOf(p.id)).map((p) => `${targetOf(p.id)}→${p.cancelledIn ?? 'never seen'}`);
    ctx.note(`cancels in their stage ${plans.length - missed.length}/${plans.length}${missed.length ? ` (missed: ${missed.join(', ')})` : ''}`);
    return { plans, closed };
  },
};

const providerOutage: Scenario = {
  name: 'provider-outage',
  what: 'the provider unreachable for --outage-seconds during training',
  timeScale: 10,
  deadlineMs: (o) => (o.outageSeconds + 7 * 60) * 1000,
  async drive(ctx) {
    const ids = idsFor('provider-outage', ctx.opts.runs);
    const runs = await startRuns(ctx, ids, () => ctx.datasets.small);
    const training = stageIndex('training');
    const stages = await watchStages(ctx, runs, (s) => s.every((x) => x === 'training') || s.some((x) => x !== null && stageIndex(x) > training), 3 * 60_000);
    await ctx.stack.backend.set({ outage: true });
    const began = Date.now();
    ctx.log(`provider down (${tally(stages)})`);
    await sleepUnless(ctx.opts.outageSeconds * 1000, ctx.interrupted);
    await ctx.stack.backend.set({ outage: false });
    const { faults } = await ctx.stack.backend.stats();
    ctx.log(`provider back after ${Math.round((Date.now() - began) / 1000)} s`);
    const closed = await waitForClose(runs, ctx.deadlineAt, ctx.interrupted);
    const failedAfter = [...closed.values()]
      .filter((c) => c.status === 'FAILED' && c.closedAt && c.closedAt.getTime() < began + ctx.opts.outageSeconds * 1000)
      .map((c) => Math.round(((c.closedAt?.getTime() ?? began) - began) / 1000));
    const [first, last] = [Math.min(...failedAfter), Math.max(...failedAfter)];
    const gaveUp = failedAfter.length > 0 ? `; ${failedAfter.length} failed during it, ${first === last ? first : `${first}–${last}`} s in` : '';
    ctx.note(`outage ${ctx.opts.outageSeconds} s began with runs: ${tally(stages)}; ${faults.outageDropped} requests dropped${gaveUp}`);
    return { plans: completing(ids), closed };
  },
};

const SLOW = { ms: 40_000, operations: ['createFile', 'retrieveFineTuningJob'] };

const slowProvider: Scenario = {
  name: 'slow-provider',
  what: `uploads and job polls answered after ${SLOW.ms / 1000} s (heartbeat timeout 30 s)`,
  timeScale: 100,
  backendFlags: ['--latency-ms', String(SLOW.ms), '--latency-operations', SLOW.operations.join(',')],
  deadlineMs: () => 7 * 60_000,
  async drive(ctx) {
    const ids = idsFor('slow-provider', ctx.opts.runs);
    const runs = await startRuns(ctx, ids, () => ctx.datasets.small);
    const closed = await waitForClose(runs, ctx.deadlineAt, ctx.interrupted);
    const { faults } = await ctx.stack.backend.stats();
    await ctx.stack.backend.set({ latencyMs: 0 });
    ctx.note(`${faults.delayed} requests held ${SLOW.ms / 1000} s (${SLOW.operations.join(', ')})`);
    return { plans: completing(ids), closed };
  },
};

const serverRestart: Scenario = {
  name: 'server-restart',
  what: 'the Temporal dev server SIGKILLed and restarted on its database mid-run',
  timeScale: 20,
  deadlineMs: () => 6 * 60_000,
  async drive(ctx) {
    const ids = idsFor('server-restart', ctx.opts.runs);
    const runs = await startRuns(ctx, ids, () => ctx.datasets.small);
    await watchStages(ctx, runs, (s) => s.includes('training'), 2 * 60_000);
    await sleepUnless(between(0, 10_000), ctx.interrupted);
    const stages = await Promise.all(runs.map((r) => stageOf(ctx.stack, r)));
    const downMs = Math.round(between(2000, 6000));
    await ctx.stack.restartTemporal(downMs);
    ctx.log(`dev server SIGKILLed and restarted after ${downMs} ms (runs: ${tally(stages)})`);
    ctx.note(`server down ${(downMs / 1000).toFixed(1)} s with runs: ${tally(stages)}`);
    const closed = await waitForClose(runs, ctx.deadlineAt, ctx.interrupted);
    return { plans: completing(ids), closed };
  },
};

export const SCENARIOS: readonly Scenario[] = [workerKill, cancel, providerOutage, slowProvider, serverRestart];
