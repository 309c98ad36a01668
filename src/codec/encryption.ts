import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils.js';
import { PayloadKeyError } from './errors';
import type { CodecKeyring } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && fromUtf8.decode(encoding) === ENCRYPTED_ENCODING;
}

export function payloadKeyId(payload: Payload): string | undefined {
  const id = payload.metadata?.[KEY_ID_METADATA];
  return id ? fromUtf8.decode(id) : undefined;
}

/**
 * AES-256-GCM over the whole payload (its metadata too: the converter's encoding says what the data is).
 * The key id rides in clear metadata and is bound in as additional data, so keys can rotate: encrypt
 * with the current key, decrypt with whichever the payload names. Without a keyring it encrypts
 * nothing and explains, instead of failing to parse, a payload it cannot read.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: CodecKeyring | undefined) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyring = this.keyring;
    if (!keyring) return payloads;
    const id = keyring.currentId;
    const key = keyring.key(id);
    if (!key) throw new Error(`codec key ${id} is missing from its own keyring`);
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(utf8.encode(id));
      const plain = utf8.encode(JSON.stringify(payloadToJSON(payload)));
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) }, data: new Uint8Array(data) };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private decrypt(payload: Payload): Payload {
    const id = payloadKeyId(payload);
    if (id === undefined) throw new PayloadKeyError(`An encrypted payload carries no ${KEY_ID_METADATA}: it was not written by tuneflow's codec.`, '');
    const key = this.keyring?.key(id);
    if (!key) {
      const held = this.keyring ? `the keys this process holds are ${this.keyring.ids.join(', ')}` : 'this process holds no codec keys';
      throw new PayloadKeyError(
        `A payload is encrypted with codec key ${id}, and ${held}: add key ${id} to TUNEFLOW_CODEC_KEYS or TUNEFLOW_CODEC_KEY_FILE to read it.`,
        id,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadKeyError(`A payload encrypted with codec key ${id} is truncated (${data.length} bytes).`, id);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8.encode(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadKeyError(
        `A payload encrypted with codec key ${id} does not decrypt with the key named ${id} here: the key's bytes differ from the ones it was encrypted with (or the payload was altered).`,
        id,
      );
    }
    return JSONToPayload(JSON.parse(plain.toString('utf8')) as Parameters<typeof JSONToPayload>[0]);
  }
}
