/**
 * The production-shaped deployment, rehearsed without Docker: reads docker-compose.yml and runs each of its
 * services from parts built or installed here (PostgreSQL from Debian's packages, the Temporal server and its
 * SQL tool built from go.temporal.io/server, tuneflow from this checkout), each on its own loopback address;
 * the provider is the local backend. Runs N pipelines at once to the end with 1 worker, then with 3, and
 * prints runs per minute and how many runs held. Leaves no process behind. Not part of `npm test`.
 *
 *   npm run rehearse                       # 30 runs with 1 worker, then 30 with 3
 *   npm run rehearse -- --runs 4 --workers 1,2
 *   npm run rehearse -- --which-server     # which go.temporal.io/server release this machine can build
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Connection, type ConnectionLike } from '@temporalio/client';
import { loadConfig, storageSettings } from '../src/config';
import { createS3Client } from '../src/store';
import { uploadFileToS3 } from '../src/store/s3';
import { freePort } from '../src/temporal/dev-server';
import { startPipeline } from '../src/starter';
import { connectClient } from '../src/temporal/connect';
import { REPO_ROOT, sleep, TuneflowProcess } from './chaos/processes';
import { chaosInput, waitForClose, type Run } from './chaos/runs';
import { BackendProcess, LOCAL_API_KEY } from './chaos/stack';
import { judgeRun, summarizeProblems } from './chaos/verdicts';
import { findLocalTools } from './rehearse/parts';
import { serverReleaseEvidence, TEMPORAL_SERVER_VERSION } from './rehearse/temporal-server';
import { listenersOn, Topology } from './rehearse/topology';

const WORKER_SERVICE = 'worker';
const CODEC_SERVICE = 'codec-server';

interface Phase {
  workers: number;
  runs: number;
  held: number;
  wallMs: number;
  jobsCreated: number;
  filesCreated: number;
  notes: string[];
}

function say(text: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

function usage(): string {
  return [
    'usage: npm run rehearse -- [--runs N] [--workers 1,3] [--time-scale X] [--keep] [--which-server]',
    '',
    '  --runs N          pipelines started at once in each phase, default 30',
    '  --workers list    worker replicas per phase (docker compose --scale worker=N), default 1,3',
    '  --time-scale X    simulated seconds per real second at the local backend, default 100',
    '  --keep            keep the working folder (logs, databases, containers\' files)',
    '  --which-server    print the go.temporal.io/server releases and which this machine can build, then exit',
  ].join('\n');
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

async function whichServer(): Promise<void> {
  const { localGo, proxy, result } = await serverReleaseEvidence();
  console.log(`go.temporal.io/server releases on ${proxy}, judged for ${localGo} (GOTOOLCHAIN=local):`);
  for (const v of result.verdicts) console.log(`  ${v.version.padEnd(9)} go ${(v.go ?? '-').padEnd(8)} replace: ${v.replaces} exclude: ${v.excludes}  ${v.installable ? 'installable' : `not installable (${v.why})`}`);
  console.log(`newest installable: ${result.version ?? 'none'}; pinned: ${TEMPORAL_SERVER_VERSION}`);
  process.exitCode = result.version === TEMPORAL_SERVER_VERSION ? 0 : 1;
}

async function providerCounts(backend: BackendProcess): Promise<{ files: number; jobs: number }> {
  const stats = (await (await fetch(backend.url.replace(/\/v1$/, '/_admin/stats'))).json()) as { created: { files: number; jobs: number } };
  return stats.created;
}

async function runPhase(topology: Topology, backend: BackendProcess, workers: number, runs: number, datasetPath: string): Promise<Phase> {
  say(`phase: ${workers} worker(s), ${runs} runs`);
  await topology.scale(WORKER_SERVICE, workers);
  await topology.waitForLog(WORKER_SERVICE, 'worker started', 180_000);
  // The harness starts runs as any other machine would: with the workers' Temporal settings and codec keys.
  const config = loadConfig(topology.environmentOf(WORKER_SERVICE));
  const client = await connectClient(config.temporal, { codec: config.codec });
  const notes: string[] = [];
  try {
    const before = await providerCounts(backend);
    const tag = randomBytes(3).toString('hex');
    const started = Date.now();
    const list: Run[] = await Promise.all(
      Array.from({ length: runs }, async (_, i) => {
        const id = `rehearse-${workers}w-${tag}-${String(i + 1).padStart(2, '0')}`;
        const handle = await startPipeline(client, config, chaosInput(datasetPath), { workflowId: id });
        return { id, handle };
      }),
    );
    const closed = await waitForClose(list, started + 30 * 60_000);
    const wallMs = Math.max(...[...closed.values()].map((c) => c.closedAt?.getTime() ?? Date.now())) - started;
    // Calls in flight when the last run closed land first; then the provider is asked what it holds.
    await sleep(2000);
    const after = await providerCounts(backend);
    const { files, jobs } = await backend.ledger();
    const verdicts = list.map((r) => judgeRun({ id: r.id, expect: 'completed' }, closed.get(r.id), files, jobs));
    const problems = summarizeProblems(verdicts);
    if (problems) notes.push(problems);
    notes.push(...topology.unexpectedExits);
    if (workers > 1) {
      const spread = await Promise.all(list.map((r) => runWorkers(client.connection, config.temporal.namespace, r.id)));
      notes.push(`${spread.filter((n) => n > 1).length}/${runs} runs ran on more than one worker`);
    }
    const first = list[0];
    if (first) notes.push(await codecCheck(topology, config.temporal.address, config.temporal.namespace, first.id));
    return { workers, runs, held: verdicts.filter((v) => v.held).length, wallMs, jobsCreated: after.jobs - before.jobs, filesCreated: after.files - before.files, notes };
  } finally {
    await client.connection.close();
    await topology.scale(WORKER_SERVICE, 0);
  }
}

/** How many workers (by identity) ran the run's workflow tasks and activities, its child workflows' included. */
async function runWorkers(connection: ConnectionLike, namespace: string, workflowId: string): Promise<number> {
  const identities = new Set<string>();
  const pending = [workflowId];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId: id }, nextPageToken });
      for (const e of page.history?.events ?? []) {
        const identity = e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
        const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
        if (child) pending.push(child);
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
  return identities.size;
}

