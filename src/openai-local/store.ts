// Persistence under stateDir: JSON records written atomically (temp + rename), file contents as blobs.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClockState } from './clock';
import type { DeploymentRecord, Example, FileRecord, JobRecord } from './types';

// Uploaded datasets and job records are the user's data: readable by the owner only.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export class Store {
  readonly files = new Map<string, FileRecord>();
  readonly jobs = new Map<string, JobRecord>();
  /** ARM deployments of the Azure dialect, by name. */
  readonly deployments = new Map<string, DeploymentRecord>();
  private seq = 0;
  private tmpCounter = 0;
  /** Per-path write chains, so two writes of one record land in the order they were issued. */
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<Store> {
    const store = new Store(dir);
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    for (const sub of ['files', 'blobs', 'jobs', 'examples', 'deployments', 'tmp']) await mkdir(join(dir, sub), { recursive: true, mode: DIR_MODE });
    // Leftover temp files of a crash are garbage; the records they were meant to replace are still intact.
    await rm(join(dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(dir, 'tmp'), { recursive: true, mode: DIR_MODE });
    for (const rec of await readJsonDir<FileRecord>(join(dir, 'files'))) store.files.set(rec.id, rec);
    for (const rec of await readJsonDir<JobRecord>(join(dir, 'jobs'))) store.jobs.set(rec.id, rec);
    for (const rec of await readJsonDir<DeploymentRecord>(join(dir, 'deployments'))) store.deployments.set(rec.name, rec);
    for (const r of [...store.files.values(), ...store.jobs.values(), ...store.deployments.values()]) store.seq = Math.max(store.seq, r.seq);
    return store;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  blobPath(fileId: string): string {
    return join(this.dir, 'blobs', fileId);
  }

  /** A temp path inside stateDir (same filesystem, so rename into place is atomic). */
  tempPath(): string {
    return join(this.dir, 'tmp', `${process.pid}-${Date.now()}-${++this.tmpCounter}`);
  }

  async readClock(): Promise<ClockState | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'clock.json'), 'utf8')) as ClockState;
    } catch {
      return undefined;
    }
  }

  writeClock(state: ClockState): Promise<void> {
    return this.writeJson(join(this.dir, 'clock.json'), state);
  }

  async putFile(rec: FileRecord): Promise<void> {
    this.files.set(rec.id, rec);
    await this.writeJson(join(this.dir, 'files', `${rec.id}.json`), rec);
  }

  /** Creates a file record with the given content in one go (small generated files such as result CSVs). */
  async putFileWithContent(rec: FileRecord, content: string): Promise<void> {
    const tmp = this.tempPath();
    await writeFile(tmp, content, { mode: FILE_MODE });
    await rename(tmp, this.blobPath(rec.id));
    await this.putFile(rec);
  }

  async deleteFile(id: string): Promise<void> {
    this.files.delete(id);
    await this.enqueue(join(this.dir, 'files', `${id}.json`), async (path) => rm(path, { force: true }));
    await rm(this.blobPath(id), { force: true });
  }

  async putJob(rec: JobRecord): Promise<void> {
    this.jobs.set(rec.id, rec);
    await this.writeJson(join(this.dir, 'jobs', `${rec.id}.json`), rec);
  }

  async putDeployment(rec: DeploymentRecord): Promise<void> {
    this.deployments.set(rec.name, rec);
    await this.writeJson(join(this.dir, 'deployments', `${encodeURIComponent(rec.name)}.json`), rec);
  }

  async deleteDeployment(name: string): Promise<void> {
    this.deployments.delete(name);
    await this.enqueue(join(this.dir, 'deployments', `${encodeURIComponent(name)}.json`), async (path) => rm(path, { force: true }));
  }

  async putExamples(jobId: string, examples: Example[]): Promise<void> {
    await this.writeJson(join(this.dir, 'examples', `${jobId}.json`), examples);
  }

  async readExamples(jobId: string): Promise<Example[]> {
    return JSON.parse(await readFile(join(this.dir, 'examples', `${jobId}.json`), 'utf8')) as Example[];
  }

  openBlobWriter(tmpPath: string): WriteStream {
    return createWriteStream(tmpPath, { mode: FILE_MODE });
  }

  /** Waits for every write issued so far. */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  private writeJson(path: string, value: unknown): Promise<void> {
    // Serialise now: later mutations of the record must not leak into this write.
    const text = JSON.stringify(value);
    return this.enqueue(path, async (target) => {
      const tmp = this.tempPath();
      await writeFile(tmp, text, { mode: FILE_MODE });
      await rename(tmp, target);
    });
  }

  private enqueue(path: string, op: (path: string) => Promise<unknown>): Promise<void> {
    const prev = this.writes.get(path) ?? Promise.resolve();
    const next = prev.then(async () => {
      await op(path);
    });
    const tracked = next.catch(() => undefined);
    this.writes.set(path, tracked);
    void tracked.then(() => {
      if (this.writes.get(path) === tracked) this.writes.delete(path);
    });
    return next;
  }
}

async function readJsonDir<T>(dir: string): Promise<T[]> {
  const out: T[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as T);
    } catch {
      // A record that cannot be parsed was never completely written (rename is atomic), so skip it.
    }
  }
  return out;
}
