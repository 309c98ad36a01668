import type { Logger } from 'pino';
import { validationFailureMessage, type SplitManifest } from '../domain/dataset';
import { resolvePipelineInput } from '../domain/pipeline';
import { splitDatasetFile, validateDatasetFile } from '../dataset';
import type { ValidationMetricsSink } from '../telemetry/metrics';
import { RUN_FILES, runObjectKey, type Storage } from '../store';
import { nonRetryable } from './failures';
import { withProgressHeartbeat } from './heartbeat';
import { openInputFile } from './input-files';

export interface DatasetDeps {
  /** The run store (validation report, split files) and the S3 client for `s3://` datasets. */
  storage: Storage;
  /** Where datasets named in workflow input may be read from (config.dataRoots). */
  dataRoots: readonly string[];
  logger: Logger;
  metrics?: ValidationMetricsSink | undefined;
  /** What the provider cannot do with a run's options (see FineTuneProvider.optionProblems). */
  optionProblems?: ((spec: { model: string; suffix?: string | undefined; hyperparameters?: Record<string, unknown> | undefined }) => string[]) | undefined;
}

/** What the workflow keeps of a validation: counts and figures, never lines of the dataset. */
export interface ValidationSummary {
  valid: boolean;
  examples: number;
  sha256: string;
  bytes: number;
  errorCounts: Record<string, number>;
  warningCounts: Record<string, number>;
  estimatedCostUsd: number;
  chargedTokens: number;
  epochs: number;
  /** Why the run must stop before anything is uploaded, or null when it may go on. */
  failureMessage: string | null;
  /** The store key of validation.json. */
  reportPath: string;
}

export function createDatasetActivities({ storage, dataRoots, logger, metrics, optionProblems }: DatasetDeps) {
  const openDataset = (ref: string) => openInputFile(ref, { what: 'Dataset', notFoundType: 'DatasetNotFound', roots: dataRoots }, storage);
  return {
    async validateDataset(req: {
      runId: string;
      datasetPath: string;
      model: string;
      allowTruncation: boolean;
      budgetUsd?: number | undefined;
      validRatio: number;
      seed: number;
      /** The run's input as started, checked here against the strict schema (schedules and other services skip the starter). */
      pipelineInput?: unknown;
    }): Promise<ValidationSummary> {
      if (req.pipelineInput !== undefined) {
        let resolved: ReturnType<typeof resolvePipelineInput>;
        try {
          resolved = resolvePipelineInput(req.pipelineInput as Parameters<typeof resolvePipelineInput>[0]);
        } catch (err) {
          throw nonRetryable(err instanceof Error ? err.message : String(err), 'InvalidPipelineInput');
        }
        // Options the provider lacks are found here, before anything leaves the machine.
        const problems = optionProblems?.(resolved) ?? [];
        if (problems.length > 0) throw nonRetryable(`The provider cannot run these options:\n  ${problems.join('\n  ')}`, 'InvalidPipelineInput');
      }
      const dataset = await openDataset(req.datasetPath);
      const started = performance.now();
      const report = await withProgressHeartbeat({ bytesRead: 0, bytes: 0, lines: 0 }, (reporter) =>
        validateDatasetFile(dataset, {
          model: req.model,
          allowTruncation: req.allowTruncation,
          budgetUsd: req.budgetUsd,
          validRatio: req.validRatio,
          seed: req.seed,
          onProgress: (p) => reporter.update(p),
        }),
      );
      metrics?.validated(report.bytes, (performance.now() - started) / 1000);
      const reportPath = runObjectKey(req.runId, RUN_FILES.validation);
      await storage.store.put(reportPath, JSON.stringify(report, null, 2));
      const failureMessage = validationFailureMessage(report, req.budgetUsd);
      logger.info({ runId: req.runId, examples: report.examples, valid: report.valid, errors: report.errorCounts }, 'dataset validated');
      return {
        valid: report.valid,
        examples: report.examples,
        sha256: report.sha256,
        bytes: report.bytes,
        errorCounts: report.errorCounts,
        warningCounts: report.warningCounts,
        estimatedCostUsd: report.estimatedCostUsd,
        chargedTokens: report.chargedTokens,
        epochs: report.epochs,
        failureMessage: failureMessage ? `${req.datasetPath}: ${failureMessage}` : null,
        reportPath,
      };
    },

    /** Writes split/train.jsonl and split/valid.jsonl under the run's key; the manifest's paths are those store keys. */
    async splitDataset(req: { runId: string; datasetPath: string; seed: number; validRatio: number }): Promise<SplitManifest> {
      const dataset = await openDataset(req.datasetPath);
      const out = { store: storage.store, train: runObjectKey(req.runId, RUN_FILES.train), valid: runObjectKey(req.runId, RUN_FILES.valid) };
      const manifest = await withProgressHeartbeat({ pass: 1, bytesRead: 0, bytes: 0, lines: 0 }, (reporter) =>
        splitDatasetFile(dataset, { store: out, seed: req.seed, validRatio: req.validRatio, onProgress: (p) => reporter.update(p) }),
      );
      logger.info({ runId: req.runId, train: manifest.train.examples, valid: manifest.valid.examples }, 'dataset split');
      return manifest;
    },
  };
}
