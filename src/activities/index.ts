import type { FineTuneProvider } from '../provider/types';
import type { Logger } from 'pino';
import type { AppConfig } from '../config';
import type { EvalMetricsSink } from '../eval/chat';
import type { ValidationMetricsSink } from '../telemetry/metrics';
import { createDatasetActivities } from './dataset';
import { createEvalActivities } from './eval';
import { createProviderJobActivities } from './provider-jobs';
import { createReaperActivities } from './reaper';
import { createServingActivities } from './serving';

export interface ActivityDeps {
  config: AppConfig;
  logger: Logger;
  /** Builds the provider client; injected so tests and other providers come in through one seam. */
  provider: () => FineTuneProvider;
  /** Where evaluation and validation figures go when the worker serves metrics. */
  metrics?: (EvalMetricsSink & ValidationMetricsSink) | undefined;
}

/** Every side effect of a run, built from injected dependencies; the worker registers the result. */
export function createActivities(deps: ActivityDeps) {
  const { artifactsDir, dataRoots } = deps.config;
  return {
    ...createDatasetActivities({ artifactsDir, dataRoots, logger: deps.logger, metrics: deps.metrics, optionProblems: (spec) => deps.provider().optionProblems(spec) }),
    ...createProviderJobActivities({ artifactsDir, logger: deps.logger, provider: deps.provider }),
    ...createEvalActivities(deps),
    ...createReaperActivities({ logger: deps.logger, provider: deps.provider }),
    ...createServingActivities({ logger: deps.logger, provider: deps.provider }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
