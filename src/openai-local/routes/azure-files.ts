// Azure's /openai/v1/files: uploads need `expires_after` (the v1 spec requires it); expired files are gone.
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { azureBadRequest } from '../azure-errors';
import { toSec } from '../clock';
import type { BackendContext } from '../context';
import { fileNotFound } from '../errors';
import { newAzureFileId } from '../ids';
import { keepUpload, receiveUpload, type ReceivedUpload } from '../multipart';
import { page, type Query, queryLimit, queryString } from '../query';
import type { FilePurpose, FileRecord } from '../types';

const UPLOAD_PURPOSES = ['fine-tune', 'assistants', 'batch', 'evals'] as const;
/** Bounds of `expires_after.seconds` in Azure's file reference: one hour to 30 days. */
export const MIN_EXPIRY_SECONDS = 3600;
export const MAX_EXPIRY_SECONDS = 2_592_000;

export function azureFileToApi(f: FileRecord): Record<string, unknown> {
  return {
    object: 'file',
    id: f.id,
    bytes: f.bytes,
    created_at: toSec(f.createdAtMs),
    ...(f.expiresAtMs !== undefined ? { expires_at: toSec(f.expiresAtMs) } : {}),
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
  };
}

export function registerAzureFileRoutes(app: FastifyInstance, ctx: BackendContext, prefix: string): void {
  const live = (f: FileRecord | undefined): f is FileRecord => f !== undefined && (f.expiresAtMs === undefined || f.expiresAtMs > ctx.clock.nowMs());
  const liveFile = (id: string): FileRecord => {
    const f = ctx.store.files.get(id);
    if (!live(f)) throw fileNotFound(id);
    return f;
  };

  app.post(`${prefix}/files`, { config: { operationId: 'createFile' } }, async (request) => {
    if (!request.isMultipart()) throw azureBadRequest('Expected a multipart/form-data request with `file`, `purpose` and `expires_after`.', 'file');
    const received: ReceivedUpload = { tmp: null, file: null, fields: {} };
    try {
      await receiveUpload(request, ctx, received);
      const { file, fields } = received;
      if (!file) throw azureBadRequest("Missing required parameter: 'file'.", 'file');
      const purpose = fields.purpose;
      if (purpose === undefined) throw azureBadRequest("Missing required parameter: 'purpose'.", 'purpose');
      if (!(UPLOAD_PURPOSES as readonly string[]).includes(purpose)) {
        throw azureBadRequest(`'${purpose}' is not one of ${JSON.stringify(UPLOAD_PURPOSES)} - 'purpose'`, 'purpose');
      }
      const anchor = fields['expires_after[anchor]'];
      const rawSeconds = fields['expires_after[seconds]'];
      if (anchor === undefined || rawSeconds === undefined) {
        throw azureBadRequest("Missing required parameter: 'expires_after' (with 'anchor' and 'seconds').", 'expires_after');
      }
      if (anchor !== 'created_at') throw azureBadRequest(`Invalid 'expires_after.anchor': '${anchor}'; the only anchor is 'created_at'.`, 'expires_after.anchor');
      const seconds = Number(rawSeconds);
      if (!Number.isInteger(seconds) || seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS) {
        throw azureBadRequest(`Invalid 'expires_after.seconds': must be between ${MIN_EXPIRY_SECONDS} (1 hour) and ${MAX_EXPIRY_SECONDS} (30 days).`, 'expires_after.seconds');
      }
      if (purpose === 'fine-tune' && !file.filename.toLowerCase().endsWith('.jsonl')) {
        throw azureBadRequest('Invalid file format for fine-tuning. The file must be JSONL (.jsonl).', 'file');
      }
      const createdAtMs = ctx.clock.nowMs();
      const rec: FileRecord = {
        id: newAzureFileId(),
        seq: ctx.store.nextSeq(),
        bytes: file.bytes,
        createdAtMs,
        expiresAtMs: createdAtMs + seconds * 1000,
        filename: file.filename,
        purpose: purpose as FilePurpose,
      };
      await keepUpload(ctx, received, rec);
      ctx.log.info({ fileId: rec.id, bytes: rec.bytes, purpose: rec.purpose, expiresInSeconds: seconds }, 'file uploaded');
      return azureFileToApi(rec);
    } finally {
      if (received.tmp) await rm(received.tmp, { force: true });
    }
  });

  app.get(`${prefix}/files`, { config: { operationId: 'listFiles' } }, async (request) => {
    const q = request.query as Query;
    const purpose = queryString(q, 'purpose');
    const limit = queryLimit(q, 10_000, 10_000);
    const files = [...ctx.store.files.values()].filter((f) => live(f) && (purpose === undefined || f.purpose === purpose)).sort((a, b) => b.seq - a.seq);
    const { data, hasMore } = page(files, (f) => f.id, queryString(q, 'after'), limit);
    return { object: 'list', data: data.map(azureFileToApi), first_id: data[0]?.id ?? '', last_id: data[data.length - 1]?.id ?? '', has_more: hasMore };
  });

  app.get<{ Params: { file_id: string } }>(`${prefix}/files/:file_id`, { config: { operationId: 'retrieveFile' } }, async (request) =>
    azureFileToApi(liveFile(request.params.file_id)),
  );

  app.get<{ Params: { file_id: string } }>(`${prefix}/files/:file_id/content`, { config: { operationId: 'downloadFile' } }, async (request, reply) => {
    const f = liveFile(request.params.file_id);
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-length', String(f.bytes));
    return reply.send(createReadStream(ctx.store.blobPath(f.id)));
  });

  app.delete<{ Params: { file_id: string } }>(`${prefix}/files/:file_id`, { config: { operationId: 'deleteFile' } }, async (request) => {
    const { id } = liveFile(request.params.file_id);
    await ctx.store.deleteFile(id);
    ctx.log.info({ fileId: id }, 'file deleted');
    return { id, object: 'file', deleted: true };
  });
}
