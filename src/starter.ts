import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { AppConfig } from './config';
import { resolvePipelineInput, type PipelineInput, type ResolvedPipelineInput } from './domain/pipeline';
import { BASE_MODEL_KEY, LINE_KEY, STAGE_KEY } from './domain/search-attributes';
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

let version: string | undefined;
/** The package's version, for the memo: package.json sits one level above this module in src/ and dist/ alike. */
export function tuneflowVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** What the memo says about a run from its start; the workflow adds the report location and the fine-tuned model later. */
export interface RunStartMemo {
  version: string;
  /** The dataset path or URI; null for encrypted runs. */
  dataset: string | null;
  model: string;
  line: string | null;
  reportCommand: string;
}

/** What the Temporal UI shows of a run before its first step: search attributes, memo, one-line summary, markdown details. */
export interface PipelineStartDecoration {
  typedSearchAttributes: SearchAttributePair[];
  memo: { tuneflow: RunStartMemo };
  staticSummary: string;
  staticDetails: string;
}

/** `7 d`, `12 h`, `90 min`, `45 s`: the largest unit that divides the duration. */
export function formatSeconds(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['min', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  }
  return `${seconds} s`;
}

/** Where a run's files will be, as this starter's config sees the store (the workers' TUNEFLOW_STORE must agree). */
function runFilesLocation(config: Pick<AppConfig, 'store' | 'artifactsDir'>, workflowId: string): string {
  const store = config.store ?? { kind: 'local' as const, dir: config.artifactsDir };
  if (store.kind === 's3') return `s3://${store.bucket}/${store.prefix ? `${store.prefix}/` : ''}${workflowId}/`;
  return `${path.join(store.dir, workflowId)}/`;
}

function hyperparameterText(h: ResolvedPipelineInput['hyperparameters']): string {
  const given = Object.entries(h ?? {}).filter(([, v]) => v !== undefined);
  return given.length === 0 ? "the provider's defaults" : given.map(([k, v]) => `\`${k}\` ${String(v)}`).join(', ');
}

/**
 * The decoration of a run, however it starts (`tuneflow run`, a schedule, another service): the same
 * search attributes, memo, summary and details. `workflowIdHint` is the id, or what stands for it
 * (a schedule's runs get theirs when they start). Encrypted runs (codec keys set) name no dataset here,
 * and their base model stays out of the search attributes, which Temporal stores in clear.
 */
export function pipelineStartDecoration(resolved: ResolvedPipelineInput, config: Pick<AppConfig, 'codec' | 'store' | 'artifactsDir'>, workflowIdHint: string): PipelineStartDecoration {
  const encrypted = config.codec !== undefined;
  const datasetName = resolved.datasetPath.split('/').pop() || resolved.datasetPath;
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: STAGE_KEY, value: 'validating' },
    ...(encrypted ? [] : [{ key: BASE_MODEL_KEY, value: resolved.model }]),
    ...(resolved.line !== undefined ? [{ key: LINE_KEY, value: resolved.line }] : []),
  ];
  const reportCommand = `tuneflow report ${workflowIdHint}`;
  const summary = [
    encrypted ? `fine-tune ${resolved.model} (encrypted dataset)` : `fine-tune ${resolved.model} on ${datasetName}`,
    ...(resolved.line !== undefined ? [`line ${resolved.line}`] : []),
    ...(resolved.approval === 'required' ? ['approval required'] : []),
  ].join(' · ');
  const minImprovement = resolved.eval.minImprovement;
  const gate = minImprovement !== undefined ? `by at least ${minImprovement}` : 'at all';
  const details = [
    encrypted ? `**Fine-tuning \`${resolved.model}\`** (payloads encrypted)` : `**Fine-tuning \`${resolved.model}\`** on \`${datasetName}\``,
    '',
    `- **Dataset:** ${encrypted ? 'not shown: the run is encrypted (its input names it; read it through the codec server)' : `\`${resolved.datasetPath}\``}`,
    `- **Model:** \`${resolved.model}\``,
    `- **Split:** ${Math.round(resolved.validRatio * 1000) / 10}% held out for validation, seed ${resolved.seed}`,
    `- **Hyperparameters:** ${hyperparameterText(resolved.hyperparameters)}`,
    `- **Budget:** ${resolved.budgetUsd !== undefined ? `$${resolved.budgetUsd.toFixed(2)}: the run stops before training if the estimate is higher` : 'none'}`,
    `- **Line:** ${
      resolved.line !== undefined
        ? `\`${resolved.line}\`: promoted only if it beats the line's champion ${gate}; skipped when the champion was trained on the same data`
        : `none: compared with the base model (promoted if it beats it ${gate})`
    }`,
    `- **Approval:** ${
      resolved.approval === 'required'
        ? `required: after evaluation the run waits for \`tuneflow approve ${workflowIdHint}\` or \`tuneflow reject ${workflowIdHint}\`, and rejects by itself after ${formatSeconds(resolved.approvalTimeoutSeconds)}`
        : 'none: the evaluation gate decides'
    }`,
    '- **Cost:** estimated from the dataset\'s tokens when the run validates it (stage `validating`); the exact estimate is in the report',
    `- **Report:** \`${reportCommand}\`; run files under \`${runFilesLocation(config, workflowIdHint)}\``,
    `- **Watch:** \`tuneflow status ${workflowIdHint} --watch\``,
  ].join('\n');
  return {
    typedSearchAttributes,
    memo: { tuneflow: { version: tuneflowVersion(), dataset: encrypted ? null : resolved.datasetPath, model: resolved.model, line: resolved.line ?? null, reportCommand } },
    staticSummary: summary,
    staticDetails: details,
  };
}

