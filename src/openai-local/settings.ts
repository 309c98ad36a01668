// Runtime-adjustable behaviour of the backend (changed via POST /_admin/settings).

export interface RuntimeSettings {
  rpm: number;
  faultRate: number;
  failJobs: boolean;
  refuseFineTuning: boolean;
  /** Every /v1 request answers 401 invalid_api_key, as after a key was revoked. */
  revokedKeys: boolean;
  readonly timeScale: number;
}

/** 100 simulated seconds per real second: a ~160-example, 3-epoch job (~7 simulated minutes) takes ~4 s. */
export const DEFAULT_TIME_SCALE = 100;
