import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { JobTags, ServingState, FineTuneProvider, ModelServing } from '../provider/types';
import { withProgressHeartbeat } from './heartbeat';
import { nonRetryable } from './failures';

export interface ServingDeps {
  logger: Logger;
  provider: () => FineTuneProvider;
}

/** What the workflow learns about the provider once, when training has ended. */
export interface ServingProfile {
  /** Null when models answer as soon as the job succeeds. */
  kind: ModelServing['kind'] | null;
  checkpointsHaveLoss: boolean;
}

export interface ServingRequest {
  runKey: string;
  tags: JobTags;
  /** The fine-tuned models and checkpoints to make answerable. */
  models: string[];
  /** Base and extra models: named by the provider's rule, never created. */
  baseModels: string[];
}

export interface ServingReport {
  states: ServingState[];
  /** Model → the name chat takes for it. */
  servedAs: Record<string, string>;
}

/** Every name tuneflow gives a run's deployments starts with this: cleanup finds them all by it, even ones a killed attempt made. */
export function servingPrefix(runKey: string): string {
  return `tf-${createHash('sha256').update(runKey).digest('hex').slice(0, 12)}-`;
}

/** Derived from the run and the model, so a retry or a replay finds its own deployment instead of creating another. */
export function servingName(runKey: string, model: string): string {
  return `${servingPrefix(runKey)}${createHash('sha256').update(model).digest('hex').slice(0, 12)}`;
}

function servingOf(provider: FineTuneProvider): ModelServing {
  if (!provider.serving) throw nonRetryable(`The ${provider.kind} provider serves models without deployments; nothing to deploy`, 'NoServing');
  return provider.serving;
}

export function createServingActivities({ logger, provider }: ServingDeps) {
  async function report(req: ServingRequest, look: (serving: ModelServing, name: string, model: string) => Promise<ServingState>): Promise<ServingReport> {
    const serving = servingOf(provider());
    const states: ServingState[] = [];
    await withProgressHeartbeat({ done: 0, total: req.models.length }, async (reporter) => {
      for (const model of req.models) {
        states.push(await look(serving, servingName(req.runKey, model), model));
        reporter.update({ done: states.length, total: req.models.length });
      }
    });
    const servedAs: Record<string, string> = {};
    for (const model of req.baseModels) servedAs[model] = serving.servedNameOfBase(model);
    for (const s of states) servedAs[s.model] = s.servedAs;
    return { states, servedAs };
  }

  return {
    async describeProvider(): Promise<ServingProfile> {
      const p = provider();
      return { kind: p.serving?.kind ?? null, checkpointsHaveLoss: p.checkpointsHaveLoss };
    },

    /** Asks for every model to be made answerable (or finds what an earlier attempt asked for). */
    async startServing(req: ServingRequest): Promise<ServingReport> {
      const out = await report(req, (serving, name, model) => serving.ensure({ name, model, tags: req.tags }));
      logger.info({ runKey: req.runKey, deployments: out.states.map((s) => `${s.name}:${s.state}`) }, 'serving requested');
      return out;
    },

    async checkServing(req: ServingRequest): Promise<ServingReport> {
      return report(req, (serving, name, model) => serving.state({ name, model }));
    },

    /** Deletes everything the run made answerable, found by the run's name prefix: also what a killed attempt created. */
    async stopServing(req: { runKey: string }): Promise<{ removed: string[]; stillDeleting: string[] }> {
      const serving = servingOf(provider());
      const names = await serving.list(servingPrefix(req.runKey));
      const removed: string[] = [];
      const stillDeleting: string[] = [];
      await withProgressHeartbeat({ removed: 0, total: names.length }, async (reporter) => {
        for (const name of names) {
          const outcome = await serving.remove(name);
          if (outcome === 'deleting') stillDeleting.push(name);
          else removed.push(name);
          reporter.update({ removed: removed.length + stillDeleting.length, total: names.length });
        }
      });
      logger.info({ runKey: req.runKey, removed, stillDeleting }, 'serving removed');
      return { removed, stillDeleting };
    },
  };
}