/** A local dataset path made absolute for the worker; an s3:// URI as it is. */
export function datasetReference(datasetPath: string): string {
  return datasetPath.startsWith('s3://') ? datasetPath : path.resolve(datasetPath);
}

/** The namespace lacks tuneflow's search attributes: runs cannot be tagged, so none is started. */
export class SearchAttributesMissingError extends Error {}

export interface StartPipelineOptions {
  workflowId?: string;
  /**
   * `refuse` (default): an id whose run is running or has succeeded is an error (`RunAlreadyExistsError`);
   * a failed or cancelled run may be started again under its id. `use-existing`: the id names one run,
   * and starting it again returns that run, running or closed, whatever its input was.
   */
  onExisting?: 'refuse' | 'use-existing';
}

/** Starts a pipeline run. The workflow id is the run's identity: starting it twice never makes two jobs. */
export async function startPipeline(client: Client, config: AppConfig, input: PipelineInput, opts: StartPipelineOptions = {}): Promise<PipelineHandle> {
  const datasetPath = datasetReference(input.datasetPath);
  const resolved = resolvePipelineInput({ ...input, datasetPath });
  // Workflow ids and search attributes are stored in clear even with the codec on: they name neither dataset nor model then.
  const workflowId = opts.workflowId ?? (config.codec !== undefined ? anonymousWorkflowId() : defaultWorkflowId(datasetPath));
  assertUsableWorkflowId(workflowId);
  const useExisting = opts.onExisting === 'use-existing';
  try {
    return await client.workflow.start('fineTunePipeline', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [resolved],
      ...(useExisting
        ? { workflowIdConflictPolicy: 'USE_EXISTING' as const, workflowIdReusePolicy: 'REJECT_DUPLICATE' as const }
        : // A failed or cancelled run may be started again under its id; a finished one may not.
          { workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' as const }),
      ...pipelineStartDecoration(resolved, config, workflowId),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      if (useExisting) return closedRunHandle(client, workflowId);
      throw new RunAlreadyExistsError(`A run with id ${workflowId} already exists or has succeeded; see \`tuneflow status ${workflowId}\`, or pick another --id.`);
    }
    throw explainMissingSearchAttributes(err, config.temporal.namespace);
  }
}

/** The latest run of `workflowId` (closed: a start under REJECT_DUPLICATE refused it), as a handle bound to its chain. */
async function closedRunHandle(client: Client, workflowId: string): Promise<PipelineHandle> {
  const described = await client.workflow.getHandle(workflowId).describe();
  const firstExecutionRunId = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
  const handle = client.workflow.getHandle<typeof fineTunePipeline>(workflowId, undefined, { firstExecutionRunId });
  return Object.assign(handle, { firstExecutionRunId });
}

/** The server's "no mapping defined for search attribute X" at start (the client wraps it), turned into what to run. */
export function explainMissingSearchAttributes(err: unknown, namespace: string): unknown {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (/no mapping defined for search attribute|search attribute .* is not defined/i.test(e.message)) {
      return new SearchAttributesMissingError(
        `${e.message.replace(/^\d+ [A-Z_]+: /, '')}: namespace ${namespace} lacks tuneflow's search attributes. Register them once with \`tuneflow setup\` (see the README, "Registering search attributes").`,
      );
    }
  }
  return err;
}

export function uiLink(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
