// /v1/files: multipart upload streamed to disk, list with paging, retrieve, content, delete.
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { BackendContext } from '../context';
import { badRequest, fileNotFound } from '../errors';
import { newFileId } from '../ids';
import { page, type Query, queryLimit, queryString } from '../query';
import { keepUpload, receiveUpload, type ReceivedUpload } from '../multipart';
import type { FilePurpose, FileRecord } from '../types';
import { toSec } from '../clock';

const UPLOAD_PURPOSES: FilePurpose[] = ['fine-tune', 'assistants', 'batch', 'vision', 'user_data'];

export function fileToApi(f: FileRecord): Record<string, unknown> {
  return { object: 'file', id: f.id, bytes: f.bytes, created_at: toSec(f.createdAtMs), filename: f.filename, purpose: f.purpose, status: 'processed' };
}

export function registerFileRoutes(app: FastifyInstance, ctx: BackendContext): void {
  app.post('/v1/files', { config: { operationId: 'createFile' } }, async (request) => {
    if (!request.isMultipart()) throw badRequest('Expected a multipart/form-data request with a `file` and a `purpose`.', 'file');
    // Owned temp file: renamed into place on success, removed on any failure (including a too-large upload).
    const received: ReceivedUpload = { tmp: null, file: null, fields: {} };
    try {
      await receiveUpload(request, ctx, received);
      const upload = received.file;
      const purpose = received.fields.purpose;
      if (!upload) throw badRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
      if (purpose === undefined) throw badRequest("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
      if (!UPLOAD_PURPOSES.includes(purpose as FilePurpose)) {
        throw badRequest(`'${purpose}' is not one of ${JSON.stringify(UPLOAD_PURPOSES)} - 'purpose'`, 'purpose', 'invalid_value');
      }
      if (purpose === 'fine-tune' && !upload.filename.toLowerCase().endsWith('.jsonl')) {
        throw badRequest('Invalid file format for Fine-Tuning API. Must be .jsonl', 'file', 'invalid_file_format');
      }
      const rec: FileRecord = {
        id: newFileId(),
        seq: ctx.store.nextSeq(),
        bytes: upload.bytes,
        createdAtMs: ctx.clock.nowMs(),
        filename: upload.filename,
        purpose: purpose as FilePurpose,
      };
      await keepUpload(ctx, received, rec);
      ctx.log.info({ fileId: rec.id, bytes: rec.bytes, purpose: rec.purpose }, 'file uploaded');
      return fileToApi(rec);
    } finally {
      if (received.tmp) await rm(received.tmp, { force: true });
    }
  });

  app.get('/v1/files', { config: { operationId: 'listFiles' } }, async (request) => {
    const q = request.query as Query;
    const purpose = queryString(q, 'purpose');
    const order = queryString(q, 'order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw badRequest(`Invalid 'order': expected 'asc' or 'desc'.`, 'order', 'invalid_value');
    const limit = queryLimit(q, 10_000, 10_000);
    const files = [...ctx.store.files.values()]
      .filter((f) => purpose === undefined || f.purpose === purpose)
      .sort((a, b) => (order === 'asc' ? a.seq - b.seq : b.seq - a.seq));
    const { data, hasMore } = page(files, (f) => f.id, queryString(q, 'after'), limit);
    return { object: 'list', data: data.map(fileToApi), first_id: data[0]?.id ?? '', last_id: data[data.length - 1]?.id ?? '', has_more: hasMore };
  });

  app.get<{ Params: { file_id: string } }>('/v1/files/:file_id', { config: { operationId: 'retrieveFile' } }, async (request) => {
    const f = ctx.store.files.get(request.params.file_id);
    if (!f) throw fileNotFound(request.params.file_id);
    return fileToApi(f);
  });

  app.get<{ Params: { file_id: string } }>('/v1/files/:file_id/content', { config: { operationId: 'downloadFile' } }, async (request, reply) => {
    const f = ctx.store.files.get(request.params.file_id);
    if (!f) throw fileNotFound(request.params.file_id);
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-length', String(f.bytes));
    return reply.send(createReadStream(ctx.store.blobPath(f.id)));
  });

  app.delete<{ Params: { file_id: string } }>('/v1/files/:file_id', { config: { operationId: 'deleteFile' } }, async (request) => {
    const id = request.params.file_id;
    if (!ctx.store.files.has(id)) throw fileNotFound(id);
    await ctx.store.deleteFile(id);
    ctx.log.info({ fileId: id }, 'file deleted');
    return { id, object: 'file', deleted: true };
  });
}
