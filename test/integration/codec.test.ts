import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadCodecKeys, type CodecKeyring } from '../../src/codec/keys';
import { startCodecServer, type CodecServer } from '../../src/codec/server';
import type { AppConfig } from '../../src/config';
import type { PipelineResult } from '../../src/domain/pipeline';
import { TUNEFLOW_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { startPipeline } from '../../src/starter';
import { connectClient } from '../../src/temporal/connect';
import { freePort } from '../../src/temporal/dev-server';
import { localTemporalSettings } from '../../src/temporal/settings';
import { createWorker } from '../../src/worker';
import { runTuneflow, SAMPLE_DATASET, silentLogger, startBackend, taskQueueFor, testConfig, tuneflowEnv, workflowBundle, type Backend } from '../helpers/stack';
import { trained } from '../helpers/runs';

const execFileP = promisify(execFile);
const MODEL = 'gpt-4o-mini-2024-07-18';
const KEY_ID = 'k-2026-11';
const KEY = randomBytes(32).toString('base64');
const SMALL_EVAL = { compare: [], maxExamples: 6, batchSize: 6, concurrency: 4, maxTokens: 256 };
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve('test-artifacts/codec-ui.png');
/** Anything that would tell a reader of the server's database what the run trained on or with. */
const SECRETS = ['support-conversations', SAMPLE_DATASET, MODEL, 'gpt-4o-mini', 'ft:'];

interface HistoryPayloads {
  /** Encodings of every payload but search attributes (Temporal indexes them) and patch markers (the SDK's core writes their ids uncoded). */
  encodings: string[];
  /** The whole history with every payload's data base64-decoded, as a reader of the database would see it. */
  readable: string;
}

/** Walks `temporal workflow show --output json`: payload data is base64 there, so it is decoded before searching it. */
function historyPayloads(json: string): HistoryPayloads {
  const encodings: string[] = [];
  const decoded: string[] = [];
  const walk = (node: unknown, exempt: boolean): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, exempt));
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Record<string, unknown>;
    const metadata = obj.metadata as Record<string, string> | undefined;
    if (metadata && typeof metadata === 'object' && 'encoding' in metadata) {
      const encoding = Buffer.from(metadata.encoding ?? '', 'base64').toString();
      if (!exempt) encodings.push(encoding);
      if (typeof obj.data === 'string') decoded.push(Buffer.from(obj.data, 'base64').toString('latin1'));
    }
    for (const [k, v] of Object.entries(obj)) walk(v, exempt || k === 'searchAttributes' || k === 'patch-data');
  };
  walk(JSON.parse(json), false);
  return { encodings, readable: `${json}\n${decoded.join('\n')}` };
}

