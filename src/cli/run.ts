import type { Command } from 'commander';
import type { PipelineInput } from '../domain/pipeline';
import { cliConfig, connectClient, parseNumber } from './context';
import { followRun, formatResult } from './progress';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  program
    .command('run')
    .description('start a fine-tuning pipeline run on a chat JSONL dataset')
    .argument('<file>', 'chat-format JSONL dataset (a path the worker can read)')
    .requiredOption('--model <model>', 'base model to fine-tune, e.g. gpt-4o-mini-2024-07-18')
    .option('--id <workflowId>', 'workflow id for the run (default: ft-<dataset>-<time>-<rand>)')
    .option('--wait', 'follow the run until it ends, showing live progress (redrawn in place on a terminal)')
    .option('--json', 'print the result as JSON (with --wait) or the started run as JSON')
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
    .option('--min-improvement <x>', 'gate: promote only if the recommended model beats base by at least this', parseNumber('--min-improvement'))
    .action(async (file: string, o: Record<string, unknown>) => {
      const config = await cliConfig();
      const client = await connectClient(config);
      const [{ startPipeline, uiLink }, { progressQuery }] = await Promise.all([import('../starter'), import('../workflows/messages')]);
      const input: PipelineInput = {
        datasetPath: file,
        model: o.model as string,
        ...(o.seed !== undefined ? { seed: o.seed as number } : {}),
        ...(o.validRatio !== undefined ? { validRatio: o.validRatio as number } : {}),
        ...(o.suffix ? { suffix: o.suffix as string } : {}),
        ...(o.epochs !== undefined ? { hyperparameters: { n_epochs: o.epochs as number } } : {}),
        ...(o.budgetUsd !== undefined ? { budgetUsd: o.budgetUsd as number } : {}),
        ...(o.allowTruncation ? { allowTruncation: true } : {}),
        ...(o.pollInterval !== undefined ? { pollIntervalSeconds: o.pollInterval as number } : {}),
        eval: {
          compare: o.compare as string[],
          ...(o.evalFile ? { evalFile: o.evalFile as string } : {}),
          ...(o.evalMaxExamples !== undefined ? { maxExamples: o.evalMaxExamples as number } : {}),
          ...(o.judgeModel ? { judgeModel: o.judgeModel as string } : {}),
          ...(o.minImprovement !== undefined ? { minImprovement: o.minImprovement as number } : {}),
        },
      };
      const handle = await startPipeline(client, config, input, { workflowId: o.id as string | undefined });
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
