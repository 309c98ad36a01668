import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TUNEFLOW_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { runTuneflow, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, tuneflowEnv, type Backend, type TuneflowExit } from '../helpers/stack';

const MODEL = 'gpt-4o-mini-2024-07-18';
// Not `default`: a run that lands in it proves the namespace came from the file.
const NAMESPACE = 'tuneflow-profile';

function tuneflow(args: string[], env: NodeJS.ProcessEnv): Promise<TuneflowExit> {
  return runTuneflow(args, env);
}

describe('connecting through a Temporal config file profile', () => {
  let env: TestWorkflowEnvironment;
  let backend: Backend;
  let dir: string;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    const cliPath = inject('temporalCliPath');
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cliPath ? { type: 'existing-path', path: cliPath } : { type: 'cached-download' },
        namespace: NAMESPACE,
        searchAttributes: [...TUNEFLOW_SEARCH_ATTRIBUTES],
      },
    });
    backend = await startBackend();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-profile-'));
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await backend?.dispose();
    await env?.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a pipeline with a worker and the CLI that know Temporal only from the profile (address and namespace in the file, no TEMPORAL_ADDRESS)', async () => {
    const configFile = path.join(dir, 'temporal.toml');
    await writeFile(
      configFile,
      // The default profile points nowhere: only the selected one can work.
      `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.staging]\naddress = "${env.address}"\nnamespace = "${NAMESPACE}"\n`,
    );
    const config = testConfig(env, backend.url, dir, taskQueueFor('profile'));
    const processEnv = tuneflowEnv(config, { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'staging', TUNEFLOW_HOME: dir });
    delete processEnv.TEMPORAL_ADDRESS;
    delete processEnv.TEMPORAL_NAMESPACE;

    worker = spawn(process.execPath, ['bin/tuneflow.mjs', 'worker'], { env: processEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let workerLog = '';
    worker.stderr?.on('data', (d: Buffer) => (workerLog += d.toString()));

    const workflowId = `profile-${Date.now()}`;
    const run = await tuneflow(
      ['run', SAMPLE_DATASET, '--model', MODEL, '--id', workflowId, '--poll-interval', '1', '--eval-max-examples', '6', '--wait', '--json'],
      processEnv,
    );
    expect(run.stderr, workerLog).not.toContain('Cannot reach Temporal');
    expect(run.code, `${run.stderr}\n${workerLog}`).toBe(0);
    const result = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as { jobId: string; fineTunedModel: string };
    expect(result.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);

    // The run lives in the profile's namespace, on the server the profile names.
    const description = await env.client.workflow.getHandle(workflowId).describe();
    expect(env.client.options.namespace).toBe(NAMESPACE);
    expect(description.status.name).toBe('COMPLETED');
    expect(description.taskQueue).toBe(config.temporal.taskQueue);

    const status = await tuneflow(['status', workflowId, '--json'], processEnv);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ workflowId, status: 'COMPLETED' });
  }, 240_000);

  it('says which profile of which file it used when the server there does not answer', async () => {
    const configFile = path.join(dir, 'nowhere.toml');
    await writeFile(configFile, '[profile.default]\naddress = "127.0.0.1:1"\n');
    const config = testConfig(env, backend.url, dir, taskQueueFor('nowhere'));
    const processEnv = tuneflowEnv(config, { TEMPORAL_CONFIG_FILE: configFile });
    delete processEnv.TEMPORAL_ADDRESS;
    delete processEnv.TEMPORAL_NAMESPACE;
    const status = await tuneflow(['status', 'any-id'], processEnv);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(`Cannot reach Temporal at 127.0.0.1:1 (plain text; settings from profile 'default' in ${configFile})`);
  }, 60_000);
});
