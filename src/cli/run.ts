import { Option, type Command } from 'commander';
import type { PipelineInput, ResolvedPipelineInput } from '../domain/pipeline';
import { cliConfig, connectClient, parseNumber, UsageError } from './context';
import { followRun, formatResult } from './progress';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The options that shape a run's input, as commander parses them; `tuneflow run` and `tuneflow schedule create` share them. */
export interface RunInputOptions {
  model: string;
  seed?: number;
  validRatio?: number;
  suffix?: string;
  epochs?: number;
  budgetUsd?: number;
  allowTruncation?: boolean;
  pollInterval?: number;
  evalFile?: string;
  evalMaxExamples?: number;
  compare: string[];
  judgeModel?: string;
  minImprovement?: number;
  line?: string;
  approval?: 'none' | 'required';
  approvalTimeout?: string;
}

/** Adds the run-input options to a command (one definition for `run` and `schedule create`). */
export function addRunInputOptions(command: Command): Command {
  return command
    .requiredOption('--model <model>', 'base model to fine-tune, e.g. gpt-4o-mini-2024-07-18')
    .option('--seed <n>', 'seed for the split and the job', parseNumber('--seed'))
    .option('--valid-ratio <x>', 'share of examples held out for validation', parseNumber('--valid-ratio'))
    .option('--suffix <s>', 'suffix for the fine-tuned model name')
    .option('--epochs <n>', 'n_epochs (default: the provider picks)', parseNumber('--epochs'))
    .option('--budget-usd <x>', 'refuse to start training if the estimated cost exceeds this', parseNumber('--budget-usd'))
    .option('--allow-truncation', 'warn instead of failing on examples over the token limit')
    .option('--poll-interval <seconds>', 'seconds between job status polls (durable timer)', parseNumber('--poll-interval'))
    .option('--eval-file <file>', 'evaluate on this JSONL instead of the held-out split')
    .option('--eval-max-examples <n>', 'cap the evaluation set (sampled deterministically)', parseNumber('--eval-max-examples'))
    .option('--compare <model>', 'also evaluate this model (repeatable)', collect, [] as string[])
    .option('--judge-model <model>', 'LLM judge for pairwise comparison against the base model')
    .option('--min-improvement <x>', "gate: promote only if the recommended model beats the line's champion (or, without a line, the base model) by at least this", parseNumber('--min-improvement'))
    .option('--line <line>', 'the model line this run belongs to: compared with its champion, skipped when the data is unchanged')
    .addOption(new Option('--approval <mode>', 'required: wait for `tuneflow approve` or `tuneflow reject` after evaluation').choices(['none', 'required']))
    .option('--approval-timeout <duration>', 'with --approval required: reject by itself after this long, e.g. 48h or 7d (default 7d)');
}

/** Which flag sets which input field, so a refused value is reported by the flag the person typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  model: '--model',
  seed: '--seed',
  validRatio: '--valid-ratio',
  suffix: '--suffix',
  'hyperparameters.n_epochs': '--epochs',
  budgetUsd: '--budget-usd',
  pollIntervalSeconds: '--poll-interval',
  line: '--line',
  approval: '--approval',
  approvalTimeoutSeconds: '--approval-timeout',
  'eval.evalFile': '--eval-file',
  'eval.maxExamples': '--eval-max-examples',
  'eval.compare': '--compare',
  'eval.judgeModel': '--judge-model',
  'eval.minImprovement': '--min-improvement',
};

/** The pipeline input the options describe, checked by the input schema; a refused value is a usage error naming its flag. */
export async function runInputFromOptions(datasetPath: string, o: RunInputOptions, datasetFlag: string): Promise<{ input: PipelineInput; resolved: ResolvedPipelineInput }> {
  const [{ durationSeconds, InvalidDurationError }, { PipelineInputSchema }] = await Promise.all([import('../domain/durations'), import('../domain/pipeline')]);
  let approvalTimeoutSeconds: number | undefined;
  try {
    approvalTimeoutSeconds = o.approvalTimeout !== undefined ? durationSeconds('--approval-timeout', o.approvalTimeout) : undefined;
  } catch (err) {
    throw err instanceof InvalidDurationError ? new UsageError(err.message) : err;
  }
  if (approvalTimeoutSeconds !== undefined && o.approval !== 'required') throw new UsageError('--approval-timeout needs --approval required');
  const evalOptions = {
    compare: o.compare,
    ...(o.evalFile ? { evalFile: o.evalFile } : {}),
    ...(o.evalMaxExamples !== undefined ? { maxExamples: o.evalMaxExamples } : {}),
    ...(o.judgeModel ? { judgeModel: o.judgeModel } : {}),
    ...(o.minImprovement !== undefined ? { minImprovement: o.minImprovement } : {}),
  };
  const input: PipelineInput = {
    datasetPath,
    model: o.model,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.validRatio !== undefined ? { validRatio: o.validRatio } : {}),
    ...(o.suffix ? { suffix: o.suffix } : {}),
    ...(o.epochs !== undefined ? { hyperparameters: { n_epochs: o.epochs } } : {}),
    ...(o.budgetUsd !== undefined ? { budgetUsd: o.budgetUsd } : {}),
    ...(o.allowTruncation ? { allowTruncation: true } : {}),
    ...(o.pollInterval !== undefined ? { pollIntervalSeconds: o.pollInterval } : {}),
    ...(o.line !== undefined ? { line: o.line } : {}),
    ...(o.approval !== undefined ? { approval: o.approval } : {}),
    ...(approvalTimeoutSeconds !== undefined ? { approvalTimeoutSeconds } : {}),
    eval: evalOptions,
  };
  const parsed = PipelineInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    const flag = field === 'datasetPath' ? datasetFlag : (FLAG_OF_FIELD[field] ?? FLAG_OF_FIELD[field.split('.').slice(0, 2).join('.')]);
    throw new UsageError(`${flag ?? `input field ${field || '(root)'}`}: ${issue?.message ?? 'invalid'}`);
  }
  return { input, resolved: parsed.data };
}

export function register(program: Command): void {
  addRunInputOptions(
    program
      .command('run')
      .description('start a fine-tuning pipeline run on a chat JSONL dataset')
      .argument('<file>', 'chat-format JSONL dataset (a path the worker can read)')
      .option('--id <workflowId>', 'workflow id for the run (default: ft-<dataset>-<time>-<rand>)')
      .option('--wait', 'follow the run until it ends, showing live progress (redrawn in place on a terminal)')
      .option('--json', 'print the result as JSON (with --wait) or the started run as JSON'),
  ).action(async (file: string, o: RunInputOptions & { id?: string; wait?: boolean; json?: boolean }) => {
    const { input } = await runInputFromOptions(file, o, '<file>');
    const config = await cliConfig();
    const client = await connectClient(config);
    const [{ startPipeline, uiLink }, { progressQuery }] = await Promise.all([import('../starter'), import('../messages')]);
    const handle = await startPipeline(client, config, input, { workflowId: o.id });
    const link = uiLink(config.temporal.uiUrl, config.temporal.namespace, handle.workflowId);
    if (!o.wait) {
      if (o.json) console.log(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, ui: link }));
      else console.log(`Started ${handle.workflowId}\n  follow: tuneflow status ${handle.workflowId}\n  UI:     ${link}`);
      return;
    }
    if (!o.json) console.error(`Started ${handle.workflowId} — ${link}`);
    // --json is for scripts: progress stays one line per change, whatever the terminal.
    const result = await followRun(handle, progressQuery, process.stderr, o.json ? { live: false } : {});
    console.log(o.json ? JSON.stringify(result, null, 2) : formatResult(result, link));
  });
}
