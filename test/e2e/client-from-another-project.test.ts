import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config';
import { ensureBuilt, ROOT } from '../helpers/build';
import { createTestWorker, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, tuneflowEnv, useTemporal, type Backend } from '../helpers/stack';

/** Another service's code: only `tuneflow/client`, as its README shows. */
const SERVICE_TS = `import { isSkipped, TuneflowClient, TERMINAL_STAGES, type PipelineInput, type Stage } from 'tuneflow/client';

const [datasetPath, workflowId] = process.argv.slice(2) as [string, string];
const tuneflow = await TuneflowClient.connect();
const input: PipelineInput = { datasetPath, model: 'gpt-4o-mini-2024-07-18', pollIntervalSeconds: 1 };
const first = await tuneflow.start(input, { workflowId });
const second = await tuneflow.start(input, { workflowId });
const stages: Stage[] = [];
for (;;) {
  const progress = await tuneflow.progress(workflowId).catch(() => null);
  if (progress && stages.at(-1) !== progress.stage) stages.push(progress.stage);
  if (progress && TERMINAL_STAGES.has(progress.stage)) break;
  await new Promise((r) => setTimeout(r, 200));
}
const result = await tuneflow.result(workflowId);
console.log(JSON.stringify({ first, second, stages, status: result.status, fineTunedModel: isSkipped(result) ? null : result.fineTunedModel }));
await tuneflow.close();
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'], outDir: 'out' },
  include: ['service.ts'],
};

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('tuneflow/client used from a separate project', () => {
  const temporal = useTemporal();
  let project: string;
  let backend: Backend;
  let config: AppConfig;
  let compiled: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await ensureBuilt();
    backend = await startBackend();
    config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('client from another project'));
    // A project of its own whose node_modules/tuneflow is this checkout: Node and tsc resolve `tuneflow/client` through its package.json exports.
    project = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-consumer-'));
    await mkdir(path.join(project, 'node_modules/@types'), { recursive: true });
    await symlink(ROOT, path.join(project, 'node_modules/tuneflow'), 'dir');
    await symlink(path.join(ROOT, 'node_modules/@types/node'), path.join(project, 'node_modules/@types/node'), 'dir');
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'other-service', private: true, type: 'module' }));
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    await writeFile(path.join(project, 'service.ts'), SERVICE_TS);
    compiled = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project });
  }, 300_000);

  afterAll(async () => {
    await backend?.dispose();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('type-checks the service against the package’s .d.ts (tsc, NodeNext resolution through `exports`)', () => {
    expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
  });

  it('starts a run, gets the same run back from a second start of its id, follows its progress to the end and reads the result', async () => {
    const workflowId = `ft-consumer-${Math.random().toString(16).slice(2, 10)}`;
    const worker = await createTestWorker(temporal.env, config);
    const ran = await worker.runUntil(run(process.execPath, ['out/service.js', SAMPLE_DATASET, workflowId], { cwd: project, env: tuneflowEnv(config) }));
    expect(ran.code, ran.stderr).toBe(0);
    const seen = JSON.parse(ran.stdout) as { first: { workflowId: string; runId: string }; second: unknown; stages: string[]; status: string; fineTunedModel: string };
    expect(seen.first.workflowId).toBe(workflowId);
    expect(seen.second).toEqual(seen.first);
    expect(seen.stages).toEqual(expect.arrayContaining(['training', 'evaluating', 'done']));
    expect(seen.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);
    const stats = await backend.stats();
    expect(stats.created.jobs).toBe(1);
    expect(stats.requests.createFile).toBe(2);
  });
});
