// Together dialect: the base models the backend fine-tunes, the hardware endpoints run on, and Together's naming.
import { derivedId } from '../ids';

/** The account namespace fine-tuned models are published under, as `<namespace>/<base>-<suffix>-<hash>`. */
export const TOGETHER_NAMESPACE = 'tuneflow-local';

export interface TogetherBaseModel {
  id: string;
  created: number;
  paramCount: number;
  /** The largest batch size Together accepts for this model; `"max"` resolves to it. */
  maxBatchSize: number;
  /** LoRA fine-tunes of this base answer serverless by their output name; others need a dedicated endpoint. */
  serverlessLora: boolean;
}

const BASE_MODELS: TogetherBaseModel[] = [
  { id: 'meta-llama/Meta-Llama-3.1-8B-Instruct-Reference', created: 1721692800, paramCount: 8_030_261_248, maxBatchSize: 32, serverlessLora: true },
  { id: 'meta-llama/Meta-Llama-3.1-70B-Instruct-Reference', created: 1721692800, paramCount: 70_553_706_496, maxBatchSize: 16, serverlessLora: true },
  { id: 'Qwen/Qwen2.5-7B-Instruct', created: 1726617600, paramCount: 7_615_616_512, maxBatchSize: 32, serverlessLora: false },
  { id: 'mistralai/Mistral-7B-Instruct-v0.2', created: 1702339200, paramCount: 7_241_732_096, maxBatchSize: 32, serverlessLora: false },
];

export function togetherBaseModels(): readonly TogetherBaseModel[] {
  return BASE_MODELS;
}

export function findTogetherBaseModel(id: string): TogetherBaseModel | undefined {
  return BASE_MODELS.find((m) => m.id === id);
}

/** Hardware ids a dedicated endpoint may ask for (`GET /hardware` of the real service lists more). */
export const TOGETHER_HARDWARE = ['1x_nvidia_a100_80gb_sxm', '2x_nvidia_a100_80gb_sxm', '1x_nvidia_h100_80gb_sxm', '2x_nvidia_h100_80gb_sxm', '4x_nvidia_h100_80gb_sxm'] as const;

/** `<namespace>/<base>[-<suffix>]-<8 hex>`, the shape of the spec's example `mynamespace/meta-llama/Llama-2-7b-hf-32162631`. */
export function modelOutputName(base: string, suffix: string | null, jobId: string): string {
  return `${TOGETHER_NAMESPACE}/${base}${suffix ? `-${suffix}` : ''}-${derivedId('', `${jobId}:output`, 8).toLowerCase()}`;
}

/** What `from_checkpoint` calls an intermediate checkpoint: `<output name>:<step>`. */
export function checkpointModelName(outputName: string, step: number): string {
  return `${outputName}:${step}`;
}

/** A dedicated endpoint's system name: `<owner>/<model>-<8 hex>`, as the spec's `devuser/deepseek-ai/DeepSeek-R1-a32b82a1`. */
export function endpointSystemName(model: string, endpointId: string): string {
  const owned = model.startsWith(`${TOGETHER_NAMESPACE}/`) ? model : `${TOGETHER_NAMESPACE}/${model}`;
  return `${owned}-${derivedId('', `${endpointId}:name`, 8).toLowerCase()}`;
}
