import type { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runTuneflow, useTemporal, type TuneflowExit as Finished } from '../helpers/stack';

function run(args: string[], env: NodeJS.ProcessEnv = {}, onStart?: (child: ReturnType<typeof spawn>) => void): Promise<Finished> {
  return runTuneflow(args, { ...process.env, ...env }, onStart);
}

/** Listening TCP ports (IPv4) of this machine, from /proc. */
async function listeningPorts(): Promise<Set<number>> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  const ports = new Set<number>();
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] === '0A' && cols[1]) ports.add(parseInt(cols[1].split(':')[1] ?? '0', 16));
  }
  return ports;
}

describe('the tuneflow command as a person runs it', () => {
  it('the demo (npm run demo) fine-tunes the sample, prints the summary, exits 0 and leaves no listener behind', async () => {
    const before = await listeningPorts();
    const demo = await run(['demo']);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/job\s+ftjob-/);
    expect(demo.stdout).toMatch(/fine-tuned\s+ft:gpt-4o-mini-2024-07-18:/);
    expect(demo.stdout).toMatch(/best ckpt .*full valid loss/);
    expect(demo.stdout).toMatch(/Recommended: ft:/);
    expect(demo.stdout).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\//);
    const leftover = [...(await listeningPorts())].filter((p) => !before.has(p));
    expect(leftover).toEqual([]);
  }, 240_000);
});

describe('tuneflow worker', () => {
  const temporal = useTemporal();

  it('drains and exits 0 on SIGTERM', async () => {
    const started = Date.now();
    const finished = await run(
      ['worker'],
      { TEMPORAL_ADDRESS: temporal.env.address, TEMPORAL_TASK_QUEUE: 'tf-sigterm', OPENAI_API_KEY: 'test-key', TUNEFLOW_DATA_ROOTS: process.cwd(), TUNEFLOW_LOG_LEVEL: 'info' },
      (child) => {
        child.stderr?.on('data', (d: Buffer) => {
          if (d.toString().includes('worker started')) child.kill('SIGTERM');
        });
      },
    );
    expect(finished.code).toBe(0);
    expect(finished.stderr).toContain('worker stopped');
    expect(Date.now() - started).toBeLessThan(120_000);
  });

  it('refuses to start without a provider key, saying which variable to set', async () => {
    const finished = await run(['worker'], { TEMPORAL_ADDRESS: temporal.env.address, OPENAI_API_KEY: '' });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/OPENAI_API_KEY/);
  });

  it('refuses to start without TUNEFLOW_DATA_ROOTS, printing the line that sets it', async () => {
    const finished = await run(['worker'], { TEMPORAL_ADDRESS: temporal.env.address, OPENAI_API_KEY: 'test-key', TUNEFLOW_DATA_ROOTS: '' });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain('TUNEFLOW_DATA_ROOTS is not set');
    expect(finished.stderr).toContain(`export TUNEFLOW_DATA_ROOTS=${process.cwd()}`);
  });
});
