// Together-only fields on the shared persisted records, added here so the shared record types stay untouched.

export type TogetherFileType = 'jsonl' | 'csv' | 'parquet';
export type TogetherFilePurpose = 'fine-tune' | 'eval' | 'eval-sample' | 'eval-output' | 'eval-summary' | 'batch-generated' | 'batch-api';

export type TogetherTrainingType =
  | { type: 'Lora'; lora_r: number; lora_alpha: number; lora_dropout: number; lora_trainable_modules: string }
  | { type: 'Full' };

/** What a Together job was asked for, beyond what the shared job record keeps. */
export interface TogetherJobExtras {
  outputName: string;
  nEpochs: number;
  nCheckpoints: number;
  nEvals: number;
  batchSize: number;
  learningRate: number;
  warmupRatio: number;
  maxGradNorm: number;
  weightDecay: number;
  randomSeed: number | null;
  trainingType: TogetherTrainingType;
  /** Simulated ms at which a cancel was asked for; the job shows `cancel_requested` until `cancelledAtMs`. */
  cancelRequestedAtMs: number | null;
}

declare module '../types' {
  interface FileRecord {
    /** Set on files uploaded through the Together dialect (its `FileType`); other files are not listed there. */
    togetherFileType?: TogetherFileType;
    /** Together's purpose word (the shared `purpose` says `fine-tune` or `user_data`). */
    togetherPurpose?: TogetherFilePurpose;
  }
  interface JobRecord {
    /** Set on jobs created through the Together dialect. */
    together?: TogetherJobExtras;
  }
}

/** A dedicated endpoint as persisted. */
export interface EndpointRecord {
  id: string;
  name: string;
  displayName: string;
  model: string;
  hardware: string;
  minReplicas: number;
  maxReplicas: number;
  inactiveTimeout: number | null;
  createdAtMs: number;
}
