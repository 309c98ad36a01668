import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from './context';

export const DEFAULT_VALIDATE_MODEL = 'gpt-4o-mini-2024-07-18';
/** The split `run` makes unless told otherwise (see PipelineInputSchema). */
const RUN_DEFAULT_SEED = 42;

/** Exit codes: 0 valid, 1 invalid or over budget, 2 usage error (raised as UsageError/CommanderError). */
export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;

function positiveNumber(flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number.`);
    return n;
  };
}

function ratio(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError('--valid-ratio must be a number between 0 and 1 (exclusive).');
  return n;
}

function seed(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('--seed must be a non-negative integer.');
  return n;
}

interface ValidateFlags {
  model: string;
  json?: boolean;
  budgetUsd?: number;
  allowTruncation?: boolean;
  validRatio?: number;
  seed?: number;
}

/** An object in a bucket, read with the AWS settings of the environment (AWS_*, AWS_ENDPOINT_URL). */
async function openS3Dataset(uri: string) {
  const [{ loadConfig, storageSettings }, { createS3Client, parseS3Uri, s3ObjectSource }] = await Promise.all([import('../config'), import('../store')]);
  let location: { bucket: string; key: string };
  try {
    location = parseS3Uri(uri);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const client = createS3Client(storageSettings(loadConfig()).s3);
  return { source: s3ObjectSource(client, location.bucket, location.key), close: () => client.destroy() };
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check a chat fine-tuning JSONL file: format, statistics, tokens, duplicates, PII and estimated cost')
    .argument('<file>', 'the dataset, one JSON example per line (.jsonl): a path or an s3://bucket/key URI')
    .option('--model <model>', 'base model whose tokenizer, per-example limit and price apply', DEFAULT_VALIDATE_MODEL)
    .option('--json', 'print the report as JSON (schema in docs/dataset-validation.md)')
    .option('--budget-usd <usd>', 'exit 1 when the estimated training cost exceeds this many dollars', positiveNumber('--budget-usd'))
    .option('--allow-truncation', 'report examples over the token limit as warnings instead of errors')
    .option('--valid-ratio <ratio>', 'estimate epochs and cost on the training side of this split, as `run` does (default: whole file)', ratio)
    .option('--seed <n>', `seed of that split (default ${RUN_DEFAULT_SEED}, as \`run\`)`, seed)
    .addHelpText('after', '\nExit codes: 0 valid, 1 invalid or over budget, 2 usage error (missing file, unknown model, bad flag).')
    .action(async (file: string, flags: ValidateFlags) => {
      const [{ resolveModelFacts, validationFailureMessage }, { DatasetFileError, formatValidationReport, validateDatasetFile }] = await Promise.all([
        import('../domain/dataset'),
        import('../dataset'),
      ]);
      const resolved = resolveModelFacts(flags.model);
      // A typo in --model must not silently validate against the wrong tokenizer and price.
      if (!resolved.ok) throw new UsageError(resolved.error);
      if (flags.seed !== undefined && flags.validRatio === undefined) throw new UsageError('--seed only applies with --valid-ratio.');
      let report;
      const s3 = file.startsWith('s3://') ? await openS3Dataset(file) : null;
      try {
        report = await validateDatasetFile(s3?.source ?? file, {
          model: flags.model,
          modelFacts: resolved.facts,
          allowTruncation: flags.allowTruncation ?? false,
          budgetUsd: flags.budgetUsd,
          validRatio: flags.validRatio,
          seed: flags.validRatio === undefined ? undefined : (flags.seed ?? RUN_DEFAULT_SEED),
        });
      } catch (err) {
        if (err instanceof DatasetFileError && err.code !== 'invalid_dataset') throw new UsageError(err.message);
        throw err;
      } finally {
        s3?.close();
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        const refusal = validationFailureMessage(report);
        if (refusal) process.stderr.write(`tuneflow: ${file}: ${refusal}\n`);
      } else {
        process.stdout.write(`${formatValidationReport(report)}\n`);
      }
      process.exitCode = report.valid ? EXIT_VALID : EXIT_INVALID;
    });
}
