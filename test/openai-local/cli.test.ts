// The `openai-local` subcommand: flag parsing with env fallbacks, URL line on stdout, clean shutdown on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addLocalBackendOptions, parseLocalBackendFlags } from '../../src/cli/openai-local';

describe('openai-local CLI', () => {
  it('parses flags with env fallbacks and defaults', () => {
    const cmd = addLocalBackendOptions(new Command('x')).exitOverride();
    cmd.parse(['--port', '0', '--fail-jobs', '--time-scale', '50', '--seed', '3', '--latency-ms', '40000', '--latency-operations', 'createFile, retrieveFineTuningJob'], { from: 'user' });
    const opts = parseLocalBackendFlags(cmd.opts(), { TUNEFLOW_LOCAL_RPM: '120', TUNEFLOW_LOCAL_FAULT_RATE: '0.2' });
    expect(opts).toEqual({ port: 0, stateDir: '.tuneflow/openai-local', rpm: 120, tpm: 0, faultRate: 0.2, failJobs: true, refuseFineTuning: false, outage: false, latencyMs: 40000, latencyOperations: ['createFile', 'retrieveFineTuningJob'], timeScale: 50, seed: 3 });
    expect(parseLocalBackendFlags({ outage: true }, {})).toMatchObject({ outage: true, latencyMs: 0, latencyOperations: [] });
    expect(parseLocalBackendFlags({ rpm: '5' }, { TUNEFLOW_LOCAL_RPM: '120' }).rpm).toBe(5);
    expect(parseLocalBackendFlags({}, {}).port).toBe(8787);
    expect(() => parseLocalBackendFlags({ faultRate: '2' }, {})).toThrow(/fault-rate/);
    expect(() => parseLocalBackendFlags({ latencyMs: '-1' }, {})).toThrow(/latency-ms/);
  });

  it('prints exactly the base URL on stdout, serves it, and exits cleanly on SIGTERM', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'openai-local-cli-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/run-cli.ts'), 'openai-local', '--port', '0', '--state-dir', stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TUNEFLOW_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n') && line) resolve(line);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const res = await fetch(`${url}/models`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toBe(`${url}\n`);
    await rm(stateDir, { recursive: true, force: true });
  });
});
