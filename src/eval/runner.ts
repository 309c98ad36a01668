import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ArtifactStore, ByteSource } from '../store/types';
import type { EvalCandidate } from '../domain/run';
import { scoreAnswer } from '../domain/eval/metrics';
import { buildJudgePair, combineJudgeVerdicts, judgeScore, parseJudgeVerdict, assertJudgeIsNotCandidate, type JudgeVerdict } from '../domain/eval/judge';
import type { BatchResultRow, CandidateAnswer, EvalExample, JudgeRecord } from '../domain/eval/types';
import { validateCandidates } from '../domain/eval/summary';
import type { ChatCaller, ChatOutcome } from './chat';
import { readJsonl } from './jsonl';
import { Semaphore } from './semaphore';

export interface EvalBatchJob {
  /** The eval set: the run's eval-set.jsonl in the store (or, for runs from 0.2, a local file). */
  evalSet: string | ByteSource;
  store: ArtifactStore;
  /** The batch's results object in the store. */
  batchKey: string;
  /** Eval-set indices [start, end). */
  start: number;
  end: number;
  candidates: readonly EvalCandidate[];
  judgeModel?: string | null | undefined;
  seed: number;
  maxTokens: number;
  /** Requests in flight at once for this batch (examples in flight are bounded by it too). */
  concurrency: number;
}

export interface EvalBatchHooks {
  caller: ChatCaller;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Called after each example's line is written, with the batch's finished-example count. */
  onExampleDone?: ((done: number) => void) | undefined;
  /** Finished-example count from the previous attempt's last heartbeat, to check against the file. */
  heartbeatDone?: number | undefined;
}

export interface EvalBatchOutcome {
  examples: number;
  /** Examples where at least one candidate has no usable answer. */
  failed: number;
  /** HTTP requests made by this attempt (429s included). */
  requests: number;
  /** Examples found finished in the batch file and not redone. */
  resumed: number;
}

/** The eval set does not hold the batch's range: the plan and the file disagree, and retrying cannot fix it. */
export class EvalSetMismatchError extends Error {
  override name = 'EvalSetMismatchError';
}

function isUsable(answer: CandidateAnswer | undefined): boolean {
  return !!answer && answer.text !== null && answer.scores !== null;
}

/** A row counts as finished when every candidate has an answer and, with a judge, every comparable pair a judge record. */
export function isCompleteRow(row: BatchResultRow, candidates: readonly EvalCandidate[], judgeModel: string | null): boolean {
  const base = candidates.find((c) => c.role === 'base');
  for (const c of candidates) {
    const answer = row.answers[c.model];
    if (!answer) return false;
    if (judgeModel && base && c.model !== base.model && isUsable(answer) && isUsable(row.answers[base.model]) && !answer.judge) {
      return false;
    }
  }
  return true;
}

