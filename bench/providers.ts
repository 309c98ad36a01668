/**
 * The whole pipeline on each provider dialect of the local backend (npm run bench:providers): one run of
 * the sample dataset per dialect, each on its own local stack (Temporal dev server, the backend in that
 * dialect, a worker with that provider's adapter). Prints the time per stage, read from the workflow
 * history's stage upserts, and the backend's counts: jobs, uploads, deployments and endpoints created
 * and deleted, and what is still live after the run closed.
 *
 *   npm run bench:providers [-- --dialects openai,azure,together --time-scale 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../src/cli/local-stack';
import { LOCAL_SAMPLE_MODEL } from '../src/cli/local-provider';
import { loadConfig } from '../src/config';
import type { PipelineInput, PipelineResult } from '../src/domain/pipeline';
import { STAGES, type Stage } from '../src/domain/stages';
import { createLogger } from '../src/log';
import { PROVIDER_KINDS, type ProviderKind } from '../src/provider/types';
import { startPipeline } from '../src/starter';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const dialects = (argValue('--dialects') ?? PROVIDER_KINDS.join(',')).split(',') as ProviderKind[];
const timeScale = Number(argValue('--time-scale') ?? 100);

interface Row {
  kind: ProviderKind;
  status: string;
  seconds: Partial<Record<Stage, number>>;
  total: number;
  counts: { jobs: number; uploads: number; deploymentsCreated: number | null; deploymentsDeleted: number | null; deploymentsLive: number | null; endpointsCreated: number; endpointsDeleted: number; endpointsLive: number };
}

/** Seconds spent in each stage: from the stage's upsert to the next one's, by the events' own times. */
async function stageSeconds(stack: LocalStack, workflowId: string): Promise<{ seconds: Partial<Record<Stage, number>>; total: number }> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const marks: { stage: Stage; at: number }[] = [];
  let first = 0;
  let last = 0;
  for (const ev of history.events ?? []) {
    const at = Number(ev.eventTime?.seconds ?? 0) * 1000 + Math.round((ev.eventTime?.nanos ?? 0) / 1e6);
    first ||= at;
    last = at;
    const payload = ev.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TuneflowStage;
    if (payload?.data) marks.push({ stage: JSON.parse(Buffer.from(payload.data).toString('utf8')) as Stage, at });
  }
  const seconds: Partial<Record<Stage, number>> = {};
  marks.forEach((m, i) => {
    const end = marks[i + 1]?.at ?? last;
    seconds[m.stage] = (seconds[m.stage] ?? 0) + (end - m.at) / 1000;
  });
  return { seconds, total: (last - first) / 1000 };
}

async function runDialect(kind: ProviderKind): Promise<Row> {
  const home = mkdtempSync(join(tmpdir(), `tuneflow-bench-${kind}-`));
  const base = loadConfig({ ...process.env, TUNEFLOW_HOME: home, TUNEFLOW_DATA_ROOTS: process.cwd(), TUNEFLOW_STORE: '' });
  const stack = await startLocalStack({
    config: base,
    logger: createLogger('error'),
    worker: true,
    provider: kind,
    taskQueue: `bench-providers-${kind}`,
    server: {},
    backend: { port: 0, stateDir: join(home, 'backend'), timeScale },
  });
  try {
    const input = { datasetPath: 'data/sample/support-conversations.jsonl', model: LOCAL_SAMPLE_MODEL[kind], pollIntervalSeconds: 2 } as PipelineInput;
    const handle = await startPipeline(stack.client, stack.config, input);
    const result = (await handle.result()) as PipelineResult;
    const { seconds, total } = await stageSeconds(stack, handle.workflowId);
    const stats = (await (await fetch(`${stack.backend.origin}/_admin/stats`)).json()) as {
      created: { files: number; jobs: number };
      deployments?: { live: number; created: number; deleted: number };
      endpoints: { live: number; created: number; deleted: number };
    };
    return {
      kind,
      status: result.status,
      seconds,
      total,
      counts: {
        jobs: stats.created.jobs,
        uploads: stats.created.files,
        deploymentsCreated: stats.deployments?.created ?? null,
        deploymentsDeleted: stats.deployments?.deleted ?? null,
        deploymentsLive: stats.deployments?.live ?? null,
        endpointsCreated: stats.endpoints.created,
        endpointsDeleted: stats.endpoints.deleted,
        endpointsLive: stats.endpoints.live,
      },
    };
  } finally {
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const kind of dialects) {
  process.stderr.write(`running the pipeline on the ${kind} dialect…\n`);
  rows.push(await runDialect(kind));
}

const stages = STAGES.filter((s) => rows.some((r) => r.seconds[s] !== undefined) && s !== 'done');
const cell = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toFixed(1));
console.log(`\nTime per stage (s), sample dataset, backend time scale ${timeScale}, poll interval 2 s\n`);
console.log(`| stage | ${rows.map((r) => r.kind).join(' | ')} |`);
console.log(`| --- | ${rows.map(() => '---:').join(' | ')} |`);
for (const s of stages) console.log(`| ${s} | ${rows.map((r) => cell(r.seconds[s])).join(' | ')} |`);
console.log(`| **total** | ${rows.map((r) => `**${cell(r.total)}**`).join(' | ')} |`);
console.log(`\nBackend counts after the run closed\n`);
console.log('| dialect | run | jobs | uploads | deployments created / deleted / live | endpoints created / deleted / live |');
console.log('| --- | --- | ---: | ---: | --- | --- |');
for (const r of rows) {
  const c = r.counts;
  const dep = c.deploymentsCreated === null ? '–' : `${c.deploymentsCreated} / ${c.deploymentsDeleted} / ${c.deploymentsLive}`;
  console.log(`| ${r.kind} | ${r.status} | ${c.jobs} | ${c.uploads} | ${dep} | ${c.endpointsCreated} / ${c.endpointsDeleted} / ${c.endpointsLive} |`);
}
