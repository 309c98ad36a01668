// Validates backend responses against the providers' specs (OpenAPI 3 and Swagger 2.0) with ajv; OpenAI's by default.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const SPEC_PATH = process.env.OPENAI_OPENAPI_SPEC ?? '/work/shared/openai-openapi/openapi.yaml';
export const TOGETHER_SPEC_PATH = process.env.TOGETHER_OPENAPI_SPEC ?? '/work/shared/provider-specs/together/openapi.yaml';

/** The operations the local backend implements, by OpenAPI operationId. */
export const BACKEND_OPERATIONS = [
  'createFile',
  'listFiles',
  'retrieveFile',
  'downloadFile',
  'deleteFile',
  'createFineTuningJob',
  'listPaginatedFineTuningJobs',
  'retrieveFineTuningJob',
  'cancelFineTuningJob',
  'pauseFineTuningJob',
  'resumeFineTuningJob',
  'listFineTuningEvents',
  'listFineTuningJobCheckpoints',
  'createChatCompletion',
  'listModels',
  'retrieveModel',
] as const;

/**
 * The Together operations the together dialect implements. Most have no operationId in Together's spec,
 * so they are named `<METHOD> <spec path>`.
 */
export const TOGETHER_BACKEND_OPERATIONS = [
  'POST /files/upload',
  'GET /files',
  'GET /files/{id}',
  'DELETE /files/{id}',
  'POST /fine-tunes',
  'GET /fine-tunes',
  'GET /fine-tunes/{id}',
  'POST /fine-tunes/{id}/cancel',
  'GET /fine-tunes/{id}/events',
  'GET /fine-tunes/{id}/checkpoints',
  'GET /fine-tunes/{id}/metrics',
  'createEndpoint',
  'listEndpoints',
  'getEndpoint',
  'deleteEndpoint',
  'chat-completions',
] as const;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface Operation {
  operationId: string;
  method: string;
  path: string;
  pattern: RegExp;
  /** Normalised response schemas by status (or `default`); null: the answer has no body. */
  responses: Record<string, Json | null>;
}

export interface ContractResult {
  valid: boolean;
  errors: string[];
}

/** YAML parsing takes seconds; cache the parsed spec as JSON keyed by the spec's path, size and mtime. */
export function loadSpec(specPath: string = SPEC_PATH): JsonObject {
  if (specPath.endsWith('.json')) return JSON.parse(readFileSync(specPath, 'utf8')) as JsonObject;
  const st = statSync(specPath);
  const dir = join(tmpdir(), 'tuneflow-openapi-cache');
  const key = specPath.replace(/[^A-Za-z0-9]+/g, '_').slice(-60);
  const cached = join(dir, `spec-${key}-${st.size}-${Math.floor(st.mtimeMs)}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as JsonObject;
  const spec = parse(readFileSync(specPath, 'utf8')) as JsonObject;
  mkdirSync(dir, { recursive: true });
  writeFileSync(cached, JSON.stringify(spec));
  return spec;
}

/**
 * Turns the spec's schema dialect into plain JSON Schema 2020-12 for ajv: drops `x-` extensions and
 * `discriminator` (oneOf still validates), rewrites OpenAPI 3.0 `nullable` and boolean
 * `exclusiveMinimum/Maximum`, and points component refs at `$defs`.
 */
export function normaliseSchema(node: Json, rewriteRef: (ref: string) => string): Json {
  if (Array.isArray(node)) return node.map((n) => normaliseSchema(n, rewriteRef));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
  // Swagger 2.0 (ARM) says `x-nullable: true` where OpenAPI 3.0 says `nullable: true`.
  if (node['x-nullable'] === true) out.nullable = true;
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-') || k === 'discriminator' || k === 'example' || k === 'examples' || k === '$recursiveAnchor') continue;
    // Only the two recursive filter schemas use $recursiveRef; they are not part of any backend response.
    if (k === '$recursiveRef') {
      out.$ref = '#';
      continue;
    }
    if (k === 'required' && Array.isArray(v)) {
      out.required = [...new Set(v)];
      continue;
    }
    if (k === '$ref' && typeof v === 'string') {
      out.$ref = rewriteRef(v);
      continue;
    }
    out[k] = normaliseSchema(v, rewriteRef);
  }
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (out[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) {
      delete out[flag];
    }
  }
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  if ('nullable' in out) delete out.nullable;
  return out;
}

/**
 * Known inconsistency in the spec: FineTuningJob.status has no 'paused', yet the spec's own example for
 * pauseFineTuningJob answers "status": "paused" (and so does the provider). The enum is widened for that.
 */
export function patchKnownSpecGaps(defs: JsonObject, jobSchema: string): void {
  const job = defs[jobSchema] as JsonObject | undefined;
  const status = (job?.properties as JsonObject | undefined)?.status as JsonObject | undefined;
  if (status && Array.isArray(status.enum) && !status.enum.includes('paused')) status.enum = [...status.enum, 'paused'];
}

/** What a Contract validates against: one spec's schemas and operations, in JSON Schema 2020-12. */
export interface ContractSource {
  /** `$id` the spec's schemas are registered under (refs point at `<id>#/$defs/...`). */
  id: string;
  defs: JsonObject;
  operations: Operation[];
  /** Stripped from request paths before they are matched against the spec's paths. */
  basePath: RegExp;
  /** Every error answer is checked against this when set; otherwise against the operation's own error response. */
  errorSchema?: Json;
  /** Schemas the spec refers to outside itself. */
  extraSchemas?: { $id: string; $defs: JsonObject }[];
}

const templatePattern = (path: string): RegExp => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** An OpenAPI 3 spec (OpenAI's, Azure's v1 data plane) as a contract source. */
export function openApi3Source(spec: JsonObject, id: string, basePath: RegExp, errorSchema?: Json): ContractSource {
  const rewrite = (ref: string): string => ref.replace('#/components/schemas/', `${id}#/$defs/`);
  const components = spec.components as JsonObject;
  const sharedResponses = (components.responses ?? {}) as JsonObject;
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths as JsonObject)) {
    for (const [method, op] of Object.entries(item as JsonObject)) {
      const o = op as JsonObject;
      if (!o || typeof o !== 'object' || !o.responses) continue;
      // Together's spec names few operations: the others are `<METHOD> <path>`.
      const operationId = typeof o.operationId === 'string' ? o.operationId : `${method.toUpperCase()} ${path}`;
      const responses: Record<string, Json | null> = {};
      for (const [status, r] of Object.entries((o.responses ?? {}) as JsonObject)) {
        let res = r as JsonObject;
        if (typeof res.$ref === 'string') res = sharedResponses[res.$ref.split('/').pop() ?? ''] as JsonObject;
        const content = res.content as JsonObject | undefined;
        const media = content ? ((content['application/json'] ?? Object.values(content)[0]) as JsonObject) : undefined;
        responses[status] = media?.schema === undefined ? null : normaliseSchema(media.schema, rewrite);
      }
      operations.push({ operationId, method: method.toUpperCase(), path, pattern: templatePattern(path), responses });
    }
  }
  return { id, defs: normaliseSchema(components.schemas as Json, rewrite) as JsonObject, operations, basePath, ...(errorSchema ? { errorSchema } : {}) };
}

