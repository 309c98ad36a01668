import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertStoreKey } from './keys';
import { StoreObjectNotFoundError, type ArtifactStore, type ByteSource, type LocalCopy, type ObjectWriter, type PutFileOptions, type StoreEntry } from './types';

const READ_CHUNK_BYTES = 1024 * 1024;

/** A file on this machine as a ByteSource. */
export function localFileSource(file: string): ByteSource {
  return {
    name: file,
    size: async () => (await stat(file)).size,
    open: () => createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>,
  };
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** `~` never appears in a key, so a temporary name can never be taken for an object. */
function tempNameFor(file: string): string {
  return `${file}~${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

/** Writes into a temporary file beside the target and renames it over the target on commit. */
export async function localFileWriter(file: string): Promise<ObjectWriter> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = tempNameFor(file);
  const stream = createWriteStream(tmp, { mode: 0o600 });
  let failure: Error | null = null;
  stream.on('error', (err) => {
    failure = err;
  });
  await once(stream, 'open');
  return {
    async write(data) {
      if (failure) throw failure;
      if (!stream.write(data)) await once(stream, 'drain');
    },
    async commit() {
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
      if (failure) throw failure;
      await rename(tmp, file);
    },
    async abort() {
      stream.destroy();
      await rm(tmp, { force: true });
    },
  };
}

/** A folder on this machine (the default: `$TUNEFLOW_HOME/artifacts`); files are the owner's only. */
export class LocalStore implements ArtifactStore {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(dir: string) {
    this.root = path.resolve(dir);
  }

  url(key: string): string {
    return path.join(this.root, ...assertStoreKey(key).split('/'));
  }

  async put(key: string, data: Buffer | string): Promise<void> {
    const file = this.url(key);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = tempNameFor(file);
    try {
      await writeFile(tmp, data, { mode: 0o600 });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async putFile(key: string, source: string, options: PutFileOptions = {}): Promise<void> {
    const file = this.url(key);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = tempNameFor(file);
    try {
      await copyFile(source, tmp);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    options.onProgress?.((await stat(file)).size);
  }

  writer(key: string): Promise<ObjectWriter> {
    return localFileWriter(this.url(key));
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.url(key));
    } catch (err) {
      if (isMissing(err)) throw new StoreObjectNotFoundError(key, this.url(key));
      throw err;
    }
  }

  source(key: string): ByteSource {
    const file = this.url(key);
    const notFound = (err: unknown) => (isMissing(err) ? new StoreObjectNotFoundError(key, file) : err);
    return {
      name: file,
      size: () => stat(file).then((s) => s.size, (err: unknown) => Promise.reject(notFound(err))),
      open: async function* () {
        try {
          yield* createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>;
        } catch (err) {
          throw notFound(err);
        }
      },
    };
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.url(key))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<StoreEntry[]> {
    const cut = prefix.lastIndexOf('/');
    const base = cut === -1 ? '' : prefix.slice(0, cut);
    const dir = base === '' ? this.root : this.url(base);
    let names: string[];
    try {
      names = (await readdir(dir, { recursive: true })).map(String);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const out: StoreEntry[] = [];
    for (const name of names) {
      const key = [base, ...name.split(path.sep)].filter((s) => s !== '').join('/');
      if (!key.startsWith(prefix) || key.includes('~')) continue;
      const info = await stat(path.join(dir, name)).catch(() => null);
      if (info?.isFile()) out.push({ key, size: info.size, modified: info.mtime });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async localCopy(key: string): Promise<LocalCopy> {
    const file = this.url(key);
    if (!(await this.exists(key))) throw new StoreObjectNotFoundError(key, file);
    return { path: file, release: async () => undefined };
  }

  close(): void {}
}
