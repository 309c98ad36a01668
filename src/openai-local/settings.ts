// Runtime-adjustable behaviour of the backend (changed via POST /_admin/settings).

export interface RuntimeSettings {
  rpm: number;
  faultRate: number;
  failJobs: boolean;
  refuseFineTuning: boolean;
  /** How fast an upload body is read, to simulate a slow link; 0 = unlimited. */
  uploadBytesPerSecond: number;
  readonly timeScale: number;
}

/** 100 simulated seconds per real second: a ~160-example, 3-epoch job (~7 simulated minutes) takes ~4 s. */
export const DEFAULT_TIME_SCALE = 100;