/** A Swagger 2.0 spec (ARM's) as a contract source; `rewrite` points its refs (local and external) at registered ids. */
export function swagger2Source(spec: JsonObject, id: string, rewrite: (ref: string) => string, extraSchemas: ContractSource['extraSchemas'] = []): ContractSource {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths as JsonObject)) {
    for (const [method, op] of Object.entries(item as JsonObject)) {
      const o = op as JsonObject;
      if (!o || typeof o !== 'object' || typeof o.operationId !== 'string') continue;
      const responses: Record<string, Json | null> = {};
      for (const [status, r] of Object.entries((o.responses ?? {}) as JsonObject)) {
        const schema = (r as JsonObject).schema;
        responses[status] = schema === undefined ? null : normaliseSchema(schema, rewrite);
      }
      operations.push({ operationId: o.operationId, method: method.toUpperCase(), path, pattern: templatePattern(path), responses });
    }
  }
  return { id, defs: normaliseSchema(spec.definitions as Json, rewrite) as JsonObject, operations, basePath: /^$/, extraSchemas };
}

export class Contract {
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly source: ContractSource) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, logger: false, validateSchema: false });
    addFormats.default(this.ajv);
    for (const f of ['unixtime', 'binary', 'int64', 'int32', 'double', 'float', 'base64', 'arm-id', 'duration', 'password']) this.ajv.addFormat(f, true);
    this.ajv.addSchema({ $id: source.id, $defs: source.defs });
    for (const extra of source.extraSchemas ?? []) this.ajv.addSchema(extra);
  }

  operation(operationId: string): Operation {
    const op = this.source.operations.find((o) => o.operationId === operationId);
    if (!op) throw new Error(`operation ${operationId} is not in the spec`);
    return op;
  }

  /** The operation a request hits: method plus path relative to the spec's base. */
  operationFor(method: string, path: string): Operation | undefined {
    const p = path.split('?')[0]?.replace(this.source.basePath, '') ?? '';
    // Literal paths win over templated ones (/fine_tuning/jobs/x/events vs /fine_tuning/jobs/{id}).
    const matches = this.source.operations.filter((o) => o.method === method.toUpperCase() && o.pattern.test(p));
    return matches.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0))[0];
  }

  private responseSchema(op: Operation, status: number): Json | null {
    if (status >= 400 && this.source.errorSchema !== undefined) return this.source.errorSchema;
    const schema = String(status) in op.responses ? op.responses[String(status)] : status >= 400 ? op.responses.default : undefined;
    if (schema === undefined) throw new Error(`${op.operationId} has no ${status} response in the spec`);
    return schema;
  }

  validate(operationId: string, status: number, body: unknown): ContractResult {
    const schema = this.responseSchema(this.operation(operationId), status);
    // The spec declares no body: there must be none.
    if (schema === null) return body === undefined || body === '' ? { valid: true, errors: [] } : { valid: false, errors: [`${operationId} ${status} has no body in the spec`] };
    const s = schema as JsonObject;
    // Operations answering the same component share one compiled validator (compiling is the slow part).
    const key = typeof s.$ref === 'string' && Object.keys(s).length === 1 ? s.$ref : `${operationId}:${status}`;
    let fn = this.validators.get(key);
    if (!fn) {
      fn = this.ajv.compile(s);
      this.validators.set(key, fn);
    }
    const valid = fn(body);
    const errors = valid ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    return { valid, errors };
  }
}

