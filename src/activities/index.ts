import type { FineTuneProvider } from '../provider/types';
import type { Logger } from 'pino';
import { pollingPolicy, storageSettings, type AppConfig } from '../config';
import { openStorage, type Storage } from '../store';
import type { EvalMetricsSink } from '../eval/chat';
import type { ValidationMetricsSink } from '../telemetry/metrics';
import { createDatasetActivities } from './dataset';
import { createEvalActivities } from './eval';
import { createLineActivities } from './lines';
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
  /** The run store; absent: opened from the config (TUNEFLOW_STORE, else the artifacts folder). */
  storage?: Storage | undefined;
}

/** Every side effect of a run, built from injected dependencies; the worker registers the result. */
export function createActivities(deps: ActivityDeps) {
  const { dataRoots } = deps.config;
  const settings = storageSettings(deps.config);
  const storage = deps.storage ?? openStorage(settings.location, settings.s3);
  return {
    ...createDatasetActivities({ storage, dataRoots, logger: deps.logger, metrics: deps.metrics, optionProblems: (spec) => deps.provider().optionProblems(spec) }),
    ...createProviderJobActivities({ storage, logger: deps.logger, provider: deps.provider, pollingPolicy: pollingPolicy(deps.config) }),
    ...createEvalActivities({ ...deps, storage }),
    ...createReaperActivities({ logger: deps.logger, provider: deps.provider }),
    ...createServingActivities({ logger: deps.logger, provider: deps.provider }),
    ...createLineActivities({ logger: deps.logger }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
