// Validates backend responses against the providers' OpenAPI specs (OpenAI's, and Together's for the together dialect) with ajv.
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

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface Operation {
  operationId: string;
  method: string;
  path: string;
  pattern: RegExp;
  responses: JsonObject;
}

export interface ContractResult {
  valid: boolean;
  errors: string[];
}

/** YAML parsing takes seconds; cache the parsed spec as JSON keyed by the spec's size and mtime. */
function loadSpec(specPath: string): JsonObject {
  const st = statSync(specPath);
  const dir = join(tmpdir(), 'tuneflow-openapi-cache');
  const cached = join(dir, `spec-${st.size}-${Math.floor(st.mtimeMs)}.json`);
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
export function normaliseSchema(node: Json, specId = 'openai-spec'): Json {
  if (Array.isArray(node)) return node.map((n) => normaliseSchema(n, specId));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonObject = {};
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
      out.$ref = v.replace('#/components/schemas/', `${specId}#/$defs/`);
      continue;
    }
    out[k] = normaliseSchema(v, specId);
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
function patchKnownSpecGaps(defs: JsonObject): void {
  const job = defs.FineTuningJob as JsonObject | undefined;
  const status = (job?.properties as JsonObject | undefined)?.status as JsonObject | undefined;
  if (status && Array.isArray(status.enum) && !status.enum.includes('paused')) status.enum = [...status.enum, 'paused'];
}

/**
 * Known inconsistency in Together's spec: FinetuneResponse.id is `format: uuid`, yet the spec's own examples
 * and the cancel and metrics operations describe job ids as strings starting with `ft-` (as the service
 * answers). The format is dropped for that one field.
 */
function patchTogetherSpecGaps(defs: JsonObject): void {
  const id = ((defs.FinetuneResponse as JsonObject | undefined)?.properties as JsonObject | undefined)?.id as JsonObject | undefined;
  if (id) delete id.format;
}

interface SpecFlavour {
  path: string;
  id: string;
  errorSchema: string;
  patch: (defs: JsonObject) => void;
}

const OPENAI: SpecFlavour = { path: SPEC_PATH, id: 'openai-spec', errorSchema: 'ErrorResponse', patch: patchKnownSpecGaps };
const TOGETHER: SpecFlavour = { path: TOGETHER_SPEC_PATH, id: 'together-spec', errorSchema: 'ErrorData', patch: patchTogetherSpecGaps };

class Contract {
  private readonly ajv: Ajv2020;
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly spec: JsonObject;

  constructor(private readonly flavour: SpecFlavour) {
    const spec = loadSpec(flavour.path);
    this.spec = spec;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, logger: false, validateSchema: false });
    addFormats.default(this.ajv);
    for (const f of ['unixtime', 'binary', 'int64', 'int32', 'double', 'float']) this.ajv.addFormat(f, true);
    const components = spec.components as JsonObject;
    const defs = normaliseSchema(components.schemas as Json, flavour.id) as JsonObject;
    flavour.patch(defs);
    this.ajv.addSchema({ $id: flavour.id, $defs: defs });
    for (const [path, item] of Object.entries(spec.paths as JsonObject)) {
      for (const [method, op] of Object.entries(item as JsonObject)) {
        const o = op as JsonObject;
        if (!o || typeof o !== 'object' || !o.responses) continue;
        const operationId = typeof o.operationId === 'string' ? o.operationId : `${method.toUpperCase()} ${path}`;
        const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
        this.operations.push({ operationId, method: method.toUpperCase(), path, pattern, responses: o.responses as JsonObject });
      }
    }
  }

  operation(operationId: string): Operation {
    const op = this.operations.find((o) => o.operationId === operationId);
    if (!op) throw new Error(`operation ${operationId} is not in the spec`);
    return op;
  }

  /** The operation a request hits: method plus path relative to the /v1 base. */
  operationFor(method: string, path: string): Operation | undefined {
    const p = path.replace(/^\/v1/, '').split('?')[0] ?? '';
    // Literal paths win over templated ones (/fine_tuning/jobs/x/events vs /fine_tuning/jobs/{id}).
    const matches = this.operations.filter((o) => o.method === method.toUpperCase() && o.pattern.test(p));
    return matches.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0))[0];
  }

  private responseSchema(op: Operation, status: number): Json {
    if (status >= 400) return { $ref: `${this.flavour.id}#/$defs/${this.flavour.errorSchema}` };
    let res = op.responses[String(status)] as JsonObject | undefined;
    if (!res) throw new Error(`${op.operationId} has no ${status} response in the spec`);
    if (typeof res.$ref === 'string') {
      const shared = (this.spec.components as JsonObject).responses as JsonObject;
      res = shared[res.$ref.split('/').pop() ?? ''] as JsonObject;
    }
    const content = res.content as JsonObject | undefined;
    // An answer without content (204 No Content) must have an empty body.
    if (!content) return { const: '' };
    const media = (content['application/json'] ?? Object.values(content)[0]) as JsonObject;
    return normaliseSchema(media.schema as Json, this.flavour.id);
  }

  validate(operationId: string, status: number, body: unknown): ContractResult {
    const schema = this.responseSchema(this.operation(operationId), status) as JsonObject;
    // Operations answering the same component share one compiled validator (compiling is the slow part).
    const key = typeof schema.$ref === 'string' && Object.keys(schema).length === 1 ? schema.$ref : `${operationId}:${status}`;
    let fn = this.validators.get(key);
    if (!fn) {
      fn = this.ajv.compile(schema);
      this.validators.set(key, fn);
    }
    const valid = fn(body);
    const errors = valid ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    return { valid, errors };
  }
}

const contracts = new Map<SpecFlavour, Contract>();
function getContract(flavour: SpecFlavour = OPENAI): Contract {
  let found = contracts.get(flavour);
  if (!found) {
    found = new Contract(flavour);
    contracts.set(flavour, found);
  }
  return found;
}

/** Validates a together-dialect response body against Together's spec (errors against ErrorData). */
export function validateTogetherResponse(operationId: string, status: number, body: unknown): ContractResult {
  return getContract(TOGETHER).validate(operationId, status, body);
}

export function togetherOperationFor(method: string, path: string): string | undefined {
  return getContract(TOGETHER).operationFor(method, path)?.operationId;
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
 * A fetch for the openai SDK that validates every response it receives against the spec, so every test
 * that talks to the backend through it is also a contract test.
 */
export function contractFetch(log: ContractLog, spec: 'openai' | 'together' = 'openai'): typeof fetch {
  const contractOf = (): Contract => getContract(spec === 'together' ? TOGETHER : OPENAI);
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // The SDK probes fetch with a `data:` URL; only HTTP answers of the backend are checked.
    if (!url.protocol.startsWith('http')) return res;
    const operationId = contractOf().operationFor(method, url.pathname)?.operationId;
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
    const result = contractOf().validate(operationId, res.status, body);
    const key = res.status >= 400 ? `${operationId}:error` : operationId;
    log.checked[key] = (log.checked[key] ?? 0) + 1;
    if (!result.valid) log.violations.push({ operationId, method, url: url.pathname, status: res.status, errors: result.errors });
    return res;
  };
}

export const newContractLog = (): ContractLog => ({ checked: {}, violations: [] });
