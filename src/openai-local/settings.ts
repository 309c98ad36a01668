// Runtime-adjustable behaviour of the backend (changed via POST /_admin/settings).

export interface RuntimeSettings {
  rpm: number;
  /** Tokens per minute on chat completions (prompt + max_tokens to get in, usage once answered); 0 = unlimited. */
  tpm: number;
  faultRate: number;
  failJobs: boolean;
  refuseFineTuning: boolean;
  /** Every /v1 request answers 401 invalid_api_key, as after a key was revoked. */
  revokedKeys: boolean;
  /** Every /v1 request has its connection dropped unanswered, as a provider that is unreachable. */
  outage: boolean;
  /** Real milliseconds a matching /v1 request waits before it is handled, as a slow provider. */
  latencyMs: number;
  /** operationIds `latencyMs` applies to; empty = every /v1 operation. */
  latencyOperations: string[];
  /** How fast an upload body is read, to simulate a slow link; 0 = unlimited. */
  uploadBytesPerSecond: number;
  readonly timeScale: number;
}

/** 100 simulated seconds per real second: a ~160-example, 3-epoch job (~7 simulated minutes) takes ~4 s. */
export const DEFAULT_TIME_SCALE = 100;

/** True when a request for `operationId` must wait `latencyMs` first. */
export function isDelayed(settings: Pick<RuntimeSettings, 'latencyMs' | 'latencyOperations'>, operationId: string): boolean {
  return settings.latencyMs > 0 && (settings.latencyOperations.length === 0 || settings.latencyOperations.includes(operationId));
}
