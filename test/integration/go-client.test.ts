import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executableName, hasGo, userCacheDir } from '../../src/go-tool';
import { createTestWorker, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, useTemporal, type Backend } from '../helpers/stack';

const EXAMPLE = path.resolve('examples/go-client');
const GO = hasGo(process.env);
if (!GO) process.stderr.write('[go-client test] skipped: `go` is not on PATH, so the Go example cannot be built\n');

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** The example built once per version of its sources into the user cache (as the Temporal CLI is), through a temporary name. */
async function buildExample(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(await readFile(path.join(EXAMPLE, f)));
  const dir = path.join(userCacheDir(), `go-client-example-${hash.digest('hex').slice(0, 12)}`);
  const exe = path.join(dir, executableName('go-client'));
  if (existsSync(exe)) return exe;
  await mkdir(dir, { recursive: true });
  const tmp = `${exe}.build-${process.pid}`;
  const started = performance.now();
  const built = await run('go', ['build', '-o', tmp, '.'], { cwd: EXAMPLE, env: { ...process.env, CGO_ENABLED: '0' } });
  if (built.code !== 0) throw new Error(`go build of examples/go-client failed:\n${built.stderr}`);
  await rename(tmp, exe);
  process.stderr.write(`[go-client test] built ${exe} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return exe;
}

describe.skipIf(!GO)('the Go example (examples/go-client) against the dev server, a tuneflow worker and the local backend', () => {
  const temporal = useTemporal();
  let exe: string;
  let backend: Backend;
  let work: string;

  beforeAll(async () => {
    [exe, backend, work] = await Promise.all([buildExample(), startBackend(), mkdtemp(path.join(os.tmpdir(), 'tuneflow-go-'))]);
  }, 600_000);
  afterAll(async () => {
    await backend?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('starts a run by workflow type and JSON input, prints its progress to the end and its result; run again with the id it follows the same run', async () => {
    const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('go client'));
    const inputFile = path.join(work, 'input.json');
    await writeFile(inputFile, JSON.stringify({ datasetPath: SAMPLE_DATASET, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1 }));
    const workflowId = `ft-go-${Math.random().toString(16).slice(2, 10)}`;
    const args = ['-address', temporal.env.address, '-namespace', config.temporal.namespace, '-task-queue', config.temporal.taskQueue, '-id', workflowId, '-input', inputFile, '-poll', '200ms', '-timeout', '5m'];
    const worker = await createTestWorker(temporal.env, config);
    const [first, second] = await worker.runUntil(async () => {
      const a = await run(exe, args);
      return [a, await run(exe, args)] as const;
    });

    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    const runId = /^run fineTunePipeline id=(\S+) run_id=(\S+) /.exec(lines[0] ?? '');
    expect(runId?.[1]).toBe(workflowId);
    expect(lines).toContainEqual(expect.stringMatching(/^progress stage=training job=ftjob-\S+ status=\w+/));
    expect(lines).toContainEqual(expect.stringMatching(/^progress stage=evaluating /));
    expect(lines.at(-2)).toMatch(/^progress stage=done /);
    expect(lines.at(-1)).toMatch(/^result status=(promoted|succeeded|rejected) job=ftjob-\S+ fine_tuned_model=ft:gpt-4o-mini-2024-07-18:\S+ chosen=\S+ report=\S+report\.html$/);

    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.split('\n')[0]).toContain(`run_id=${runId?.[2]} `);
    expect(second.stdout.trim().split('\n').at(-1)).toBe(lines.at(-1));
    const stats = await backend.stats();
    expect(stats.created.jobs).toBe(1);
    expect(stats.requests.createFile).toBe(2);
  });

  it('refuses an input that is not a JSON object before it connects, with exit code 2', async () => {
    const bad = await run(exe, ['-id', 'x', '-input-json', '[1,2]']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the input is not a JSON object');
  });
});
