// Identifiers shaped like OpenAI's (prefix + base62), random for stored objects, derived for computed ones.
import { createHash, randomBytes } from 'node:crypto';
import { hash32 } from './random';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(bytes: Uint8Array, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i % bytes.length] ?? 0) % 62];
  return out;
}

/** Random id for stored objects (uniqueness across restarts matters more than determinism here). */
export function randomId(prefix: string, length = 24): string {
  return prefix + base62(randomBytes(length), length);
}

/** Id derived from a key: the same key always yields the same id (events, checkpoints, result files). */
export function derivedId(prefix: string, key: string, length = 24): string {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const h = hash32(`${key}#${i}`);
    bytes[i] = h & 0xff;
    if (i + 1 < length) bytes[i + 1] = (h >>> 8) & 0xff;
    if (i + 2 < length) bytes[i + 2] = (h >>> 16) & 0xff;
    if (i + 3 < length) bytes[i + 3] = (h >>> 24) & 0xff;
  }
  return prefix + base62(bytes, length);
}

export const newFileId = (): string => randomId('file-', 22);
export const newJobId = (): string => randomId('ftjob-', 24);
export const newChatId = (): string => randomId('chatcmpl-', 29);
export const eventId = (jobId: string, key: string): string => derivedId('ftevent-', `${jobId}:${key}`, 24);
export const checkpointId = (jobId: string, step: number): string => derivedId('ftckpt_', `${jobId}:ckpt:${step}`, 24);
export const resultFileId = (jobId: string): string => derivedId('file-', `${jobId}:result`, 22);
/** The 8-character tail OpenAI puts at the end of fine-tuned model names. */
export const modelShortId = (jobId: string): string => derivedId('', `${jobId}:model`, 8);

/** 32 lowercase hex digits, the tail of Azure's ids (`ftjob-…`, `file-…`, `ftchkpt-…`, `<base>.ft-…`). */
export const randomHex32 = (): string => randomBytes(16).toString('hex');
export const derivedHex32 = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 32);
export const newAzureFileId = (): string => `file-${randomHex32()}`;
export const newAzureJobId = (): string => `ftjob-${randomHex32()}`;
export const azureResultFileId = (jobId: string): string => `file-${derivedHex32(`${jobId}:result`)}`;
export const azureCheckpointId = (jobId: string, step: number): string => `ftchkpt-${derivedHex32(`${jobId}:ckpt:${step}`)}`;
export const azureEventId = (jobId: string, key: string): string => `ftevent-${derivedHex32(`${jobId}:${key}`)}`;