/** Puts the dataset in the store's bucket, as an upstream job would: workers on many machines read it from there. */
async function uploadDataset(topology: Topology, file: string): Promise<string> {
  const worker = topology.project.services.get(WORKER_SERVICE);
  if (!worker) throw new Error(`docker-compose.yml has no '${WORKER_SERVICE}' service`);
  const config = loadConfig(topology.plan(worker, 1, topology.addresses.get(WORKER_SERVICE) ?? '').program.env);
  if (config.store?.kind !== 's3') throw new Error(`services.${WORKER_SERVICE}: TUNEFLOW_STORE is not an s3:// bucket`);
  const client = createS3Client(storageSettings(config).s3);
  try {
    await uploadFileToS3(client, config.store.bucket, 'datasets/support.jsonl', file);
  } finally {
    client.destroy();
  }
  return `s3://${config.store.bucket}/datasets/support.jsonl`;
}

/** The run's input as the server stores it (ciphertext), and what the codec server makes of it. */
async function codecCheck(topology: Topology, address: string, namespace: string, workflowId: string): Promise<string> {
  const command = topology.project.services.get(CODEC_SERVICE)?.command ?? [];
  const port = command.includes('--port') ? command[command.indexOf('--port') + 1] : '8888';
  const connection = await Connection.connect({ address });
  try {
    const history = await connection.workflowService.getWorkflowExecutionHistory({ namespace, execution: { workflowId }, maximumPageSize: 1 });
    const input = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const encoding = (p: { metadata?: Record<string, Uint8Array> | null }): string => Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString();
    const stored = input.map(encoding);
    const res = await fetch(`http://${topology.addresses.get(CODEC_SERVICE) ?? ''}:${port}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': namespace },
      body: JSON.stringify({ payloads: input.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') })) }),
    });
    const decoded = ((await res.json()) as { payloads?: Array<{ metadata?: Record<string, string> }> }).payloads ?? [];
    const plain = decoded.map((p) => Buffer.from(p.metadata?.encoding ?? '', 'base64').toString());
    return `input stored as ${stored.join(', ') || 'nothing'}; codec-server decodes it to ${plain.join(', ') || `nothing (HTTP ${res.status})`}`;
  } finally {
    await connection.close();
  }
}

function table(phases: Phase[]): string {
  const head = ['workers', 'runs held / N', 'wall time', 'runs / min', 'provider: jobs, files created', 'notes'];
  const rows = phases.map((p) => [
    String(p.workers),
    `${p.held} / ${p.runs}`,
    minutes(p.wallMs),
    ((p.runs * 60_000) / p.wallMs).toFixed(1),
    `${p.jobsCreated}, ${p.filesCreated}`,
    p.notes.join('; ') || '-',
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i] ?? 0))).join(' | ')} |`;
  return [line(head), `|${width.map((w, i) => '-'.repeat(i === width.length - 1 ? 5 : w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '30' },
      workers: { type: 'string', default: '1,3' },
      'time-scale': { type: 'string', default: '100' },
      keep: { type: 'boolean', default: false },
      'which-server': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(usage());
  if (values['which-server']) return whichServer();
  const runs = Number(values.runs);
  const workerCounts = values.workers.split(',').map(Number);
  const timeScale = Number(values['time-scale']);
  if (!Number.isInteger(runs) || runs < 1 || runs > 200) throw new Error(`--runs must be an integer in 1..200, got '${values.runs}'`);
  if (workerCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 20)) throw new Error(`--workers must list integers in 1..20, got '${values.workers}'`);
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new Error(`--time-scale must be a positive number, got '${values['time-scale']}'`);

  const started = Date.now();
  const tools = await findLocalTools(say);
  const { server } = tools;
  say(`Temporal server ${TEMPORAL_SERVER_VERSION} (${server.source}${server.buildSeconds ? `, built in ${server.buildSeconds} s` : ''}): ${server.binDir}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-rehearse-'));
  // Services that run as their own user (PostgreSQL) must pass through to their folders.
  await chmod(dir, 0o711);
  const datasets = path.join(dir, 'datasets');
  await mkdir(datasets, { recursive: true });
  await copyFile(path.join(REPO_ROOT, 'data/sample/support-conversations.jsonl'), path.join(datasets, 'support.jsonl'));

  // The provider is outside the compose file; here it is the local backend on loopback.
  const backendPort = await freePort();
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  const backend = new BackendProcess(
    new TuneflowProcess('openai-local', ['openai-local', '--port', String(backendPort), '--state-dir', path.join(dir, 'openai-local'), '--time-scale', String(timeScale)], { ...process.env, TUNEFLOW_LOG_LEVEL: 'warn' }, path.join(dir, 'logs', 'openai-local.log')),
    backendPort,
  );
  const topology = await Topology.load({
    composeFile: path.join(REPO_ROOT, 'docker-compose.yml'),
    // What a user puts in .env: the provider, where datasets are, a database password.
    vars: {
      OPENAI_API_KEY: LOCAL_API_KEY,
      OPENAI_BASE_URL: backend.url,
      TUNEFLOW_DATASETS: datasets,
      POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
      STORE_SECRET_ACCESS_KEY: randomBytes(18).toString('base64url'),
      TUNEFLOW_CODEC_KEYS: `rehearsal:${randomBytes(32).toString('base64')}`,
    },
    dir,
    scale: { [WORKER_SERVICE]: 0 },
    tools,
    say: (m) => say(`  ${m}`),
  });
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    await topology.down();
    await backend.process.stop();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    say(`${signal}: stopping every process started`);
    void stopAll()
      .then(() => (values.keep ? undefined : rm(dir, { recursive: true, force: true })))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const phases: Phase[] = [];
  let leftovers: string[] = [];
  try {
    backend.process.start();
    await backend.waitUntilServing(30_000);
    await topology.up();
    const datasetUri = await uploadDataset(topology, path.join(datasets, 'support.jsonl'));
    say(`dataset uploaded to ${datasetUri}`);
    for (const n of workerCounts) phases.push(await runPhase(topology, backend, n, runs, datasetUri));
  } finally {
    const addresses = topology.allAddresses;
    await stopAll();
    leftovers = [...topology.alive, ...(await listenersOn(addresses)).map((l) => `listener ${l}`)];
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nRehearsal of docker-compose.yml (--runs ${runs}, --time-scale ${timeScale}); total ${minutes(Date.now() - started)}\n`);
  console.log(table(phases));
  console.log(leftovers.length === 0 ? '\nEvery process stopped; no listener left on the rehearsal\'s addresses.' : `\nLEFT BEHIND: ${leftovers.join(', ')}`);
  if (values.keep) console.log(`logs, databases and containers' files kept in ${dir}`);
  process.exitCode = leftovers.length === 0 && phases.every((p) => p.held === p.runs) ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
