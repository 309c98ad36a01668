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
  /** Azure dialect: ARM deployment creation is refused with a 403 (missing role) or a quota error. */
  refuseDeployments: DeploymentRefusal;
  /** Azure dialect: simulated seconds from an accepted deployment PUT to provisioningState Succeeded. */
  deploymentSeconds: number;
  readonly timeScale: number;
}

export const DEPLOYMENT_REFUSALS = ['none', 'forbidden', 'quota'] as const;
export type DeploymentRefusal = (typeof DEPLOYMENT_REFUSALS)[number];

/** No published figure; long enough that a caller must wait for Succeeded, short enough for tests (2.4 s at the default scale). */
export const DEFAULT_DEPLOYMENT_SECONDS = 240;

/** 100 simulated seconds per real second: a ~160-example, 3-epoch job (~7 simulated minutes) takes ~4 s. */
export const DEFAULT_TIME_SCALE = 100;

/** True when a request for `operationId` must wait `latencyMs` first. */
export function isDelayed(settings: Pick<RuntimeSettings, 'latencyMs' | 'latencyOperations'>, operationId: string): boolean {
  return settings.latencyMs > 0 && (settings.latencyOperations.length === 0 || settings.latencyOperations.includes(operationId));
}
