// Every answer of the azure dialect, success and error, on the data plane and ARM, validated against Azure's specs.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armContract, azureContractFetch, azureDataPlaneContract } from './azure-contract';
import { type Harness, startHarness, trainingJsonl, validationJsonl, waitForJob } from './helpers';
import { BACKEND_OPERATIONS, newContractLog } from './openapi-contract';

const KEY = 'azure-local-key';
const ARM_VERSION = '2026-09-01';
const ACCOUNT_PATH = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/tuneflow-local/providers/Microsoft.CognitiveServices/accounts/tuneflow-local';

/** The data-plane operations the azure dialect serves: the same as the OpenAI dialect's, by the v1 spec's operationIds. */
const DATA_PLANE_OPERATIONS = BACKEND_OPERATIONS;
const ARM_OPERATIONS = ['Deployments_List', 'Deployments_Get', 'Deployments_CreateOrUpdate', 'Deployments_Delete', 'OperationStatuses_Get'];

const log = newContractLog();
const checked = azureContractFetch(log);
let h: Harness;
let client: OpenAI;

/** One ARM call through the contract-checking fetch. */
async function arm(method: string, path: string, opts: { body?: unknown; version?: string | null; auth?: string | null } = {}): Promise<Response> {
  const version = opts.version === undefined ? ARM_VERSION : opts.version;
  const url = `${h.backend.origin}${path}${version === null ? '' : `?api-version=${version}`}`;
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? 'Bearer arm-token' : opts.auth;
  if (auth !== null) headers.authorization = auth;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return checked(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
}

const deploymentBody = (model: string, sku = 'DeveloperTier') => ({ sku: { name: sku, capacity: 50 }, properties: { model: { format: 'OpenAI', name: model, version: '1' } } });

async function waitProvisioned(name: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const d = (await (await arm('GET', `${ACCOUNT_PATH}/deployments/${name}`)).json()) as { properties: { provisioningState: string } };
    if (d.properties.provisioningState === 'Succeeded') return d;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`deployment ${name} never provisioned`);
}

async function upload(content: string, name: string): Promise<string> {
  return (await client.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'fine-tune', expires_after: { anchor: 'created_at', seconds: 1_209_600 } })).id;
}

beforeAll(async () => {
  // Jobs finish in ~1.5 s and deployments provision in under a second at this scale.
  h = await startHarness({ dialect: 'azure', timeScale: 300 });
  client = new OpenAI({ apiKey: KEY, baseURL: h.backend.url, maxRetries: 0, defaultHeaders: { 'api-key': KEY, Authorization: null }, fetch: checked });
});
afterAll(async () => {
  await h.close();
});

