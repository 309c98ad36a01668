import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openInputFile } from '../../src/activities/input-files';
import { splitDatasetFile, validateDatasetFile } from '../../src/dataset';
import { readJsonl } from '../../src/eval/jsonl';
import { LocalStore, MULTIPART_PART_BYTES, openStorage, referenceSource, s3ObjectSource, type S3Store, withLocalFile, type ArtifactStore, type Storage } from '../../src/store';
import { SAMPLE_DATASET, startTestS3, type TestS3 } from '../helpers/stack';

let s3: TestS3;
let dir: string;
let stores: Record<'local' | 's3', Storage>;

beforeAll(async () => {
  s3 = await startTestS3();
  dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-store-'));
  const { store, s3: settings } = s3.storeConfig('runs');
  stores = { local: openStorage({ kind: 'local', dir: path.join(dir, 'local') }, settings), s3: openStorage(store, settings) };
});

afterAll(async () => {
  stores?.local.close();
  stores?.s3.close();
  await s3?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function text(store: ArtifactStore, key: string): Promise<string> {
  return (await store.read(key)).toString('utf8');
}

/** Runs test/fixtures/store/die-before-commit.ts, which SIGKILLs itself at the chosen point. */
function dieBeforeCommit(env: NodeJS.ProcessEnv, args: string[]): Promise<{ signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/store/die-before-commit.ts', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (_code, signal) => resolve({ signal, stdout }));
  });
}

describe.each(['local', 's3'] as const)('the %s artifact store', (kind) => {
  const store = () => stores[kind].store;

  it('writes whole objects, reads them whole, streamed and line by line, and lists them by prefix', async () => {
    await store().put('wf-a/run-1/metrics.jsonl', '{"step":1}\n{"step":2}\n');
    await store().put('wf-a/run-1/eval/batch-00001.jsonl', 'b1\n');
    await store().put('wf-a/run-1/eval/batch-00000.jsonl', 'b0\n');
    await store().put('wf-a/run-10/run.json', '{}');
    expect(await text(store(), 'wf-a/run-1/metrics.jsonl')).toBe('{"step":1}\n{"step":2}\n');
    const lines: unknown[] = [];
    for await (const line of readJsonl(store().source('wf-a/run-1/metrics.jsonl'))) lines.push([line.lineNumber, line.value]);
    expect(lines).toEqual([
      [1, { step: 1 }],
      [2, { step: 2 }],
    ]);
    expect(await store().source('wf-a/run-1/metrics.jsonl').size()).toBe(22);
    expect(await store().exists('wf-a/run-1/metrics.jsonl')).toBe(true);
    expect(await store().exists('wf-a/run-1/nothing.jsonl')).toBe(false);
    expect((await store().list('wf-a/run-1/eval/batch-')).map((e) => e.key)).toEqual(['wf-a/run-1/eval/batch-00000.jsonl', 'wf-a/run-1/eval/batch-00001.jsonl']);
    // A prefix is a string prefix, as S3's: run-1 does not swallow run-10 when asked with its slash.
    expect((await store().list('wf-a/run-1/')).map((e) => e.key)).toEqual([
      'wf-a/run-1/eval/batch-00000.jsonl',
      'wf-a/run-1/eval/batch-00001.jsonl',
      'wf-a/run-1/metrics.jsonl',
    ]);
    await expect(store().read('wf-a/run-1/absent.json')).rejects.toThrow(/absent.json does not exist/);
    expect(store().url('wf-a/run-1/metrics.jsonl')).toBe(kind === 's3' ? 's3://tuneflow-test/runs/wf-a/run-1/metrics.jsonl' : path.join(dir, 'local', 'wf-a', 'run-1', 'metrics.jsonl'));
  });

  it('makes a streamed write visible only on commit, and an aborted one never', async () => {
    await store().put('wf-b/run/split/train.jsonl', 'old\n');
    const writer = await store().writer('wf-b/run/split/train.jsonl');
    await writer.write('new 1\n');
    await writer.write(Buffer.from('new 2\n'));
    expect(await text(store(), 'wf-b/run/split/train.jsonl')).toBe('old\n');
    await writer.commit();
    expect(await text(store(), 'wf-b/run/split/train.jsonl')).toBe('new 1\nnew 2\n');
    const dropped = await store().writer('wf-b/run/split/valid.jsonl');
    await dropped.write('half');
    await dropped.abort();
    expect(await store().exists('wf-b/run/split/valid.jsonl')).toBe(false);
    expect((await store().list('wf-b/')).map((e) => e.key)).toEqual(['wf-b/run/split/train.jsonl']);
  });

  it('streams a local file up in parts and gives it back as a local file', async () => {
    const big = path.join(dir, `${kind}-big.bin`);
    const bytes = Buffer.alloc(2 * MULTIPART_PART_BYTES + 12345);
    for (let i = 0; i < bytes.length; i += 4096) bytes.write(`${i}\n`, i);
    await writeFile(big, bytes);
    let sent = 0;
    await store().putFile('wf-c/run/split/train.jsonl', big, { onProgress: (b) => (sent = b) });
    expect(sent).toBe(bytes.length);
    expect((await store().read('wf-c/run/split/train.jsonl')).equals(bytes)).toBe(true);
    const seen = await withLocalFile(stores[kind], 'wf-c/run/split/train.jsonl', async (file) => ({ file, bytes: await readFile(file) }));
    expect(seen.bytes.equals(bytes)).toBe(true);
    // The local store hands out the object itself; S3's temporary copy is gone once the work is done.
    if (kind === 'local') expect(seen.file).toBe(store().url('wf-c/run/split/train.jsonl'));
    else await expect(readFile(seen.file)).rejects.toThrow(/ENOENT/);
  });

  it('leaves the key absent, never partial, when the writer is killed between write and commit', async () => {
    const env = kind === 's3' ? s3.storeEnv('runs') : { TUNEFLOW_ARTIFACTS_DIR: path.join(dir, 'local'), TUNEFLOW_STORE: '' };
    const key = 'wf-kill/run/eval/results.jsonl';
    const killed = await dieBeforeCommit(env, ['writer', key, String(3 * 1024 * 1024)]);
    expect(killed.signal).toBe('SIGKILL');
    expect(await store().exists(key)).toBe(false);
    expect(await store().list('wf-kill/')).toEqual([]);
    // An earlier whole object stays whole through the same kill.
    await store().put(key, 'whole\n');
    expect((await dieBeforeCommit(env, ['writer', key, String(1024 * 1024)])).signal).toBe('SIGKILL');
    expect(await text(store(), key)).toBe('whole\n');
  }, 60_000);
});

