import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptionCodec, isEncrypted, payloadKeyId } from '../../src/codec/encryption';
import { PayloadKeyError } from '../../src/codec/errors';
import { loadCodecKeys } from '../../src/codec/keys';
import { loadConfig } from '../../src/config';

const KEY_2025 = randomBytes(32).toString('base64');
const KEY_2026 = randomBytes(32).toString('base64');
const INPUT = { datasetPath: '/data/secret-customers.jsonl', model: 'gpt-4o-mini-2024-07-18' };
const toPayload = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);
const fromPayload = (p: Payload | undefined): unknown => defaultPayloadConverter.fromPayload(p as Payload);
const text = (p: Payload): string => Buffer.from(JSON.stringify(p, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))).toString();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-codec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codecError(p: Promise<unknown>): Promise<PayloadKeyError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PayloadKeyError);
  return err as PayloadKeyError;
}

describe('payload encryption codec', () => {
  it('round-trips a payload, its metadata included, and stores neither in clear', async () => {
    const codec = new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}` }));
    const [encrypted] = await codec.encode([toPayload(INPUT)]);
    expect(encrypted && isEncrypted(encrypted)).toBe(true);
    expect(payloadKeyId(encrypted!)).toBe('k2026');
    expect(text(encrypted!)).not.toContain('secret-customers');
    expect(text(encrypted!)).not.toContain('json/plain');
    const [decoded] = await codec.decode([encrypted!]);
    expect(fromPayload(decoded)).toEqual(INPUT);
  });

  it('encrypts the same value differently each time (a fresh nonce per payload)', async () => {
    const codec = new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}` }));
    const [a, b] = await codec.encode([toPayload(INPUT), toPayload(INPUT)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('rotates keys: encrypts with the first key, decrypts what an older key wrote', async () => {
    const before = new EncryptionCodec(loadCodecKeys({ keys: `k2025:${KEY_2025}` }));
    const after = new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}, k2025:${KEY_2025}` }));
    const [old] = await before.encode([toPayload(INPUT)]);
    const [fresh] = await after.encode([toPayload(INPUT)]);
    expect(payloadKeyId(fresh!)).toBe('k2026');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map(fromPayload)).toEqual([INPUT, INPUT]);
    // Once the old key is retired, what it wrote names it.
    const retired = await codecError(new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}` })).decode([old!]));
    expect(retired.keyId).toBe('k2025');
    expect(retired.message).toContain('encrypted with codec key k2025, and the keys this process holds are k2026');
  });

  it('passes clear payloads through on decode, so runs started before the codec still read', async () => {
    const codec = new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}` }));
    const [decoded] = await codec.decode([toPayload(INPUT)]);
    expect(fromPayload(decoded)).toEqual(INPUT);
  });

  it('without keys, encrypts nothing and names the key an encrypted payload needs', async () => {
    const [encrypted] = await new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}` })).encode([toPayload(INPUT)]);
    const none = new EncryptionCodec(undefined);
    expect(fromPayload((await none.encode([toPayload(INPUT)]))[0])).toEqual(INPUT);
    const err = await codecError(none.decode([encrypted!]));
    expect(err.message).toBe(
      'A payload is encrypted with codec key k2026, and this process holds no codec keys: add key k2026 to TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE to read it.',
    );
  });

  it('says which key id did not match when a key of the same name has other bytes, and when a payload was altered', async () => {
    const [encrypted] = await new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}` })).encode([toPayload(INPUT)]);
    const impostor = new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2025}` }));
    expect((await codecError(impostor.decode([encrypted!]))).message).toContain('does not decrypt with the key named k2026 here');
    const codec = new EncryptionCodec(loadCodecKeys({ keys: `k2026:${KEY_2026}, k2025:${KEY_2025}` }));
    const data = Buffer.from(encrypted!.data!);
    data[20] = (data[20] ?? 0) ^ 1;
    await codecError(codec.decode([{ ...encrypted!, data }]));
    // The key id is bound to the ciphertext: relabelling a payload with another held key fails too.
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, 'encryption-key-id': new TextEncoder().encode('k2025') } };
    expect((await codecError(codec.decode([relabelled]))).keyId).toBe('k2025');
  });
});

describe('codec keys', () => {
  it('reads a key file, the first key current, comments and blank lines skipped', async () => {
    const file = path.join(dir, 'keys');
    await writeFile(file, `# rotated 2026-11\n\nk2026:${KEY_2026}\nk2025:${KEY_2025}\n`);
    const ring = loadCodecKeys({ keyFile: file });
    expect(ring?.currentId).toBe('k2026');
    expect(ring?.ids).toEqual(['k2026', 'k2025']);
  });

  it.each([
    ['a key id given twice', { keys: `k1:${KEY_2026},k1:${KEY_2025}` }, 'TUNEFLOW_CODEC_KEYS entry 2: key id k1 is given twice'],
    ['a short key', { keys: `k1:${KEY_2026.slice(0, 20)}` }, 'TUNEFLOW_CODEC_KEYS entry 1: key k1 must be 32 random bytes in base64'],
    ['a key without id', { keys: KEY_2026 }, 'TUNEFLOW_CODEC_KEYS entry 1: expected <key id>:<base64 key>'],
    ['a bad key id', { keys: `bad id:${KEY_2026}` }, "TUNEFLOW_CODEC_KEYS entry 1: the key id must be 1 to 64 letters, digits, '.', '_' or '-'"],
    ['both sources', { keys: `k1:${KEY_2026}`, keyFile: '/x' }, 'set TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE, not both'],
    ['a missing key file', { keyFile: '/nonexistent/keys' }, 'TUNEFLOW_CODEC_KEY_FILE: cannot read /nonexistent/keys (ENOENT)'],
  ])('refuses %s with a message naming where, never the key', (_label, opts, message) => {
    let thrown: Error | undefined;
    try {
      loadCodecKeys(opts);
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toContain(message);
    expect(thrown?.message).not.toContain(KEY_2026.slice(0, 12));
  });

  it('names the file and line of a bad key in a key file', async () => {
    const file = path.join(dir, 'bad-keys');
    await writeFile(file, `k2026:${KEY_2026}\n# old\nk2025:not-base64!\n`);
    expect(() => loadCodecKeys({ keyFile: file })).toThrow(`${file}:3: key k2025 must be 32 random bytes in base64`);
  });

  it('never shows key bytes when the config is logged, printed or serialised', () => {
    const config = loadConfig({ TUNEFLOW_CODEC_KEYS: `k2026:${KEY_2026},k2025:${KEY_2025}` });
    const shown = [JSON.stringify(config), inspect(config, { depth: 10, showHidden: true }), String(config.codec)].join('\n');
    expect(shown).toContain('k2026');
    for (const key of [KEY_2026, KEY_2025]) {
      expect(shown).not.toContain(key);
      expect(shown).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    }
  });
});
