// Shared test fixtures: a backend on port 0 in a temp dir, a contract-checking SDK client, support datasets.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import OpenAI, { toFile } from 'openai';
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs';
import { type LocalBackend, type LocalBackendOptions, startLocalBackend } from '../../src/openai-local/index';
import { contractFetch, type ContractLog, newContractLog } from './openapi-contract';

/** Fast enough that a 160-example, 3-epoch job takes ~0.2 s. */
export const FAST_TIME_SCALE = 2000;

export interface Harness {
  backend: LocalBackend;
  client: OpenAI;
  contract: ContractLog;
  stateDir: string;
  admin<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  restart(opts?: Partial<LocalBackendOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<LocalBackendOptions> = {}): Promise<Harness> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'openai-local-test-'));
  const contract = newContractLog();
  const base: LocalBackendOptions = { port: 0, timeScale: FAST_TIME_SCALE, seed: 1, ...opts, stateDir };
  const h: Harness = {
    backend: await startLocalBackend(base),
    client: undefined as unknown as OpenAI,
    contract,
    stateDir,
    async admin<T>(path: string, body?: unknown): Promise<T> {
      const res = await fetch(h.backend.origin + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as T;
    },
    async restart(more: Partial<LocalBackendOptions> = {}): Promise<void> {
      await h.backend.close();
      h.backend = await startLocalBackend({ ...base, ...more });
      h.client = makeClient(h.backend.url, contract);
    },
    async close(): Promise<void> {
      await h.backend.close();
      if (!opts.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
  h.client = makeClient(h.backend.url, contract);
  return h;
}

export function makeClient(baseURL: string, contract: ContractLog, maxRetries = 0): OpenAI {
  return new OpenAI({ apiKey: 'sk-local-test', baseURL, maxRetries, fetch: contractFetch(contract) });
}

interface Topic {
  keywords: string[];
  answer: string;
}

const TOPICS: Topic[] = [
  { keywords: ['refund', 'money', 'charge'], answer: 'Open Orders, pick the order and press Request refund; the money is back on your card within five business days.' },
  { keywords: ['password', 'reset', 'login'], answer: 'Use Forgot password on the sign-in page; we email a reset link that stays valid for thirty minutes.' },
  { keywords: ['shipping', 'delivery', 'parcel'], answer: 'Standard delivery takes three to five days; the tracking number arrives by email once the parcel leaves our warehouse.' },
  { keywords: ['invoice', 'receipt', 'vat'], answer: 'Invoices with VAT are under Account, Billing, Documents; download the PDF next to each payment.' },
  { keywords: ['cancel', 'subscription', 'plan'], answer: 'Go to Settings, Subscription and choose Cancel plan; access continues until the end of the paid period.' },
  { keywords: ['upgrade', 'premium', 'tier'], answer: 'Choose Upgrade in Settings, Subscription; the premium tier is prorated for the rest of this month.' },
  { keywords: ['address', 'move', 'relocate'], answer: 'Edit the address under Profile, Addresses before the order ships; shipped orders cannot be redirected.' },
  { keywords: ['damaged', 'broken', 'defective'], answer: 'Send a photo of the damaged item through the Claims form and we ship a replacement free of charge.' },
  { keywords: ['coupon', 'discount', 'promo'], answer: 'Enter the promo code at checkout in the Discount field; one coupon applies per order.' },
  { keywords: ['gift', 'card', 'voucher'], answer: 'Gift card balances show under Wallet; vouchers never expire and combine with card payments.' },
  { keywords: ['warranty', 'repair', 'guarantee'], answer: 'Every device has a two year warranty; book a repair through Support, Warranty with your serial number.' },
  { keywords: ['email', 'newsletter', 'unsubscribe'], answer: 'Click Unsubscribe at the bottom of any newsletter or switch off marketing email under Notifications.' },
  { keywords: ['account', 'delete', 'erase'], answer: 'Request account deletion under Privacy, Delete account; all personal data is erased within thirty days.' },
  { keywords: ['payment', 'declined', 'bank'], answer: 'A declined payment usually comes from the bank; check the card limit or try another payment method.' },
  { keywords: ['stock', 'restock', 'available'], answer: 'Press Notify me on the product page and we email you as soon as the item is back in stock.' },
  { keywords: ['language', 'translate', 'locale'], answer: 'Change the language under Settings, Region; the whole app switches locale after a reload.' },
];

const OPENERS = [
  'Hi, question about',
  'Hello, I need help with',
  'Can you help me with',
  'I have a problem with',
  'Quick question regarding',
  'Please explain',
  'Urgent issue:',
  'Good morning, asking about',
  'Hey support,',
  'Could you tell me about',
];
const HELD_OUT_OPENERS = ['I am confused about', 'Need assistance on'];

function example(system: boolean, user: string, assistant: string): string {
  const messages = [
    ...(system ? [{ role: 'system', content: 'You are the friendly support assistant of Acme Shop.' }] : []),
    { role: 'user', content: user },
    { role: 'assistant', content: assistant },
  ];
  return JSON.stringify({ messages });
}

function question(opener: string, t: Topic, v: number): string {
  const [a = '', b = '', c = ''] = t.keywords;
  const combos = [`${a} ${b}`, `${b} ${c}`, `${a} ${c}`, `${a}`, `${c} ${a}`];
  return `${opener} my ${combos[v % combos.length]}?`;
}

/** 16 support topics x `perTopic` training examples (160 by default). */
export function trainingJsonl(perTopic = 10): string {
  const lines: string[] = [];
  for (const t of TOPICS) for (let v = 0; v < perTopic; v++) lines.push(example(true, question(OPENERS[v % OPENERS.length] ?? '', t, v), t.answer));
  return lines.join('\n') + '\n';
}

export function validationJsonl(): string {
  return TOPICS.map((t, i) => example(true, question(OPENERS[(i + 3) % OPENERS.length] ?? '', t, i + 1), t.answer)).join('\n') + '\n';
}

/** Prompts the training data never saw, each with the reply a well-trained model should give. */
export function heldOutPrompts(): { prompt: string; expected: string }[] {
  return TOPICS.flatMap((t, i) => HELD_OUT_OPENERS.map((o, j) => ({ prompt: question(o, t, i + j + 2), expected: t.answer })));
}

/** Token-set Jaccard overlap of two texts: 1 = same words, 0 = nothing in common. */
export function overlap(a: string, b: string): number {
  const ta = new Set(a.toLowerCase().match(/[a-z0-9]+/g) ?? []);
  const tb = new Set(b.toLowerCase().match(/[a-z0-9]+/g) ?? []);
  const inter = [...ta].filter((t) => tb.has(t)).length;
  return inter / (ta.size + tb.size - inter || 1);
}

export async function upload(client: OpenAI, content: string, name = 'train.jsonl'): Promise<string> {
  const f = await client.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'fine-tune' });
  return f.id;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls until the job satisfies `done` (default: terminal status); fails after `timeoutMs` real ms. */
export async function waitForJob(client: OpenAI, id: string, done: (j: FineTuningJob) => boolean = (j) => TERMINAL.has(j.status), timeoutMs = 20_000): Promise<FineTuningJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.fineTuning.jobs.retrieve(id);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** All pages of a list via `after`, asserting nothing is returned twice. */
export async function collectPages<T extends { id: string }>(fetchPage: (after: string | undefined) => Promise<{ data: T[]; has_more: boolean }>): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await fetchPage(after);
    out.push(...page.data);
    if (!page.has_more || page.data.length === 0) return out;
    after = page.data[page.data.length - 1]?.id;
  }
  throw new Error('paging did not terminate');
}

type BackendCliProcess = ChildProcessByStdio<null, Readable, Readable>;

/**
 * `tuneflow openai-local --port 0 --state-dir <temp> …args` in its own process, once it has printed its base URL
 * (the first line of stdout). `stdout()` is everything it printed so far; the caller removes `stateDir`.
 */
export async function startBackendCli(args: string[]): Promise<{ child: BackendCliProcess; url: string; stdout: () => string; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'openai-local-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/run-cli.ts'), 'openai-local', ...args, '--port', '0', '--state-dir', stateDir], {
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
  return { child, url, stdout: () => stdout, stateDir };
}

/** SIGTERM, then the exit code. */
export async function stopBackendCli(child: BackendCliProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}
