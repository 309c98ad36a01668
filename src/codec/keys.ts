import { createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A key id travels in clear in payload metadata: a name, never derived from the key. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
export const KEY_BYTES = 32;

export class CodecKeyConfigError extends Error {}

/**
 * The payload encryption keys a process holds: the first encrypts, every one decrypts. Key bytes live
 * only in KeyObjects, which print and serialise as `{}`, so a logged config never shows them.
 */
export class CodecKeyring {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  /** The id new payloads are encrypted with. */
  readonly currentId: string;

  constructor(keys: ReadonlyArray<{ id: string; key: KeyObject }>) {
    const first = keys[0];
    if (!first) throw new CodecKeyConfigError('a codec keyring needs at least one key');
    this.currentId = first.id;
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  key(id: string): KeyObject | undefined {
    return this.#keys.get(id);
  }

  /** Shown instead of the keys by console.log and util.inspect. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `CodecKeyring { current: ${this.currentId}, ids: [${this.ids.join(', ')}] }`;
  }

  toJSON(): { currentId: string; ids: string[] } {
    return { currentId: this.currentId, ids: this.ids };
  }
}

/**
 * `<id>:<base64 of 32 bytes>` entries, the current key first: comma-separated in TUNEFLOW_CODEC_KEYS,
 * one per line in TUNEFLOW_CODEC_KEY_FILE (blank lines and `#` comments skipped). Errors name the
 * variable or the file and line, and the key id, never the key.
 */
export function parseCodecKeys(entries: Array<{ text: string; where: string }>): CodecKeyring {
  const keys: Array<{ id: string; key: KeyObject }> = [];
  for (const { text, where } of entries) {
    const colon = text.indexOf(':');
    if (colon < 0) throw new CodecKeyConfigError(`${where}: expected <key id>:<base64 key>`);
    const id = text.slice(0, colon).trim();
    const encoded = text.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) throw new CodecKeyConfigError(`${where}: the key id must be 1 to 64 letters, digits, '.', '_' or '-'`);
    if (keys.some((k) => k.id === id)) throw new CodecKeyConfigError(`${where}: key id ${id} is given twice`);
    const bytes = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : null;
    if (!bytes || bytes.length !== KEY_BYTES) {
      throw new CodecKeyConfigError(`${where}: key ${id} must be ${KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
    }
    keys.push({ id, key: createSecretKey(bytes) });
    bytes.fill(0);
  }
  if (keys.length === 0) throw new CodecKeyConfigError(`${entries.length === 0 ? 'the codec key setting' : entries[0]?.where}: no keys`);
  return new CodecKeyring(keys);
}

/** The keyring from TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE (not both); undefined when neither is set. */
export function loadCodecKeys(opts: { keys?: string | undefined; keyFile?: string | undefined }): CodecKeyring | undefined {
  if (opts.keys && opts.keyFile) throw new CodecKeyConfigError('set TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE, not both');
  if (opts.keys) {
    const parts = opts.keys.split(',').map((p) => p.trim());
    return parseCodecKeys(parts.map((text, i) => ({ text, where: `TUNEFLOW_CODEC_KEYS entry ${i + 1}` })));
  }
  if (opts.keyFile) {
    let content: string;
    try {
      content = readFileSync(opts.keyFile, 'utf8');
    } catch (err) {
      throw new CodecKeyConfigError(`TUNEFLOW_CODEC_KEY_FILE: cannot read ${opts.keyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const lines = content.split(/\r?\n/).flatMap((line, i) => {
      const text = line.trim();
      return text === '' || text.startsWith('#') ? [] : [{ text, where: `${opts.keyFile}:${i + 1}` }];
    });
    if (lines.length === 0) throw new CodecKeyConfigError(`TUNEFLOW_CODEC_KEY_FILE: ${opts.keyFile} holds no keys (one <key id>:<base64 key> per line, the current key first)`);
    return parseCodecKeys(lines);
  }
  return undefined;
}