let contract: Contract | undefined;
function getContract(): Contract {
  if (!contract) {
    const source = openApi3Source(loadSpec(), 'openai-spec', /^\/v1/, { $ref: 'openai-spec#/$defs/ErrorResponse' });
    patchKnownSpecGaps(source.defs, 'FineTuningJob');
    contract = new Contract(source);
  }
  return contract;
}

/**
 * Known inconsistency in Together's spec: FinetuneResponse.id is `format: uuid`, yet the spec's own examples
 * and the cancel and metrics operations describe job ids as strings starting with `ft-` (as the service
 * answers). The format is dropped for that one field.
 */
function patchTogetherSpecGaps(defs: JsonObject): void {
  const idField = ((defs.FinetuneResponse as JsonObject | undefined)?.properties as JsonObject | undefined)?.id as JsonObject | undefined;
  if (idField) delete idField.format;
}

let together: Contract | undefined;
/** Together's spec, for the together dialect: errors against its ErrorData. */
export function togetherContract(): Contract {
  if (!together) {
    const source = openApi3Source(loadSpec(TOGETHER_SPEC_PATH), 'together-spec', /^\/v1/, { $ref: 'together-spec#/$defs/ErrorData' });
    patchTogetherSpecGaps(source.defs);
    together = new Contract(source);
  }
  return together;
}

export function validateTogetherResponse(operationId: string, status: number, body: unknown): ContractResult {
  return togetherContract().validate(operationId, status, body);
}

/** Validates a response body against the spec: 2xx against the operation's schema, errors against ErrorResponse. */
export function validateResponse(operationId: string, status: number, body: unknown): ContractResult {
  return getContract().validate(operationId, status, body);
}

export function operationIdFor(method: string, path: string): string | undefined {
  return getContract().operationFor(method, path)?.operationId;
}

export interface Violation {
  operationId: string;
  method: string;
  url: string;
  status: number;
  errors: string[];
}

/** Everything a contract-checking fetch saw: checked responses per operation and any violations. */
export interface ContractLog {
  checked: Record<string, number>;
  violations: Violation[];
}

/**
 * A fetch for the openai SDK that validates every response it receives against the spec (OpenAI's, or the
 * one `contractFor` picks by path), so every test that talks to the backend through it is also a contract test.
 */
export function contractFetch(log: ContractLog, contractFor: (pathname: string) => Contract = () => getContract()): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // The SDK probes fetch with a `data:` URL; only HTTP answers of the backend are checked.
    if (!url.protocol.startsWith('http')) return res;
    const contract = contractFor(url.pathname);
    const operationId = contract.operationFor(method, url.pathname)?.operationId;
    if (!operationId) {
      log.violations.push({ operationId: '?', method, url: url.pathname, status: res.status, errors: [`no operation in the spec for ${String(input)}`] });
      return res;
    }
    const text = await res.clone().text();
    let body: unknown = text;
    const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
    if (isJson || res.status >= 400) {
      try {
        body = JSON.parse(text);
      } catch {
        log.violations.push({ operationId, method, url: url.pathname, status: res.status, errors: ['body is not JSON'] });
        return res;
      }
    }
    const result = contract.validate(operationId, res.status, body);
    const key = res.status >= 400 ? `${operationId}:error` : operationId;
    log.checked[key] = (log.checked[key] ?? 0) + 1;
    if (!result.valid) log.violations.push({ operationId, method, url: url.pathname, status: res.status, errors: result.errors });
    return res;
  };
}

export const newContractLog = (): ContractLog => ({ checked: {}, violations: [] });
