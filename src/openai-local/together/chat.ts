// Together's OpenAI-compatible chat completions: base models, serverless LoRA fine-tunes, and models on a STARTED endpoint.
import { ChatAnswerer, type ChatRequest, type ResolvedModel } from '../chat';
import type { SimClock } from '../clock';
import { contentText } from '../datasets';
import { ApiError } from '../errors';
import { newChatId } from '../ids';
import { hash32 } from '../random';
import type { Store } from '../store';
import type { JobRecord } from '../types';
import { findTogetherBaseModel } from './catalog';
import { endpointState, type EndpointRegistry } from './endpoints';
import type { EndpointRecord } from './records';
import { planOf, togetherCheckpoints } from './timeline';


export const togetherError = (status: number, message: string, code: string | null = null, param: string | null = null): ApiError =>
  new ApiError(status, message, 'invalid_request_error', param, code);

/** Together's wording for a model that exists but is not served (unverified against the live service). */
export const notServedError = (model: string, detail = ''): ApiError =>
  togetherError(
    400,
    `Unable to access non-serverless model ${model}.${detail} Please visit https://api.together.ai/models/${model} to create and start a new dedicated endpoint for the model.`,
    'model_not_available',
    'model',
  );

export class TogetherChat {
  private readonly answerer: ChatAnswerer;

  constructor(
    private readonly store: Store,
    private readonly clock: SimClock,
    private readonly endpoints: EndpointRegistry,
  ) {
    this.answerer = new ChatAnswerer(store);
  }

  /** The fine-tuned model (output name or `<output name>:<step>`) a name refers to, whatever its serving. */
  findTuned(name: string): { job: JobRecord; epoch: number } | null {
    const now = this.clock.nowMs();
    for (const job of this.store.jobs.values()) {
      const x = job.together;
      const plan = planOf(job);
      if (!x || !plan || !name.startsWith(x.outputName)) continue;
      const c = togetherCheckpoints(job, now).find((cp) => cp.model === name);
      if (c) return { job, epoch: c.step / plan.stepsPerEpoch };
    }
    return null;
  }

  /** Serverless when the job is a LoRA fine-tune of a serverless-LoRA base; otherwise only through a STARTED endpoint. */
  resolve(name: string): ResolvedModel {
    if (findTogetherBaseModel(name)) return { kind: 'base', id: name };
    const now = this.clock.nowMs();
    // A dedicated endpoint answers by its system name or by the model it serves.
    const named = this.endpoints.all().find((e) => e.name === name);
    const tunedName = named?.model ?? name;
    const tuned = this.findTuned(tunedName);
    if (!tuned) {
      throw togetherError(404, `Unable to access model ${name}. Please visit https://api.together.ai/models to view the list of supported models.`, 'model_not_available', 'model');
    }
    const serverless = tuned.job.together?.trainingType.type === 'Lora' && findTogetherBaseModel(tuned.job.model)?.serverlessLora === true;
    if (serverless && !named) return { kind: 'tuned', id: name, job: tuned.job, epoch: tuned.epoch };
    const serving = named ? [named] : this.endpoints.all().filter((e) => e.model === tunedName);
    if (serving.some((e) => endpointState(e, now) === 'STARTED')) return { kind: 'tuned', id: name, job: tuned.job, epoch: tuned.epoch };
    const waiting: EndpointRecord | undefined = serving[0];
    throw notServedError(tunedName, waiting ? ` Its endpoint ${waiting.id} is ${endpointState(waiting, now)}, not STARTED.` : '');
  }

  async complete(body: unknown): Promise<Record<string, unknown>> {
    const req = parseChatRequest(body);
    const model = this.resolve(req.model);
    const { content, finishReason, promptTokens, completionTokens } = await this.answerer.answer(model, req, ['system', 'user']);
    return {
      id: newChatId(),
      object: 'chat.completion',
      created: this.clock.nowSec(),
      model: model.id,
      prompt: [],
      choices: [{ index: 0, seed: req.seed, finish_reason: finishReason, message: { role: 'assistant', content, tool_calls: [] } }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }
}

function parseChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw togetherError(400, 'Request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw togetherError(400, "Input validation error: 'model' is required.", null, 'model');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw togetherError(400, "Input validation error: 'messages' must be a non-empty array.", null, 'messages');
  const messages = b.messages.map((m: unknown, i) => {
    const msg = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof msg.role !== 'string') throw togetherError(400, `Input validation error: 'messages[${i}].role' is required.`, null, `messages[${i}].role`);
    return { role: msg.role, content: contentText(msg.content) ?? '' };
  });
  if (b.stream === true) throw togetherError(400, 'Streaming is not supported by the local backend; omit `stream`.', null, 'stream');
  const temperature = b.temperature ?? 0.7;
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) throw togetherError(400, "Input validation error: 'temperature' must be between 0 and 2.", null, 'temperature');
  const rawMax = b.max_tokens ?? b.max_completion_tokens ?? null;
  if (rawMax !== null && (typeof rawMax !== 'number' || !Number.isInteger(rawMax) || rawMax < 1)) {
    throw togetherError(400, "Input validation error: 'max_tokens' must be a positive integer.", null, 'max_tokens');
  }
  const seed = typeof b.seed === 'number' ? b.seed : hash32(b.model) % 1000;
  return { model: b.model, messages, temperature, seed, maxTokens: rawMax as number | null };
}
