// Uploaded files the backend cannot hold as one string, or nested past any real example, fail the job, never the backend.
import { createReadStream, mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, trainingJsonl, upload, waitForJob } from './helpers';

const HALF_GIB = 512 * 1024 * 1024;

let h: Harness;
const stateDir = mkdtempSync(join(tmpdir(), 'openai-local-hostile-'));
const workDir = mkdtempSync(join(tmpdir(), 'openai-local-hostile-src-'));
beforeAll(async () => {
  h = await startHarness({ stateDir });
});
afterAll(async () => {
  await h.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

/** A multipart upload streamed from disk (the SDK would buffer the whole file first). */
async function streamUpload(baseUrl: string, file: string, filename: string): Promise<string> {
  const boundary = `tuneflow-${Date.now().toString(16)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = (await stat(file)).size;
  const url = new URL(`${baseUrl}/files`);
  const body = Readable.from(
    (async function* () {
      yield head;
      yield* createReadStream(file, { highWaterMark: 1 << 20 });
      yield tail;
    })(),
  );
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { authorization: 'Bearer sk-local-test', 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    pipeline(body, req).catch(reject);
  });
  const { status, text } = await response;
  if (status !== 200) throw new Error(`upload failed: ${status} ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

describe('hostile training files', () => {
  it('fails a job whose training file is one 512 MiB line with an invalid-file error naming the line, and stays up, also after a restart that checks the file again', async () => {
    // Sparse: 512 MiB of zero bytes and no newline, over the longest string the process can hold.
    const source = join(workDir, 'one-line.jsonl');
    await writeFile(source, '');
    await truncate(source, HALF_GIB);
    const fileId = await streamUpload(h.backend.url, source, 'one-line.jsonl');
    await rm(source);
    expect((await h.client.files.retrieve(fileId)).bytes).toBe(HALF_GIB);

    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: fileId });
    const failed = await waitForJob(h.client, job.id, undefined, 120_000);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('invalid_training_file');
    expect(failed.error?.message).toBe(
      `The job failed due to an invalid training file. Invalid file format. Line 1 is ${HALF_GIB} bytes long, over the 33554432-byte limit for one example.`,
    );
    expect((await h.client.files.retrieve(fileId)).id).toBe(fileId);

    // As if the backend had died mid-check: the record says "not validated", so a restart checks the file again.
    await h.backend.close();
    const record = join(stateDir, 'jobs', `${job.id}.json`);
    const rewound = JSON.parse(await readFile(record, 'utf8')) as { validation: unknown; final: unknown };
    rewound.validation = null;
    rewound.final = null;
    await writeFile(record, JSON.stringify(rewound));
    await h.restart();
    const again = await waitForJob(h.client, job.id, undefined, 120_000);
    expect(again.status).toBe('failed');
    expect(again.error?.message).toContain(`Line 1 is ${HALF_GIB} bytes long`);
    // Still up and answering.
    const other = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: await upload(h.client, trainingJsonl()) });
    expect((await waitForJob(h.client, other.id)).status).toBe('succeeded');
  }, 300_000);

  it('fails a job whose training file nests 100k deep, naming the line', async () => {
    const deep = `{"messages":[{"role":"user","content":${'['.repeat(100_000)}${']'.repeat(100_000)}},{"role":"assistant","content":"ok"}]}`;
    const fileId = await upload(h.client, `${trainingJsonl().trimEnd()}\n${deep}\n`);
    const job = await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: fileId });
    const failed = await waitForJob(h.client, job.id);
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/Line \d+ nests objects and arrays more than 100 levels deep/);
  });

  it('keeps uploaded files and job records readable by their owner only', async () => {
    const fileId = await upload(h.client, trainingJsonl());
    await h.client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: fileId });
    await h.backend.close();
    await h.restart();
    expect((await stat(join(stateDir, 'blobs', fileId))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'files', `${fileId}.json`))).mode & 0o777).toBe(0o600);
    for (const sub of ['files', 'blobs', 'jobs', 'examples', 'tmp']) expect((await stat(join(stateDir, sub))).mode & 0o777).toBe(0o700);
    for (const name of await readdir(join(stateDir, 'jobs'))) expect((await stat(join(stateDir, 'jobs', name))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'clock.json'))).mode & 0o777).toBe(0o600);
  });
});
