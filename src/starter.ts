import path from 'node:path';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { AppConfig } from './config';
import { resolvePipelineInput, type PipelineInput } from './domain/pipeline';
import { BASE_MODEL_KEY, STAGE_KEY, TUNEFLOW_SEARCH_ATTRIBUTES } from './domain/search-attributes';
import type { fineTunePipeline } from './workflows';

export type PipelineHandle = WorkflowHandleWithFirstExecutionRunId<typeof fineTunePipeline>;

/** A readable id that sorts by time: `ft-<dataset name>-<yyyymmdd-hhmmss>-<4 hex>`. */
export function defaultWorkflowId(datasetPath: string, now = new Date()): string {
  const name = path.basename(datasetPath).replace(/\.jsonl$/i, '').replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 40);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return `ft-${name}-${stamp}-${suffix}`;
}

/** `ft-<yyyymmdd-hhmmss>-<4 hex>`: for encrypted runs, whose ids (never encrypted by Temporal) must not name the dataset. */
export function anonymousWorkflowId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return `ft-${stamp}-${suffix}`;
}

/** True when the namespace has tuneflow's search attributes (tuneflow dev registers them). */
async function searchAttributesRegistered(client: Client, namespace: string): Promise<boolean> {
  try {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
    return TUNEFLOW_SEARCH_ATTRIBUTES.every((k) => customAttributes?.[k.name] !== undefined);
  } catch {
    return false;
  }
}

export class RunAlreadyExistsError extends Error {}

/** A workflow id that cannot name a run: its files live in a folder named by the id. */
export class InvalidWorkflowIdError extends Error {}

/** Refuses ids that are not a plain folder name inside the artifacts folder ('.', '..', slashes, ...). */
export function assertUsableWorkflowId(workflowId: string): void {
  if (/^[A-Za-z0-9._:-]{1,200}$/.test(workflowId) && workflowId !== '.' && workflowId !== '..') return;
  throw new InvalidWorkflowIdError(
    `Workflow id ${JSON.stringify(workflowId)} cannot be used: a run keeps its files in a folder named by its id, so the id must be ` +
      "1 to 200 letters, digits, '.', '_', ':' or '-', and not '.' or '..'. Pick another --id.",
  );
}

/** Starts a pipeline run. The workflow id is the run's identity: starting it twice never makes two jobs. */
export async function startPipeline(
  client: Client,
  config: AppConfig,
  input: PipelineInput,
  opts: { workflowId?: string } = {},
): Promise<PipelineHandle> {
  // A local path is made absolute for the worker; an s3:// URI is passed as it is.
  const datasetPath = input.datasetPath.startsWith('s3://') ? input.datasetPath : path.resolve(input.datasetPath);
  const resolved = resolvePipelineInput({ ...input, datasetPath });
  // Workflow ids and search attributes are stored in clear even with the codec on: they name neither dataset nor model then.
  const encrypted = config.codec !== undefined;
  const workflowId = opts.workflowId ?? (encrypted ? anonymousWorkflowId() : defaultWorkflowId(datasetPath));
  assertUsableWorkflowId(workflowId);
  const tag = await searchAttributesRegistered(client, config.temporal.namespace);
  try {
    return await client.workflow.start('fineTunePipeline', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [resolved],
      // A failed or cancelled run may be started again under its id; a finished one may not.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      ...(tag
        ? { typedSearchAttributes: [{ key: STAGE_KEY, value: 'validating' }, ...(encrypted ? [] : [{ key: BASE_MODEL_KEY, value: resolved.model }])] }
        : {}),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new RunAlreadyExistsError(`A run with id ${workflowId} already exists or has succeeded; see \`tuneflow status ${workflowId}\`, or pick another --id.`);
    }
    throw err;
  }
}

export function uiLink(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