/** Fingerprint of what an example's answers depend on besides the candidate models. */
export function exampleRowKey(example: EvalExample, settings: { seed: number; maxTokens: number; judgeModel: string | null }): string {
  const material = JSON.stringify([example.prompt, example.reference, settings.seed, settings.maxTokens, settings.judgeModel]);
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

/**
 * The finished rows already in a batch object (a line that does not parse, such as a partial one a
 * 0.2 worker left, is skipped). With `keys`, a row counts only when its key matches the example's, so
 * stale rows are redone, not reused.
 */
export async function readFinishedRows(
  store: ArtifactStore,
  batchKey: string,
  candidates: readonly EvalCandidate[],
  judgeModel: string | null,
  keys?: ReadonlyMap<number, string>,
): Promise<{ rows: Map<number, BatchResultRow>; unreadable: number; stale: number }> {
  const rows = new Map<number, BatchResultRow>();
  let stale = 0;
  let unreadable = 0;
  if (!(await store.exists(batchKey))) return { rows, unreadable, stale };
  for await (const line of readJsonl(store.source(batchKey))) {
    if (line.error !== null) unreadable++;
    const row = line.value as BatchResultRow | null;
    if (!row || typeof row.index !== 'number' || !row.answers) continue;
    if (keys && keys.has(row.index) && row.key !== keys.get(row.index)) {
      stale++;
      continue;
    }
    if (isCompleteRow(row, candidates, judgeModel)) rows.set(row.index, row);
  }
  return { rows, unreadable, stale };
}

/** Eval-set rows [start, end), read as a stream that stops at `end`. */
export async function readEvalExamples(evalSet: string | ByteSource, start: number, end: number): Promise<EvalExample[]> {
  const out: EvalExample[] = [];
  for await (const line of readJsonl(evalSet)) {
    const example = line.value as EvalExample | null;
    if (!example || typeof example.index !== 'number') continue;
    if (example.index >= end) break;
    if (example.index >= start) out.push(example);
  }
  return out;
}

function toAnswer(outcome: ChatOutcome, reference: string): CandidateAnswer {
  if (!outcome.ok) return { text: null, scores: null, error: outcome.error, latencyMs: outcome.latencyMs };
  const answer: CandidateAnswer = {
    text: outcome.text,
    scores: scoreAnswer(outcome.text, reference),
    finishReason: outcome.finishReason,
    latencyMs: outcome.latencyMs,
  };
  if (outcome.usage) answer.usage = outcome.usage;
  return answer;
}

/**
 * Evaluates examples [start, end) of the eval set with every candidate (and the judge), one JSON line
 * per finished example in the batch object. A bucket cannot append, so the object is rewritten whole
 * (atomically) as examples finish, one write at a time, and any worker can resume it: examples already
 * finished there are skipped, and a retried attempt redoes only what was in flight. Stops promptly on
 * abort; rows already finished are written before it returns.
 */
export async function runEvalBatch(job: EvalBatchJob, hooks: EvalBatchHooks): Promise<EvalBatchOutcome> {
  const { caller, logger } = hooks;
  const base = validateCandidates(job.candidates);
  const judgeModel = job.judgeModel ?? null;
  if (judgeModel) assertJudgeIsNotCandidate(judgeModel, job.candidates);

  const examples = await readEvalExamples(job.evalSet, job.start, job.end);
  if (examples.length !== job.end - job.start) {
    const name = typeof job.evalSet === 'string' ? job.evalSet : job.evalSet.name;
    throw new EvalSetMismatchError(`Eval set ${name} has ${examples.length} examples in [${job.start}, ${job.end}), expected ${job.end - job.start}`);
  }
  const settings = { seed: job.seed, maxTokens: job.maxTokens, judgeModel };
  const keys = new Map(examples.map((e) => [e.index, exampleRowKey(e, settings)]));
  const { rows: finished, unreadable, stale } = await readFinishedRows(job.store, job.batchKey, job.candidates, judgeModel, keys);
  const log = logger.child({ batchKey: job.batchKey, start: job.start, end: job.end });
  if (unreadable > 0) log.info({ unreadable }, 'skipped unreadable lines left by an interrupted attempt');
  if (stale > 0) log.warn({ stale }, 'batch file holds rows for other examples or settings (an earlier run with this id?); redoing them');
  if (hooks.heartbeatDone !== undefined && hooks.heartbeatDone > finished.size) {
    log.warn(
      { heartbeatDone: hooks.heartbeatDone, finishedInFile: finished.size },
      'the batch file holds fewer finished examples than the last heartbeat reported; redoing the missing ones',
    );
  }
  const todo = examples.filter((e) => !finished.has(e.index));
  const countFailed = (row: BatchResultRow) => job.candidates.some((c) => !isUsable(row.answers[c.model]));
  let failed = [...finished.values()].filter(countFailed).length;
  let done = finished.size;
  let requests = 0;
  if (todo.length === 0) {
    log.info({ examples: examples.length }, 'batch already complete; nothing to call');
    return { examples: examples.length, failed, requests, resumed: finished.size };
  }
  if (finished.size > 0) log.info({ resumed: finished.size, remaining: todo.length }, 'resuming batch from its file');

  // One controller for the batch: the first error or the caller's abort stops everything in flight.
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) throw hooks.signal.reason;
  hooks.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  // Every queued and in-flight request listens on it; the count is bounded by concurrency, not a leak.
  setMaxListeners(0, signal);
  const slots = new Semaphore(job.concurrency);

  // Every finished row of the batch, in the order finished; the object is always rewritten whole.
  const kept: string[] = [...finished.values()].map((row) => `${JSON.stringify(row)}\n`);
  let written = kept.length;
  let flushing: Promise<void> | null = null;
  // One write at a time; rows finished while it runs go out together in the next one.
  const flush = (): Promise<void> => {
    if (flushing) return flushing;
    if (written === kept.length) return Promise.resolve();
    const run = (async () => {
      try {
        while (written < kept.length) {
          const upTo = kept.length;
          await job.store.put(job.batchKey, kept.slice(0, upTo).join(''));
          written = upTo;
        }
      } finally {
        flushing = null;
      }
    })();
    flushing = run;
    return run;
  };
  const appendRow = (row: BatchResultRow) => {
    kept.push(`${JSON.stringify(row)}\n`);
    return flush();
  };

  const call = async (model: string, messages: Parameters<ChatCaller['complete']>[0]['messages'], operation: string) => {
    const outcome = await slots.run(
      () => caller.complete({ model, messages, seed: job.seed, maxTokens: job.maxTokens, operation }, signal),
      signal,
    );
    requests += outcome.requests;
    return outcome;
  };

  const evaluateExample = async (example: EvalExample): Promise<void> => {
    const answers: Record<string, CandidateAnswer> = {};
    await Promise.all(
      job.candidates.map(async (c) => {
        const outcome = await call(c.servedAs ?? c.model, example.prompt, `chat completion for eval example ${example.index} (${c.model})`);
        answers[c.model] = toAnswer(outcome, example.reference);
      }),
    );
    const baseAnswer = answers[base.model];
    if (judgeModel && baseAnswer && isUsable(baseAnswer)) {
      await Promise.all(
        job.candidates
          .filter((c) => c.model !== base.model && isUsable(answers[c.model]))
          .map(async (c) => {
            const answer = answers[c.model] as CandidateAnswer;
            const pair = buildJudgePair(example, answer.text as string, baseAnswer.text as string);
            const verdict = async (messages: (typeof pair)['candidateFirst'], order: string): Promise<JudgeVerdict | null> => {
              const outcome = await call(judgeModel, messages, `judge call (${order}) for eval example ${example.index} (${c.model})`);
              return outcome.ok ? parseJudgeVerdict(outcome.text) : null;
            };
            const [candidateFirst, baseFirst] = await Promise.all([
              verdict(pair.candidateFirst, 'candidate first'),
              verdict(pair.baseFirst, 'base first'),
            ]);
            const outcome = combineJudgeVerdicts(candidateFirst, baseFirst);
            const record: JudgeRecord = { candidateFirst, baseFirst, outcome, score: judgeScore(outcome) };
            answer.judge = record;
          }),
      );
    }
    const ordered: Record<string, CandidateAnswer> = {};
    for (const c of job.candidates) ordered[c.model] = answers[c.model] as CandidateAnswer;
    const row: BatchResultRow = { index: example.index, key: keys.get(example.index) as string, answers: ordered };
    await appendRow(row);
    done++;
    if (countFailed(row)) failed++;
    hooks.onExampleDone?.(done);
  };

  // Examples start in order, at most `concurrency` at a time; each request also takes a slot.
  let next = 0;
  let firstError: unknown = null;
  const lane = async () => {
    while (!signal.aborted && next < todo.length) {
      const example = todo[next++] as EvalExample;
      try {
        await evaluateExample(example);
      } catch (err) {
        if (firstError === null) firstError = err;
        controller.abort(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(job.concurrency, todo.length) }, lane));
  } finally {
    hooks.signal?.removeEventListener('abort', onOuterAbort);
    await flush().catch((err: unknown) => {
      firstError ??= err;
    });
  }
  if (hooks.signal?.aborted) throw hooks.signal.reason;
  if (firstError !== null) throw firstError;
  log.debug({ examples: examples.length, failed, requests }, 'batch evaluated');
  return { examples: examples.length, failed, requests, resumed: finished.size };
}