describe('encrypted payloads', () => {
  let env: TestWorkflowEnvironment;
  let backend: Backend;
  let codecServer: CodecServer;
  let keyring: CodecKeyring;
  let config: AppConfig;
  let client: Client;
  let worker: Worker;
  let artifactsDir: string;
  let uiUrl: string;
  let workflowId: string;
  let result: PipelineResult;
  const cliPath = inject('temporalCliPath');

  const temporalCli = async (args: string[]): Promise<string> => {
    if (!cliPath) throw new Error('the Temporal CLI is needed to read history as an operator does');
    const { stdout } = await execFileP(cliPath, [...args, '--address', env.address, '--namespace', 'default'], { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  };

  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    keyring = loadCodecKeys({ keys: `${KEY_ID}:${KEY}` })!;
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    codecServer = await startCodecServer({ keyring, port: 0, allowedOrigins: [uiUrl], logger: silentLogger });
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: cliPath ? { type: 'existing-path', path: cliPath } : { type: 'cached-download' },
        ui: true,
        uiPort,
        searchAttributes: [...TUNEFLOW_SEARCH_ATTRIBUTES],
        extraArgs: ['--ui-codec-endpoint', codecServer.url],
      },
    });
    backend = await startBackend();
    artifactsDir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-codec-'));
    config = { ...testConfig(env, backend.url, artifactsDir, taskQueueFor('codec')), codec: keyring };
    client = await connectClient(localTemporalSettings(env.address), { codec: keyring });
    worker = await createWorker({ config, logger: silentLogger, connection: env.nativeConnection, workflowBundle: await workflowBundle() });

    const handle = await startPipeline(client, config, { datasetPath: SAMPLE_DATASET, model: MODEL, pollIntervalSeconds: 1, eval: SMALL_EVAL });
    workflowId = handle.workflowId;
    result = trained(await worker.runUntil(handle.result()));
  }, 300_000);

  afterAll(async () => {
    await client?.connection.close();
    await codecServer?.close();
    await backend?.dispose();
    await env?.teardown();
    if (artifactsDir) await rm(artifactsDir, { recursive: true, force: true });
  });

  it('runs the pipeline to the end with the codec on, under an id that does not name the dataset', () => {
    expect(result.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);
    expect(workflowId).toMatch(/^ft-\d{8}-\d{6}-[0-9a-f]{4}$/);
  });

  it('stores only ciphertext in the server\'s history of the run and of its evaluation child: no dataset path, no model name', async () => {
    const parentJson = await temporalCli(['workflow', 'show', '--workflow-id', workflowId, '--output', 'json']);
    const childId = /"workflowId":\s*"([^"]*-eval-[^"]*)"/.exec(parentJson)?.[1];
    expect(childId).toBeDefined();
    const childJson = await temporalCli(['workflow', 'show', '--workflow-id', childId!, '--output', 'json']);
    for (const json of [parentJson, childJson]) {
      const { encodings, readable } = historyPayloads(json);
      expect(encodings.length).toBeGreaterThan(10);
      expect(new Set(encodings)).toEqual(new Set(['binary/encrypted']));
      for (const secret of SECRETS) expect(readable).not.toContain(secret);
    }
    // The same walk over what the codec server decrypts finds them: the check above can see clear text.
    const decrypted = historyPayloads(await temporalCli(['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--codec-endpoint', codecServer.url]));
    expect(new Set(decrypted.encodings)).toEqual(new Set(['json/plain']));
    expect(decrypted.readable).toContain(SAMPLE_DATASET);
    expect(decrypted.readable).toContain(result.fineTunedModel);
  });

  it('lets `tuneflow status` read the result with the key, and names the key id without it', async () => {
    const run = (extra: NodeJS.ProcessEnv) => runTuneflow(['status', workflowId, '--json'], tuneflowEnv(config, extra));
    const withKey = await run({ TUNEFLOW_CODEC_KEYS: `${KEY_ID}:${KEY}` });
    expect(withKey.code, withKey.stderr).toBe(0);
    const status = JSON.parse(withKey.stdout) as { status: string; result: PipelineResult };
    expect(status.status).toBe('COMPLETED');
    expect(status.result.fineTunedModel).toBe(result.fineTunedModel);
    expect(status.result.jobId).toBe(result.jobId);

    const withoutKey = await run({ TUNEFLOW_CODEC_KEYS: '' });
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stderr.trim()).toBe(
      `tuneflow: A payload is encrypted with codec key ${KEY_ID}, and this process holds no codec keys: add key ${KEY_ID} to TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE to read it.`,
    );
    expect(withoutKey.stderr).not.toContain('    at ');
  }, 60_000);

  it('shows the decrypted input in the Temporal UI, through the codec server, in headless Chromium', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; install it with: apt-get install -y chromium`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const codecCalls: string[] = [];
      page.on('request', (req) => {
        if (req.url().startsWith(codecServer.url)) codecCalls.push(`${req.method()} ${new URL(req.url()).pathname}`);
      });
      await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'load' });
      await expect.poll(() => page.locator('body').innerText(), { timeout: 60_000, interval: 500 }).toContain(SAMPLE_DATASET);
      expect(await page.locator('body').innerText()).toContain(MODEL);
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(codecCalls).toContain('POST /decode');
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('refuses /decode without the bearer token when one is set, and serves Temporal\'s CLI with it', async () => {
    const token = randomBytes(24).toString('hex');
    const guarded = await startCodecServer({ keyring, port: 0, allowedOrigins: [uiUrl], token, logger: silentLogger });
    try {
      const body = JSON.stringify({ payloads: [] });
      const headers = { 'content-type': 'application/json', 'x-namespace': 'default' };
      expect((await fetch(`${guarded.url}/decode`, { method: 'POST', headers, body })).status).toBe(401);
      expect((await fetch(`${guarded.url}/decode`, { method: 'POST', headers: { ...headers, authorization: 'Bearer wrong' }, body })).status).toBe(401);
      const preflight = await fetch(`${guarded.url}/decode`, { method: 'OPTIONS', headers: { origin: uiUrl, 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(uiUrl);
      const elsewhere = await fetch(`${guarded.url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
      expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
      const shown = await temporalCli(['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--codec-endpoint', guarded.url, '--codec-auth', `Bearer ${token}`]);
      expect(historyPayloads(shown).readable).toContain(SAMPLE_DATASET);
    } finally {
      await guarded.close();
    }
  });
});
