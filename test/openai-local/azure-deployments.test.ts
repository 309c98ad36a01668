// The azure dialect's ARM deployments over time: restarts keep them, the Developer tier's 24 hours end them.
import { describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers';

const DEPLOYMENTS = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tuneflow-local/providers/Microsoft.CognitiveServices/accounts/tuneflow-local/deployments';

async function arm(h: Harness, method: string, name: string, body?: unknown): Promise<Response> {
  return fetch(`${h.backend.origin}${DEPLOYMENTS}/${name}?api-version=2026-09-01`, {
    method,
    headers: { authorization: 'Bearer t', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

const body = (sku: string) => ({ sku: { name: sku, capacity: 50 }, properties: { model: { format: 'OpenAI', name: 'gpt-4o-mini-2024-07-18', version: '1' } } });
const stateOf = async (h: Harness, name: string): Promise<string | number> => {
  const res = await arm(h, 'GET', name);
  return res.status === 200 ? ((await res.json()) as { properties: { provisioningState: string } }).properties.provisioningState : res.status;
};

describe('azure dialect deployments', () => {
  it('keeps a deployment that is provisioning across a restart, and it still succeeds', async () => {
    const h = await startHarness({ dialect: 'azure', timeScale: 100, deploymentSeconds: 60 });
    try {
      expect((await arm(h, 'PUT', 'kept', body('DeveloperTier'))).status).toBe(201);
      await h.restart();
      expect(['Accepted', 'Creating', 'Succeeded']).toContain(await stateOf(h, 'kept'));
      for (let i = 0; i < 400 && (await stateOf(h, 'kept')) !== 'Succeeded'; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await stateOf(h, 'kept')).toBe('Succeeded');
    } finally {
      await h.close();
    }
  });

  it('removes a Developer tier deployment after its 24 hours but keeps a Standard one', async () => {
    // 24 simulated hours pass in about 90 real ms at this scale.
    const h = await startHarness({ dialect: 'azure', timeScale: 1_000_000 });
    try {
      expect((await arm(h, 'PUT', 'dev', body('developertier'))).status).toBe(201);
      expect((await arm(h, 'PUT', 'std', body('Standard'))).status).toBe(201);
      for (let i = 0; i < 400 && (await stateOf(h, 'dev')) !== 404; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await stateOf(h, 'dev')).toBe(404);
      expect(await stateOf(h, 'std')).toBe('Succeeded');
      const stats = await h.admin<{ deployments: Record<string, number> }>('/_admin/stats');
      expect(stats.deployments).toMatchObject({ created: 2, deleted: 0, expired: 1, live: 1 });
    } finally {
      await h.close();
    }
  });
});
