// Chat completions and the model catalog (base, fine-tuned and checkpoint models).
import { baseAnswer, ExampleIndex, fineTunedAnswer, pairwiseVerdict } from './answers';
import type { SimClock } from './clock';
import { toSec } from './clock';
import { wrongAnswerRate } from './curves';
import { approxTokens, contentText, messagesTokens } from './datasets';
import { badRequest, modelNotFound } from './errors';
import { newChatId } from './ids';
import { baseModels, findBaseModel, ORG_ID } from './models';
import { hash32 } from './random';
import type { Store } from './store';
import { deriveCheckpoints, deriveState, fineTunedModelOf } from './timeline';
import type { JobRecord } from './types';

export type ResolvedModel = { kind: 'base'; id: string } | { kind: 'tuned'; id: string; job: JobRecord; epoch: number };

export interface ApiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** What a model says to a request, and what it costs, whichever dialect wraps it. */
export interface ChatAnswer {
  content: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

/**
 * Answers chat for base and fine-tuned models (every dialect's chat route comes here): a base model
 * answers generically, a fine-tuned one from its training examples, worse the farther its epoch is
 * from the best. Keeps one example index per job.
 */
export class ChatAnswerer {
  private readonly indexes = new Map<string, Promise<ExampleIndex>>();

  constructor(private readonly store: Store) {}

  /** `roles`: the message roles that make up what the model is asked (dialects differ on `developer`). */
  async answer(model: ResolvedModel, req: ChatRequest, roles: readonly string[]): Promise<ChatAnswer> {
    const query = req.messages
      .filter((m) => roles.includes(m.role))
      .map((m) => m.content)
      .join('\n');
    let content: string;
    if (model.kind === 'base') {
      const lastUser = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      content = pairwiseVerdict(lastUser) ?? baseAnswer(query);
    } else {
      const plan = model.job.validation?.ok ? model.job.validation.plan : null;
      content = fineTunedAnswer(await this.index(model.job.id), {
        jobKey: `seed:${model.job.seed}`,
        query,
        wrongRate: plan ? wrongAnswerRate(model.job.seed, plan.bestEpoch, model.epoch) : 0,
        temperature: req.temperature,
        seed: req.seed,
      });
    }
    let finishReason: 'stop' | 'length' = 'stop';
    if (req.maxTokens !== null && approxTokens(content) > req.maxTokens) {
      content = content.slice(0, req.maxTokens * 4);
      finishReason = 'length';
    }
    return { content, finishReason, promptTokens: messagesTokens(req.messages), completionTokens: approxTokens(content) };
  }

  private index(jobId: string): Promise<ExampleIndex> {
    let found = this.indexes.get(jobId);
    if (!found) {
      found = this.store.readExamples(jobId).then((examples) => new ExampleIndex(examples));
      found.catch(() => this.indexes.delete(jobId));
      this.indexes.set(jobId, found);
    }
    return found;
  }
}

export class ChatService {
  private readonly answerer: ChatAnswerer;

  constructor(
    private readonly store: Store,
    private readonly clock: SimClock,
  ) {
    this.answerer = new ChatAnswerer(store);
  }

  resolve(name: string): ResolvedModel {
    if (findBaseModel(name)) return { kind: 'base', id: name };
    const now = this.clock.nowMs();
    // Azure deploys a checkpoint by its `ftchkpt-…` id; OpenAI calls it by its model name.
    const azureCheckpoint = name.startsWith('ftchkpt-');
    if (name.startsWith('ft:') || name.includes('.ft-') || azureCheckpoint) {
      for (const job of this.store.jobs.values()) {
        const plan = job.validation?.ok ? job.validation.plan : null;
        if (!plan) continue;
        const ft = fineTunedModelOf(job);
        if (name === ft && deriveState(job, now).status === 'succeeded') return { kind: 'tuned', id: name, job, epoch: plan.nEpochs };
        if (name.startsWith(`${ft}:ckpt-step-`) || (azureCheckpoint && job.dialect === 'azure')) {
          const ckpt = deriveCheckpoints(job, now).find((c) => c.model === name || (azureCheckpoint && c.id === name));
          if (ckpt) return { kind: 'tuned', id: name, job, epoch: ckpt.step / plan.stepsPerEpoch };
        }
      }
    }
    throw modelNotFound(name);
  }

