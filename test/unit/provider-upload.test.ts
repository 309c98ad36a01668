import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBackend, type LocalBackend } from '../../src/openai-local';
import { uploadFileFromDisk, UploadStalledError, type UploadProgress } from '../../src/provider/upload';

let dir: string;
let backend: LocalBackend;
let client: OpenAI;

async function writeJsonl(name: string, megabytes: number): Promise<string> {
  const file = path.join(dir, name);
  const out = createWriteStream(file);
  const line = (i: number) => `${JSON.stringify({ messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: `answer ${i} `.repeat(20) }] })}\n`;
  for (let i = 0, bytes = 0; bytes < megabytes * 1e6; i++) {
    const l = line(i);
    bytes += l.length;
    if (!out.write(l)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return file;
}

async function setUploadRate(bytesPerSecond: number): Promise<void> {
  const res = await fetch(backend.url.replace(/\/v1$/, '/_admin/settings'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uploadBytesPerSecond: bytesPerSecond }),
  });
  expect(res.status).toBe(200);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The stored bytes, over a connection that closes after the answer (a kept-alive one holds the backend's close for its keep-alive timeout). */
async function storedContent(fileId: string): Promise<Buffer> {
  const res = await new Promise<IncomingMessage>((resolve, reject) =>
    get(`${backend.url}/files/${fileId}/content`, { agent: false, headers: { authorization: 'Bearer local' } }, resolve).once('error', reject),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A provider that accepts the connection and never reads the body, as a hung server does. */
async function withStalledProvider(fn: (client: OpenAI) => Promise<void>): Promise<void> {
  const server = createServer((req) => req.pause());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    await fn(new OpenAI({ apiKey: 'local', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 }));
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-upload-'));
  backend = await startLocalBackend({ port: 0, stateDir: path.join(dir, 'state') });
  client = new OpenAI({ apiKey: 'local', baseURL: backend.url, maxRetries: 0 });
});

afterAll(async () => {
  await backend?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('uploading a file from disk', () => {
  it('stores the file under the given name with the same bytes, reporting bytes sent up to the file size', async () => {
    const file = await writeJsonl('on-disk-name.jsonl', 3);
    const seen: UploadProgress[] = [];
    const stored = await uploadFileFromDisk(client, { path: file, filename: 'tuneflow-run-train-abc.jsonl', purpose: 'fine-tune', onProgress: (p) => seen.push(p) });
    const original = await readFile(file);
    expect(stored.filename).toBe('tuneflow-run-train-abc.jsonl');
    expect(stored.bytes).toBe(original.length);
    expect(sha256(await storedContent(stored.id))).toBe(sha256(original));
    for (const [i, p] of seen.entries()) {
      expect(p.bytes).toBe(original.length);
      if (i > 0) expect(p.bytesSent).toBeGreaterThan(seen[i - 1]?.bytesSent ?? 0);
    }
    expect(seen.at(-1)).toEqual({ bytesSent: original.length, bytes: original.length });
  });

  it('reports progress as the bytes go out on a slow link, not all at once', async () => {
    const file = await writeJsonl('slow.jsonl', 24);
    await setUploadRate(12e6);
    try {
      const seen: UploadProgress[] = [];
      const stored = await uploadFileFromDisk(client, { path: file, filename: 'slow.jsonl', purpose: 'fine-tune', onProgress: (p) => seen.push(p) });
      const midway = seen.filter((p) => p.bytesSent > 0.1 * p.bytes && p.bytesSent < 0.9 * p.bytes);
      expect(midway.length).toBeGreaterThan(10);
      expect(seen.at(-1)?.bytesSent).toBe(stored.bytes);
    } finally {
      await setUploadRate(0);
    }
  });

  it('gives up with UploadStalledError when the provider stops reading for the idle timeout', async () => {
    const file = await writeJsonl('stalled.jsonl', 16);
    await withStalledProvider(async (stalledClient) => {
      const upload = uploadFileFromDisk(stalledClient, { path: file, filename: 'stalled.jsonl', purpose: 'fine-tune', idleTimeoutMs: 500 });
      await expect(upload).rejects.toBeInstanceOf(UploadStalledError);
      await expect(upload).rejects.toThrow(/stalled\.jsonl stalled/);
    });
  });

  it("stops when the caller aborts, with the caller's reason", async () => {
    const file = await writeJsonl('aborted.jsonl', 16);
    await withStalledProvider(async (stalledClient) => {
      const controller = new AbortController();
      const reason = new Error('activity cancelled');
      const upload = uploadFileFromDisk(stalledClient, {
        path: file,
        filename: 'aborted.jsonl',
        purpose: 'fine-tune',
        signal: controller.signal,
        onProgress: () => controller.abort(reason),
      });
      await expect(upload).rejects.toBe(reason);
    });
  });
});
