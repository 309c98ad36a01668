// Temporal's remote codec protocol: POST /encode and /decode with {"payloads": [...]} (proto JSON) both ways.
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { JSONToPayload, payloadToJSON, type JSONPayload } from '@temporalio/common/lib/proto-utils.js';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { EncryptionCodec, isEncrypted, payloadKeyId } from './encryption';
import { findPayloadKeyError } from './errors';
import type { CodecKeyring } from './keys';

export interface CodecServerOptions {
  keyring: CodecKeyring;
  host?: string;
  /** 0: any free port. */
  port: number;
  /** Browser origins allowed to call it (the Temporal UI's), e.g. `http://127.0.0.1:8233`. */
  allowedOrigins: string[];
  /** When set, every /encode and /decode must carry `Authorization: Bearer <token>`. */
  token?: string | undefined;
  logger: Logger;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';
/** A history page decodes in one request; Temporal's payloads are at most 2 MB each. */
const BODY_LIMIT = 16 * 1024 * 1024;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function payloadsOf(body: unknown): JSONPayload[] | null {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { payloads?: unknown }).payloads)) return null;
  const payloads = (body as { payloads: unknown[] }).payloads;
  return payloads.every((p) => typeof p === 'object' && p !== null) ? (payloads as JSONPayload[]) : null;
}

/**
 * Lets the Temporal UI (and `temporal workflow show --codec-endpoint`) show decrypted payloads to whoever
 * can reach it: keep it on a private network or set a token. A payload under a key it does not hold is
 * returned as it came, with a warning naming the key id, so one old key never blanks a whole page.
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const codec = new EncryptionCodec(opts.keyring);
  const log = opts.logger;
  const origins = new Set(opts.allowedOrigins.map((o) => new URL(o).origin));
  const app = Fastify({ loggerInstance: log.child({ component: 'codec-server' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: BODY_LIMIT });

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && origins.has(origin)) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Vary', 'Origin');
      reply.header('Access-Control-Allow-Credentials', 'true');
    }
    if (request.method === 'OPTIONS') {
      reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
      reply.header('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      reply.header('Access-Control-Max-Age', '600');
      return reply.code(204).send();
    }
    if (opts.token !== undefined) {
      const auth = request.headers.authorization ?? '';
      const given = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      if (!given || !sameSecret(given, opts.token)) return reply.code(401).send({ error: 'unauthorized: send Authorization: Bearer <token>' });
    }
    return undefined;
  });

  const route = (name: 'encode' | 'decode') =>
    app.post(`/${name}`, async (request, reply) => {
      const json = payloadsOf(request.body);
      if (!json) return reply.code(400).send({ error: 'expected a JSON body {"payloads": [...]}' });
      let payloads: Payload[];
      try {
        payloads = json.map((p) => JSONToPayload(p));
      } catch (err) {
        return reply.code(400).send({ error: `not Temporal payloads: ${err instanceof Error ? err.message : String(err)}` });
      }
      const out = name === 'encode' ? await codec.encode(payloads) : await Promise.all(payloads.map((p) => decodeOrKeep(p)));
      return { payloads: out.map((p) => payloadToJSON(p)) };
    });

  async function decodeOrKeep(payload: Payload): Promise<Payload> {
    try {
      const [decoded] = await codec.decode([payload]);
      return decoded ?? payload;
    } catch (err) {
      const keyError = findPayloadKeyError(err);
      if (!keyError && !isEncrypted(payload)) throw err;
      log.warn({ keyId: keyError?.keyId ?? payloadKeyId(payload) ?? null }, keyError?.message ?? 'a payload could not be decrypted');
      return payload;
    }
  }

  route('encode');
  route('decode');
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port });
  const { address, port } = app.server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
