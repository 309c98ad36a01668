// Base-model catalog and fine-tuned model naming: OpenAI's ft:<base>:<org>:<suffix>:<id>[:ckpt-step-<n>], Azure's <base>.ft-<32 hex>.

export const ORG_NAME = 'tuneflow-local';
export const ORG_ID = 'org-tuneflowlocal0000000000';

interface BaseModel {
  id: string;
  created: number;
  fineTunable: boolean;
}

const BASE_MODELS: BaseModel[] = [
  { id: 'gpt-4o-mini-2024-07-18', created: 1721172741, fineTunable: true },
  { id: 'gpt-4o-mini', created: 1721172741, fineTunable: true },
  { id: 'gpt-4o-2024-08-06', created: 1722814719, fineTunable: true },
  { id: 'gpt-4o', created: 1715367049, fineTunable: false },
  { id: 'gpt-4.1-2025-04-14', created: 1744315746, fineTunable: true },
  { id: 'gpt-4.1-mini-2025-04-14', created: 1744317547, fineTunable: true },
  { id: 'gpt-4.1-nano-2025-04-14', created: 1744321025, fineTunable: true },
  { id: 'gpt-3.5-turbo-0125', created: 1706048358, fineTunable: true },
  { id: 'gpt-3.5-turbo', created: 1677610602, fineTunable: true },
];

/** Aliases fine-tuning resolves to a dated snapshot, as the provider does (the job reports the snapshot). */
const SNAPSHOT_OF: Record<string, string> = {
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-3.5-turbo': 'gpt-3.5-turbo-0125',
};

export function baseModels(): readonly BaseModel[] {
  return BASE_MODELS;
}

export function findBaseModel(id: string): BaseModel | undefined {
  return BASE_MODELS.find((m) => m.id === id);
}

/** The snapshot a fine-tuning job on `model` trains, or undefined if the model cannot be fine-tuned. */
export function fineTunableSnapshot(model: string): string | undefined {
  const found = findBaseModel(model);
  if (!found?.fineTunable) return undefined;
  return SNAPSHOT_OF[model] ?? model;
}

export function fineTunedModelName(base: string, suffix: string | null, shortId: string): string {
  return `ft:${base}:${ORG_NAME}:${suffix ?? ''}:${shortId}`;
}

export function checkpointModelName(base: string, suffix: string | null, shortId: string, step: number): string {
  return `${fineTunedModelName(base, suffix, shortId)}:ckpt-step-${step}`;
}

/** Azure names a fine-tuned model after its base and the job (the suffix is not part of it). */
export function azureFineTunedModelName(base: string, jobHex: string): string {
  return `${base}.ft-${jobHex}`;
}