describe('the S3 store', () => {
  it('leaves no object when killed in the middle of a multipart upload', async () => {
    const key = 'wf-multipart/run/split/train.jsonl';
    const killed = await dieBeforeCommit(s3.storeEnv('runs'), ['multipart', key, String(3 * MULTIPART_PART_BYTES), path.join(dir, 'multipart.bin')]);
    expect(killed).toEqual({ signal: 'SIGKILL', stdout: '' });
    expect(await stores.s3.store.exists(key)).toBe(false);
    // The parts that did arrive sit in an unfinished upload, which is no object.
    const client = s3.client();
    try {
      const pending = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: 'runs/wf-multipart/' }));
      expect(pending.Uploads?.map((u) => u.Key)).toEqual([`runs/${key}`]);
    } finally {
      client.destroy();
    }
  }, 60_000);
});

describe('a dataset in S3', () => {
  const uri = 's3://tuneflow-test/datasets/support-conversations.jsonl';

  beforeAll(async () => {
    const client = s3.client();
    try {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'datasets/support-conversations.jsonl', Body: await readFile(SAMPLE_DATASET) }));
      const bad = await readFile('test/fixtures/dataset/bad/missing_content.jsonl');
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'datasets/missing_content.jsonl', Body: bad }));
    } finally {
      client.destroy();
    }
  });

  it('validates with the same figures and content hash as the same file on disk', async () => {
    const options = { model: 'gpt-4o-mini-2024-07-18', validRatio: 0.2, seed: 42 };
    const fromDisk = await validateDatasetFile(SAMPLE_DATASET, options);
    const fromS3 = await validateDatasetFile(referenceSource(stores.local, uri), options);
    expect(fromS3.file).toBe(uri);
    expect({ ...fromS3, file: null }).toEqual({ ...fromDisk, file: null });
    expect(fromS3.valid).toBe(true);
  });

  it('reports the same lines of a bad file as the file on disk, naming the URI', async () => {
    const local = path.resolve('test/fixtures/dataset/bad/missing_content.jsonl');
    const badUri = 's3://tuneflow-test/datasets/missing_content.jsonl';
    const options = { model: 'gpt-4o-mini-2024-07-18' };
    const fromDisk = await validateDatasetFile(local, options);
    const fromS3 = await validateDatasetFile(referenceSource(stores.local, badUri), options);
    expect(fromS3.valid).toBe(false);
    expect(JSON.stringify(fromS3).replaceAll(badUri, 'FILE')).toBe(JSON.stringify(fromDisk).replaceAll(local, 'FILE'));
    await expect(splitDatasetFile(referenceSource(stores.local, badUri), { outDir: path.join(dir, 'bad-split'), seed: 1 })).rejects.toThrow(
      `${badUri} line 8 [missing_content]`,
    );
  });

  it('splits into the store exactly as the file on disk splits', async () => {
    const fromDisk = await splitDatasetFile(SAMPLE_DATASET, { outDir: path.join(dir, 'disk-split'), seed: 42 });
    const store = stores.s3.store as S3Store;
    const fromS3 = await splitDatasetFile(s3ObjectSource(stores.s3.s3(), s3.bucket, 'datasets/support-conversations.jsonl'), {
      store: { store, train: 'wf-split/run/split/train.jsonl', valid: 'wf-split/run/split/valid.jsonl' },
      seed: 42,
    });
    expect(fromS3.train).toEqual({ ...fromDisk.train, path: 'wf-split/run/split/train.jsonl' });
    expect(fromS3.valid).toEqual({ ...fromDisk.valid, path: 'wf-split/run/split/valid.jsonl' });
    expect(fromS3.source.sha256).toBe(fromDisk.source.sha256);
    expect((await store.read('wf-split/run/split/valid.jsonl')).equals(await readFile(fromDisk.valid.path))).toBe(true);
  });

  it('is refused before anything reads it when it lies outside the s3:// data roots, naming them', async () => {
    const rule = { what: 'Dataset', notFoundType: 'DatasetNotFound', roots: [path.resolve('.'), 's3://tuneflow-test/datasets'] };
    // The object exists and the credentials can read it: only the roots stand in the way.
    await s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'datasets-private/secret.jsonl', Body: 'x' }));
    for (const outside of ['s3://tuneflow-test/datasets-private/secret.jsonl', 's3://tuneflow-test/runs/x.jsonl', 's3://other-bucket/datasets/a.jsonl']) {
      await expect(openInputFile(outside, rule, stores.local)).rejects.toMatchObject({ type: 'PathOutsideDataRoots', nonRetryable: true, message: expect.stringContaining('s3://tuneflow-test/datasets') });
    }
    await expect(openInputFile(uri, { ...rule, roots: [path.resolve('.')] }, stores.local)).rejects.toMatchObject({ type: 'PathOutsideDataRoots', message: expect.stringContaining('no s3:// root set') });
    await expect(openInputFile(uri, rule, stores.local)).resolves.toBeDefined();
  });

  it('is refused before anything reads it when it is missing, naming the URI', async () => {
    const rule = { what: 'Dataset', notFoundType: 'DatasetNotFound', roots: ['s3://tuneflow-test/datasets', 's3://no_such/'] };
    await expect(openInputFile('s3://tuneflow-test/datasets/nope.jsonl', rule, stores.local)).rejects.toMatchObject({
      type: 'DatasetNotFound',
      nonRetryable: true,
      message: 'Dataset s3://tuneflow-test/datasets/nope.jsonl does not exist (or its bucket does not)',
    });
    await expect(openInputFile('s3://No_Such/x.jsonl', rule, stores.local)).rejects.toMatchObject({ type: 'InvalidInputUri', nonRetryable: true });
    const unreadable = openStorage({ kind: 'local', dir }, { endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'wrong' } });
    try {
      await expect(openInputFile(uri, rule, unreadable)).rejects.toMatchObject({ type: 'InputAccessDenied', nonRetryable: true });
    } finally {
      unreadable.close();
    }
  });
});

describe('a local store', () => {
  it('never lists a temporary file a killed writer left behind', async () => {
    const store = new LocalStore(path.join(dir, 'litter'));
    await store.put('wf/run/metrics.jsonl', 'x\n');
    await writeFile(`${store.url('wf/run/metrics.jsonl')}~999-deadbeef.tmp`, 'half');
    expect((await store.list('wf/')).map((e) => e.key)).toEqual(['wf/run/metrics.jsonl']);
  });
});
