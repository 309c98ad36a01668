/**
 * `tuneflow/client`: what another service needs to start and follow runs today, with no workflow or
 * activity code behind it. A first cut; the typed client of issue 10 replaces it.
 */
export { loadConfig, type AppConfig } from './config';
export {
  PipelineInputSchema,
  resolvePipelineInput,
  type PipelineInput,
  type PipelineProgress,
  type PipelineResult,
  type ResolvedPipelineInput,
} from './domain/pipeline';
export type { Stage } from './domain/stages';
export { anonymousWorkflowId, defaultWorkflowId, RunAlreadyExistsError, startPipeline, uiLink, type PipelineHandle } from './starter';
// A client from the config's Temporal settings (envconfig profile) whose payloads go through the codec keys, if any.
export { connectClient, tuneflowDataConverter } from './temporal/connect';
// Definitions only (defineQuery/defineUpdate): importing them loads no workflow code.
export { progressQuery, resumeSignal } from './workflows/messages';
