/**
 * Chaos, measured: drives the real stack (Temporal dev server, the local backend and workers as separate
 * processes on loopback) through worker kills, cancels in every stage, a provider outage during training,
 * a provider slower than the heartbeat timeout and a Temporal server restart, and prints per scenario how
 * many runs held. Not part of `npm test`.
 *
 *   npm run chaos                                  # every scenario, 4 runs each, a 300 s outage
 *   npm run chaos -- --scenario cancel --runs 2
 *   npm run chaos -- --runs 3 --outage-seconds 120 --keep
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeChaosDatasets } from './chaos/datasets';
import { listeningPorts, sleep } from './chaos/processes';
import { SCENARIOS, type Scenario, type ScenarioOptions } from './chaos/scenarios';
import { stageOf } from './chaos/runs';
import { ChaosStack } from './chaos/stack';
import { judgeRun, summarizeProblems } from './chaos/verdicts';

/** Validation and split of this size last a few seconds: long enough to cancel in the middle. */
const LARGE_DATASET_MB = 12;

interface ScenarioReport {
  name: string;
  held: number;
  total: number;
  wallMs: number;
  notes: string[];
}

let activeStack: ChaosStack | null = null;
let interrupted = false;

function usage(): string {
  return [
    'usage: npm run chaos -- [--runs N] [--scenario name] [--outage-seconds S] [--keep]',
    '',
    '  --runs N            runs per scenario (cancel: N per stage), default 4',
    `  --scenario name     only this scenario: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    '  --outage-seconds S  how long the provider is down in provider-outage, default 300',
    '  --keep              keep the working folder (logs of every process, databases, artifacts)',
  ].join('\n');
}

function parseFlags(argv: string[]): { opts: ScenarioOptions; scenarios: Scenario[]; keep: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '4' },
      scenario: { type: 'string' },
      'outage-seconds': { type: 'string', default: '300' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const runs = Number(values.runs);
  const outageSeconds = Number(values['outage-seconds']);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be an integer in 1..50, got '${values.runs}'`);
  if (!Number.isFinite(outageSeconds) || outageSeconds <= 0 || outageSeconds > 3600) throw new Error(`--outage-seconds must be in (0, 3600], got '${values['outage-seconds']}'`);
  const scenarios = values.scenario ? SCENARIOS.filter((s) => s.name === values.scenario) : [...SCENARIOS];
  if (scenarios.length === 0) throw new Error(`unknown --scenario '${values.scenario}'; one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return { opts: { runs, outageSeconds }, scenarios, keep: values.keep };
}

function say(text: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stdout.write(`${t} ${text}\n`);
}

async function runScenario(scenario: Scenario, opts: ScenarioOptions, root: string, datasets: Awaited<ReturnType<typeof writeChaosDatasets>>): Promise<ScenarioReport> {
  const started = Date.now();
  const dir = path.join(root, scenario.name);
  await mkdir(dir, { recursive: true });
  const log = (text: string): void => say(`[${scenario.name}] ${text}`);
  const notes: string[] = [];
  log(`${scenario.what}; starting the stack`);
  const stack = await ChaosStack.start({ name: scenario.name, dir, dataDir: datasets.dir, timeScale: scenario.timeScale, workers: 2, backendFlags: scenario.backendFlags });
  activeStack = stack;
  try {
    const deadlineAt = Date.now() + scenario.deadlineMs(opts);
    const { plans, closed } = await scenario.drive({ stack, datasets, opts, deadlineAt, interrupted: () => interrupted, note: (n) => notes.push(n), log });
    if (interrupted) throw new Error('interrupted');
    for (const p of plans) if (!closed.has(p.id)) p.stageAtDeadline = await stageOf(stack, { handle: stack.client.workflow.getHandle(p.id) }, 3000);
    // Calls in flight when the last run closed land first; then the provider is asked what it holds.
    await sleep(2000);
    await stack.backend.set({ outage: false, latencyMs: 0 });
    const { files, jobs } = await stack.backend.ledger();
    const verdicts = plans.map((p) => judgeRun(p, closed.get(p.id), files, jobs));
    for (const v of verdicts) log(`${v.id}: ${v.held ? 'held' : `NOT HELD (${v.problems.join('; ')})`}${v.completedBeforeCancel ? ' (completed before the cancel landed)' : ''}`);
    const early = verdicts.filter((v) => v.completedBeforeCancel).length;
    if (early > 0) notes.push(`${early} completed before the cancel landed`);
    const problems = summarizeProblems(verdicts);
    if (problems) notes.push(problems);
    const crashed = stack.workers.filter((w) => w.unexpectedExits > 0).map((w) => `${w.name} exited ${w.unexpectedExits}× on its own (restarted)`);
    notes.push(...crashed);
    return { name: scenario.name, held: verdicts.filter((v) => v.held).length, total: verdicts.length, wallMs: Date.now() - started, notes };
  } finally {
    const ports = stack.ports;
    await stack.stop();
    activeStack = null;
    const open = await listeningPorts();
    const left = ports.filter((p) => open.has(p));
    if (left.length > 0) notes.push(`listeners left on ports ${left.join(', ')}`);
    log(`stack stopped${left.length > 0 ? `, but ports ${left.join(', ')} still listen` : ', no listener left'}`);
  }
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

function table(reports: ScenarioReport[]): string {
  const rows = reports.map((r) => [r.name, `${r.held} / ${r.total}`, minutes(r.wallMs), r.notes.join('; ') || '-']);
  const head = ['scenario', 'runs held / N', 'wall time', 'notes'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i] ?? 0))).join(' | ')} |`;
  return [line(head), `|${width.map((w, i) => '-'.repeat(i === width.length - 1 ? 5 : w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { opts, scenarios, keep } = parseFlags(process.argv.slice(2));
  const root = await mkdtemp(path.join(tmpdir(), 'tuneflow-chaos-'));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping every process started`);
    void (activeStack?.stop() ?? Promise.resolve())
      .then(() => (keep ? undefined : rm(root, { recursive: true, force: true })))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  const reports: ScenarioReport[] = [];
  try {
    const datasets = await writeChaosDatasets(path.join(root, 'data'), LARGE_DATASET_MB);
    for (const scenario of scenarios) {
      if (interrupted) break;
      try {
        reports.push(await runScenario(scenario, opts, root, datasets));
      } catch (err) {
        if (interrupted) break;
        reports.push({ name: scenario.name, held: 0, total: 0, wallMs: 0, notes: [`harness error: ${err instanceof Error ? err.message : String(err)}`] });
      }
    }
  } finally {
    if (!keep) await rm(root, { recursive: true, force: true });
  }
  if (interrupted) return;
  console.log(`\nChaos, measured (--runs ${opts.runs}, --outage-seconds ${opts.outageSeconds}); total ${minutes(Date.now() - started)}\n`);
  console.log(table(reports));
  if (keep) console.log(`\nlogs, databases and artifacts kept in ${root}`);
  process.exitCode = reports.every((r) => r.total > 0 && r.held === r.total) ? 0 : 1;
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await activeStack?.stop().catch(() => undefined);
  process.exit(2);
});
