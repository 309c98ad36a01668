// `tuneflow openai-local --dialect azure`: the flag, and a process that serves Azure's data plane and ARM.
import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addLocalBackendOptions, parseLocalBackendFlags } from '../../src/cli/openai-local';
import { startBackendCli, stopBackendCli } from './helpers';

describe('openai-local --dialect', () => {
  it('parses the dialect and the Azure deployment flags, and refuses unknown values', () => {
    const cmd = addLocalBackendOptions(new Command('x')).exitOverride();
    cmd.parse(['--dialect', 'azure', '--deployment-seconds', '30', '--refuse-deployments', 'quota'], { from: 'user' });
    expect(parseLocalBackendFlags(cmd.opts(), {})).toMatchObject({ dialect: 'azure', deploymentSeconds: 30, refuseDeployments: 'quota' });
    expect(parseLocalBackendFlags({}, {})).not.toHaveProperty('dialect');
    expect(() => parseLocalBackendFlags({ dialect: 'bedrock' }, {})).toThrow(/--dialect must be one of openai, azure, together/);
    expect(() => parseLocalBackendFlags({ refuseDeployments: 'maybe' }, {})).toThrow(/--refuse-deployments/);
  });

  it('starts in the azure dialect: prints the v1 data-plane URL, answers api-key requests and ARM, exits cleanly', async () => {
    const { child, url, stateDir } = await startBackendCli(['--dialect', 'azure']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
    expect((await fetch(`${url}/models`, { headers: { 'api-key': 'k' } })).status).toBe(200);
    expect((await fetch(`${url}/models`)).status).toBe(401);
    const origin = new URL(url).origin;
    const deployments = await fetch(
      `${origin}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tuneflow-local/providers/Microsoft.CognitiveServices/accounts/tuneflow-local/deployments?api-version=2026-09-01`,
      { headers: { authorization: 'Bearer t' } },
    );
    expect(await deployments.json()).toEqual({ value: [] });
    expect(await stopBackendCli(child)).toBe(0);
    await rm(stateDir, { recursive: true, force: true });
  });
});
