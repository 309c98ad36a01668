import table from './models.json' with { type: 'json' };

export type TokenEncodingName = 'o200k_base' | 'cl100k_base';
export const TOKEN_ENCODINGS: readonly TokenEncodingName[] = ['o200k_base', 'cl100k_base'];

/** What validation and costing need to know about a base model. */
export interface ModelFacts {
  /** The table id the facts come from: the dated snapshot of an alias, the base of a fine-tuned id. */
  model: string;
  /** The id as the caller gave it. */
  requested: string;
  encoding: TokenEncodingName;
  /** Tokens one training example may have before the provider truncates it; null when unknown. */
  tokenLimitPerExample: number | null;
  /** Training price in USD per 1M charged tokens; null when unknown. */
  trainingUsdPerMillionTokens: number | null;
  /** False for facts assumed for a model the table does not list. */
  known: boolean;
}

export type ModelFactsResult = { ok: true; facts: ModelFacts } | { ok: false; error: string };

interface TableEntry {
  encoding: TokenEncodingName;
  tokenLimitPerExample: number;
  trainingUsdPerMillionTokens: number;
}

const MODELS: Readonly<Record<string, TableEntry>> = checkTable(table.models);
const ALIASES: Readonly<Record<string, string>> = table.aliases;

/** Where the figures in models.json come from, and when they were taken. */
export const MODEL_TABLE_SOURCE: string = table.source;

// The JSON is data a person edits: fail at import, naming the entry, rather than mid-validation.
function checkTable(models: Record<string, { encoding: string; tokenLimitPerExample: number; trainingUsdPerMillionTokens: number }>): Record<string, TableEntry> {
  for (const [id, entry] of Object.entries(models)) {
    if (!TOKEN_ENCODINGS.includes(entry.encoding as TokenEncodingName)) throw new Error(`models.json: ${id}.encoding must be one of ${TOKEN_ENCODINGS.join(', ')}`);
    if (!Number.isInteger(entry.tokenLimitPerExample) || entry.tokenLimitPerExample <= 0) throw new Error(`models.json: ${id}.tokenLimitPerExample must be a positive integer`);
    if (!(entry.trainingUsdPerMillionTokens >= 0)) throw new Error(`models.json: ${id}.trainingUsdPerMillionTokens must be a non-negative number`);
  }
  return models as Record<string, TableEntry>;
}

/** Every id resolveModelFacts accepts directly (snapshots and aliases), sorted. */
export function knownModelIds(): string[] {
  return [...Object.keys(MODELS), ...Object.keys(ALIASES)].sort();
}

/**
 * Resolves a model id to its facts: a dated snapshot, an alias of one, or a fine-tuned model
 * `ft:<base>:...` (fine-tuning a fine-tuned model trains on its base). Anything else is an error
 * the caller decides about: the CLI refuses it, the pipeline may fall back to genericModelFacts.
 */
export function resolveModelFacts(requested: string): ModelFactsResult {
  const id = requested.trim();
  const base = id.startsWith('ft:') ? (id.slice(3).split(':')[0] ?? '') : id;
  const snapshot = ALIASES[base] ?? base;
  const entry = MODELS[snapshot];
  if (!entry) {
    return {
      ok: false,
      error: `Unknown model "${requested}": its per-example token limit and training price are not in src/domain/dataset/models.json. Known models: ${knownModelIds().join(', ')}.`,
    };
  }
  return { ok: true, facts: { model: snapshot, requested, ...entry, known: true } };
}

/**
 * Facts assumed for a model the table does not list (a custom model of an OpenAI-compatible
 * provider): the newer encoding, no per-example limit to check, no price.
 */
export function genericModelFacts(requested: string): ModelFacts {
  return { model: requested, requested, encoding: 'o200k_base', tokenLimitPerExample: null, trainingUsdPerMillionTokens: null, known: false };
}