describe('azure dialect contract', () => {
  it('rejects bodies that break the Azure specs (the validators are not vacuous)', () => {
    const data = azureDataPlaneContract();
    expect(data.validate('retrieveFineTuningJob', 200, { id: 'ftjob-x', object: 'fine_tuning.job' }).valid).toBe(false);
    expect(data.validate('createFile', 200, { id: 'file-x', object: 'file', bytes: 1, created_at: 1, filename: 'a', purpose: 'fine-tune', status: 'done' }).valid).toBe(false);
    expect(data.validate('createChatCompletion', 404, { error: { code: 404, message: 'x' } }).valid).toBe(false);
    expect(data.validate('createChatCompletion', 404, { error: { code: 'DeploymentNotFound', message: 'x' } }).valid).toBe(true);
    const a = armContract();
    expect(a.validate('Deployments_Get', 200, { name: 'd', properties: { provisioningState: 'Provisioning' } }).valid).toBe(false);
    expect(a.validate('Deployments_List', 200, { value: [{ sku: { capacity: 1 } }] }).valid).toBe(false);
    expect(a.validate('Deployments_Delete', 202, { status: 'x' }).valid).toBe(false);
    expect(a.validate('Deployments_Delete', 204, '').valid).toBe(true);
    expect(a.validate('Deployments_CreateOrUpdate', 403, { error: { code: 'AuthorizationFailed', message: 'm', details: 'no' } }).valid).toBe(false);
  });

  it('answers every files operation with bodies that match the v1 spec, with Azure ids and expiry', async () => {
    const train = await upload(trainingJsonl(), 'train.jsonl');
    const extra = await upload(validationJsonl(), 'extra.jsonl');
    expect(train).toMatch(/^file-[0-9a-f]{32}$/);
    const listed = await client.files.list({ purpose: 'fine-tune' });
    expect(listed.data.map((f) => f.id)).toEqual(expect.arrayContaining([train, extra]));
    const file = await client.files.retrieve(train);
    expect((file.expires_at ?? 0) - file.created_at).toBe(1_209_600);
    expect(await (await client.files.content(extra)).text()).toBe(validationJsonl());
    expect(await client.files.delete(extra)).toMatchObject({ id: extra, deleted: true });
  });

  it('answers every fine-tuning operation in every job state with bodies that match the v1 spec, with Azure naming', async () => {
    const train = await upload(trainingJsonl(), 'train.jsonl');
    const valid = await upload(validationJsonl(), 'valid.jsonl');
    const job = await client.fineTuning.jobs.create({
      model: 'gpt-4o-mini-2024-07-18',
      training_file: train,
      validation_file: valid,
      suffix: 'contract',
      seed: 3,
      metadata: { suite: 'azure-contract' },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } },
    });
    expect(job.id).toMatch(/^ftjob-[0-9a-f]{32}$/);
    await waitForJob(client, job.id, (j) => j.status === 'running');
    expect((await client.fineTuning.jobs.pause(job.id)).status).toBe('paused');
    await client.fineTuning.jobs.listEvents(job.id, { limit: 5 });
    await client.fineTuning.jobs.checkpoints.list(job.id);
    expect((await client.fineTuning.jobs.resume(job.id)).status).toBe('running');
    const done = await waitForJob(client, job.id);
    expect(done.status).toBe('succeeded');
    expect(done.fine_tuned_model).toMatch(/^gpt-4o-mini-2024-07-18\.ft-[0-9a-f]{32}$/);
    expect(done.metadata).toEqual({ suite: 'azure-contract' });
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id, { limit: 10 })).data;
    expect(checkpoints.length).toBeGreaterThan(0);
    for (const c of checkpoints) {
      expect(c.id).toMatch(/^ftchkpt-[0-9a-f]{32}$/);
      expect(c.fine_tuned_model_checkpoint).toBe(`${done.fine_tuned_model}:ckpt-step-${c.step_number}`);
      expect(c.metrics.full_valid_loss).toEqual(expect.any(Number));
    }
    await client.fineTuning.jobs.listEvents(job.id, { limit: 100 });
    await client.fineTuning.jobs.list({ limit: 2 });

    const other = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: train });
    expect((await client.fineTuning.jobs.cancel(other.id)).status).toBe('cancelled');
    // The v1 spec has no metadata filter on the list: Azure ignores it, so the untagged job is listed too.
    const filtered = await client.fineTuning.jobs.list({ metadata: { suite: 'azure-contract' }, limit: 100 });
    expect(filtered.data.map((j) => j.id)).toEqual(expect.arrayContaining([job.id, other.id]));
  });

  it('answers chat only through provisioned deployments, and ARM deployments with bodies that match the ARM spec', async () => {
    const [job] = (await client.fineTuning.jobs.list({ limit: 100 })).data.filter((j) => j.status === 'succeeded');
    const ft = job?.fine_tuned_model ?? '';
    const [ckpt] = (await client.fineTuning.jobs.checkpoints.list(job?.id ?? '')).data;
    const chat = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'refund money please' }], max_completion_tokens: 8 });

    // A base model answers through the deployment named as the model.
    expect((await chat('gpt-4o-mini-2024-07-18')).choices[0]?.message.role).toBe('assistant');
    for (const undeployed of [ft, ckpt?.id ?? '', 'no-such-deployment']) {
      await expect(chat(undeployed)).rejects.toMatchObject({ status: 404, code: 'DeploymentNotFound' });
    }

    const put = await arm('PUT', `${ACCOUNT_PATH}/deployments/contract-final`, { body: { ...deploymentBody(ft, 'developer'), tags: { run: 'contract' } } });
    expect(put.status).toBe(201);
    expect(put.headers.get('azure-asyncoperation')).toMatch(/operationStatuses/);
    expect(Number(put.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await put.json()) as { properties: { provisioningState: string }; sku: { name: string } }).properties.provisioningState).toBe('Accepted');
    await expect(chat('contract-final')).rejects.toMatchObject({ status: 404, code: 'DeploymentNotFound' });
    const conflict = await arm('PUT', `${ACCOUNT_PATH}/deployments/contract-final`, { body: deploymentBody(ft) });
    expect(conflict.status).toBe(409);
    const monitor = new URL(put.headers.get('azure-asyncoperation') ?? '');
    expect(((await (await checked(monitor, { headers: { authorization: 'Bearer t' } })).json()) as { status: string }).status).toBe('InProgress');

    const ready = await waitProvisioned('contract-final');
    expect(ready).toMatchObject({ sku: { name: 'DeveloperTier' }, tags: { run: 'contract' } });
    expect((await chat('contract-final')).model).toBe(ft);
    expect((await arm('PUT', `${ACCOUNT_PATH}/deployments/contract-final`, { body: deploymentBody(ft) })).status).toBe(200);
    expect(((await (await checked(monitor, { headers: { authorization: 'Bearer t' } })).json()) as { status: string }).status).toBe('Succeeded');

    expect((await arm('PUT', `${ACCOUNT_PATH}/deployments/contract-ckpt`, { body: deploymentBody(ckpt?.id ?? '') })).status).toBe(201);
    await waitProvisioned('contract-ckpt');
    expect((await chat('contract-ckpt')).choices[0]?.message.content).toEqual(expect.any(String));

    const list = (await (await arm('GET', `${ACCOUNT_PATH}/deployments`)).json()) as { value: { name: string }[] };
    expect(list.value.map((d) => d.name)).toEqual(['contract-final', 'contract-ckpt']);
    for (const name of ['contract-final', 'contract-ckpt']) {
      const del = await arm('DELETE', `${ACCOUNT_PATH}/deployments/${name}`);
      expect(del.status).toBe(202);
      expect(del.headers.get('location')).toMatch(/operationStatuses/);
    }
    await expect(chat('contract-final')).rejects.toMatchObject({ status: 404, code: 'DeploymentNotFound' });
    expect((await arm('DELETE', `${ACCOUNT_PATH}/deployments/never-made`)).status).toBe(204);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining([ft, ckpt?.fine_tuned_model_checkpoint, 'gpt-4o-mini-2024-07-18']));
    await client.models.retrieve(ft);
  });

  it('answers ARM errors in ARM error envelope with the service codes', async () => {
    const expectError = async (res: Promise<Response>, status: number, code: string): Promise<void> => {
      const r = await res;
      expect(r.status).toBe(status);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    };
    const d = `${ACCOUNT_PATH}/deployments`;
    await expectError(arm('GET', d, { auth: null }), 401, 'AuthenticationFailed');
    await expectError(arm('GET', d, { auth: 'Basic abc' }), 401, 'AuthenticationFailed');
    await expectError(arm('GET', d, { version: null }), 400, 'MissingApiVersionParameter');
    await expectError(arm('GET', d, { version: '2019-01-01' }), 400, 'InvalidApiVersionParameter');
    await expectError(arm('GET', d.replace('00000000-0000-0000-0000-000000000000', '11111111-1111-1111-1111-111111111111')), 404, 'SubscriptionNotFound');
    await expectError(arm('GET', d.replace('resourceGroups/tuneflow-local', 'resourceGroups/elsewhere')), 404, 'ResourceNotFound');
    await expectError(arm('GET', `${d}/nope`), 404, 'DeploymentNotFound');
    await expectError(arm('PUT', `${d}/bad name!`, { body: deploymentBody('gpt-4o-mini-2024-07-18') }), 400, 'InvalidResourceName');
    await expectError(arm('PUT', `${d}/bad-sku`, { body: deploymentBody('gpt-4o-mini-2024-07-18', 'Platinum') }), 400, 'InvalidResourceProperties');
    await expectError(arm('PUT', `${d}/bad-model`, { body: deploymentBody('gpt-4o-mini-2024-07-18.ft-00000000000000000000000000000000') }), 400, 'DeploymentModelNotSupported');
    await h.admin('/_admin/settings', { refuseDeployments: 'forbidden' });
    await expectError(arm('PUT', `${d}/refused`, { body: deploymentBody('gpt-4o-mini-2024-07-18') }), 403, 'AuthorizationFailed');
    await h.admin('/_admin/settings', { refuseDeployments: 'quota' });
    await expectError(arm('PUT', `${d}/refused`, { body: deploymentBody('gpt-4o-mini-2024-07-18') }), 400, 'InsufficientQuota');
    await h.admin('/_admin/settings', { refuseDeployments: 'none' });
  });

  it('answers data-plane errors of every kind in the AzureErrorResponse envelope', async () => {
    const expectStatus = async (p: Promise<unknown>, status: number): Promise<void> => {
      await expect(p).rejects.toMatchObject({ status });
    };
    await expectStatus(client.files.retrieve('file-missing'), 404);
    await expectStatus(client.files.content('file-missing'), 404);
    await expectStatus(client.files.delete('file-missing'), 404);
    await expectStatus(client.files.create({ file: await toFile(Buffer.from('{}\n'), 'a.jsonl'), purpose: 'fine-tune' }), 400);
    await expectStatus(client.files.create({ file: await toFile(Buffer.from('{}\n'), 'a.jsonl'), purpose: 'fine-tune', expires_after: { anchor: 'created_at', seconds: 60 } }), 400);
    await expectStatus(client.fineTuning.jobs.retrieve('ftjob-missing'), 404);
    await expectStatus(client.fineTuning.jobs.cancel('ftjob-missing'), 404);
    await expectStatus(client.fineTuning.jobs.pause('ftjob-missing'), 404);
    await expectStatus(client.fineTuning.jobs.resume('ftjob-missing'), 404);
    await expectStatus(client.fineTuning.jobs.listEvents('ftjob-missing'), 404);
    await expectStatus(client.fineTuning.jobs.checkpoints.list('ftjob-missing'), 404);
    await expectStatus(client.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: 'file-missing' }), 400);
    await expectStatus(client.models.retrieve('nope'), 404);
    await expectStatus(client.chat.completions.create({ model: 'gpt-4o-mini-2024-07-18', messages: [] }), 400);
    await expectStatus(client.fineTuning.jobs.list({ after: 'ftjob-unknown' }), 400);
    await expectStatus(client.fineTuning.jobs.list({}, { query: { 'api-version': '2024-10-21' } }), 400);
    const [done] = (await client.fineTuning.jobs.list({ limit: 100 })).data.filter((j) => j.status === 'succeeded');
    await expectStatus(client.fineTuning.jobs.cancel(done?.id ?? ''), 409);

    await h.admin('/_admin/settings', { refuseFineTuning: true });
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: 'file-x' })).rejects.toMatchObject({ status: 403, code: 'PermissionDenied' });
    await h.admin('/_admin/settings', { refuseFineTuning: false, rpm: 6 });
    await client.models.list();
    await expectStatus(client.models.list(), 429);
    await h.admin('/_admin/settings', { rpm: 0, faultRate: 1 });
    // Every kind of fault is drawn within a few requests at faultRate 1; dropped connections have no body to check.
    await Promise.all(Array.from({ length: 12 }, () => client.models.list().catch(() => undefined)));
    await h.admin('/_admin/settings', { faultRate: 0, revokedKeys: true });
    await expect(client.models.list()).rejects.toMatchObject({ status: 401, code: '401' });
    await h.admin('/_admin/settings', { revokedKeys: false });

    // Neither api-key nor a bearer: the SDK insists on one, so this goes through the checking fetch directly.
    const res = await checked(`${h.backend.url}/models`, { method: 'GET' });
    expect(res.status).toBe(401);
    // An Entra ID bearer instead of a key is let in.
    expect((await checked(`${h.backend.url}/models`, { headers: { authorization: 'Bearer entra-token' } })).status).toBe(200);
    // A path no operation serves: Azure's plain 404 (no spec operation to check it against).
    const unknown = await fetch(`${h.backend.url}/assistants`, { headers: { 'api-key': KEY } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });
  });

  it('has checked a 2xx answer of every implemented operation and found zero violations', () => {
    expect(log.violations).toEqual([]);
    for (const op of [...DATA_PLANE_OPERATIONS, ...ARM_OPERATIONS]) expect(log.checked[op] ?? 0, op).toBeGreaterThan(0);
    expect(Object.keys(log.checked).filter((k) => k.endsWith(':error')).length).toBeGreaterThanOrEqual(15);
  });
});