  listModels(): ApiModel[] {
    const now = this.clock.nowMs();
    const out: ApiModel[] = baseModels().map((m) => ({ id: m.id, object: 'model', created: m.created, owned_by: 'system' }));
    const jobs = [...this.store.jobs.values()].sort((a, b) => a.seq - b.seq);
    for (const job of jobs) {
      const state = deriveState(job, now);
      for (const c of deriveCheckpoints(job, now).reverse()) out.push({ id: c.model, object: 'model', created: toSec(c.atMs), owned_by: ORG_ID });
      if (state.status === 'succeeded' && state.endedAtMs !== null) {
        out.push({ id: fineTunedModelOf(job), object: 'model', created: toSec(state.endedAtMs), owned_by: ORG_ID });
      }
    }
    return out;
  }

  retrieveModel(name: string): ApiModel {
    const found = this.listModels().find((m) => m.id === name);
    if (!found) throw modelNotFound(name);
    return found;
  }

  /** `as`: the model that answers instead of the one the body names (an Azure deployment's model). */
  async complete(body: unknown, as?: string): Promise<Record<string, unknown>> {
    const req = parseChatRequest(body);
    const model = this.resolve(as ?? req.model);
    const { content, finishReason, promptTokens, completionTokens } = await this.answerer.answer(model, req, ['system', 'developer', 'user']);
    return {
      id: newChatId(),
      object: 'chat.completion',
      created: this.clock.nowSec(),
      model: model.id,
      choices: [
        { index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: finishReason },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_tuneflow_local',
    };
  }
}

/** Output tokens a request without max_tokens is assumed to ask for, as the provider assumes the model's maximum. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

/**
 * What the token limit charges a chat request before answering it: its prompt tokens plus max_tokens,
 * as OpenAI counts against TPM. Null when the body is too malformed to count (complete() refuses it).
 */
export function estimateChatTokens(body: unknown): { model: string; total: number } | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !Array.isArray(b.messages)) return null;
  const messages = b.messages.map((m: unknown) => ({ content: contentText((m as { content?: unknown } | null)?.content) ?? '' }));
  const rawMax = b.max_completion_tokens ?? b.max_tokens;
  const maxTokens = typeof rawMax === 'number' && Number.isInteger(rawMax) && rawMax > 0 ? rawMax : DEFAULT_MAX_OUTPUT_TOKENS;
  return { model: b.model, total: messagesTokens(messages) + maxTokens };
}

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  temperature: number;
  seed: number;
  maxTokens: number | null;
}

function parseChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== 'object') throw badRequest('The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw badRequest('you must provide a model parameter', 'model', null);
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    throw badRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", 'messages', 'empty_array');
  }
  const messages = b.messages.map((m: unknown, i) => {
    const msg = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof msg.role !== 'string') throw badRequest(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`, 'missing_required_parameter');
    return { role: msg.role, content: contentText(msg.content) ?? '' };
  });
  if (b.stream === true) throw badRequest('Streaming is not supported by the local backend; omit `stream`.', 'stream', 'unsupported_value');
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw badRequest("Invalid 'n': the local backend supports only n=1.", 'n', 'unsupported_value');
  const temperature = b.temperature ?? 1;
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) {
    throw badRequest(`Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got ${String(temperature)} instead.`, 'temperature', 'decimal_above_max_value');
  }
  const rawMax = b.max_completion_tokens ?? b.max_tokens ?? null;
  if (rawMax !== null && (typeof rawMax !== 'number' || !Number.isInteger(rawMax) || rawMax < 1)) {
    throw badRequest("Invalid 'max_tokens': expected a positive integer.", b.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens', 'invalid_value');
  }
  const seed = typeof b.seed === 'number' ? b.seed : hash32(String(b.model)) % 1000;
  return { model: b.model, messages, temperature: temperature, seed, maxTokens: rawMax as number | null };
}
