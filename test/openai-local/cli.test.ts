// The `openai-local` subcommand: flag parsing with env fallbacks, URL line on stdout, clean shutdown on SIGTERM.
import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addLocalBackendOptions, parseLocalBackendFlags } from '../../src/cli/openai-local';
import { startBackendCli, stopBackendCli } from './helpers';

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
    const { child, url, stdout, stateDir } = await startBackendCli([]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const res = await fetch(`${url}/models`, { headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(200);
    expect(await stopBackendCli(child)).toBe(0);
    expect(stdout()).toBe(`${url}\n`);
    await rm(stateDir, { recursive: true, force: true });
  });
});
