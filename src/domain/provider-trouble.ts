/**
 * Why a run could not ask the provider about its job. `unreachable`: connection errors, 408, 409, 429
 * and 5xx, which pass by themselves; `refused`: 401 or 403 while a paid job exists, which a person must
 * fix (a new key, restored access) before the run goes on.
 */
export interface JobTrouble {
  kind: 'unreachable' | 'refused';
  message: string;
}

/** Failure types (the openai SDK's error class names) that mean the key or its access must be fixed. */
export const KEY_REFUSAL_TYPES: ReadonlySet<string> = new Set(['AuthenticationError', 'PermissionDeniedError']);

/** The longest wait between two looks at a job while the provider cannot be reached. */
export const MAX_UNREACHABLE_BACKOFF_SECONDS = 120;

/** Seconds to wait before the next look after `failures` looks in a row went unanswered: doubling, capped. */
export function unreachableBackoffSeconds(pollIntervalSeconds: number, failures: number): number {
  const cap = Math.max(pollIntervalSeconds, MAX_UNREACHABLE_BACKOFF_SECONDS);
  return Math.min(cap, pollIntervalSeconds * 2 ** Math.max(0, failures - 1));
}
