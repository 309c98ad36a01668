export { prepareEvalSet, type PrepareEvalSetOptions, type PreparedEvalSet } from './prepare';
export { ProviderRateLimiter, parseResetDuration, readRateLimitHeaders, type RatePermit, type RateLimiterStats } from './rate-limiter';
export { ChatCaller, DEFAULT_MAX_RATE_LIMIT_WAITS, type ChatOutcome, type ChatRequest } from './chat';
export { runEvalBatch, readEvalExamples, readFinishedRows, isCompleteRow, exampleRowKey, EvalSetMismatchError, type EvalBatchJob, type EvalBatchHooks, type EvalBatchOutcome } from './runner';
export { summarizeEvalRun, IncompleteEvaluationError, type SummarizeEvalOptions } from './summarize';
export * from './paths';
