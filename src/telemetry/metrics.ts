import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { STAGES, TERMINAL_STAGES, type Stage } from '../domain/stages';
import type { EvalMetricsSink } from '../eval/chat';

/** Counts of the last 60 seconds, in one-second slots, for figures a person reads "per minute". */
export class PerMinute {
  private readonly slots = new Float64Array(60);
  private readonly slotSecond = new Float64Array(60).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  add(n: number): void {
    const second = Math.floor(this.now() / 1000);
    const i = second % 60;
    if (this.slotSecond[i] !== second) {
      this.slotSecond[i] = second;
      this.slots[i] = 0;
    }
    this.slots[i] = (this.slots[i] as number) + n;
  }

  /** The sum over the last 60 whole and partial seconds. */
  total(): number {
    const second = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let i = 0; i < 60; i++) if (second - (this.slotSecond[i] as number) < 60) sum += this.slots[i] as number;
    return sum;
  }
}

export type ProviderRequestStatus = `${number}` | 'connection_error' | 'aborted';

/** What provider calls report, whoever makes them (jobs, uploads, evaluation, the reaper). */
export interface ProviderMetricsSink {
  providerRequest(operation: string, status: ProviderRequestStatus, seconds: number): void;
}

/** What the dataset activities report. */
export interface ValidationMetricsSink {
  validated(bytes: number, seconds: number): void;
}

/**
 * The project's own Prometheus series (prefix `tuneflow_`), one registry per worker. Runs by stage come
 * from the stage transitions the workflow reports through the `runs` sink: each transition is counted
 * once, by the worker that executed it, so summing the gauge over workers gives the runs in each stage.
 */
export class TuneflowMetrics implements EvalMetricsSink, ProviderMetricsSink, ValidationMetricsSink {
  readonly registry = new Registry();
  private readonly runsInStage: Gauge<'stage'>;
  private readonly stageEntries: Counter<'stage'>;
  private readonly runsFinished: Counter<'outcome'>;
  private readonly providerRequests: Counter<'operation' | 'status'>;
  private readonly providerSeconds: Histogram<'operation'>;
  private readonly evalRequests: Counter<'outcome'>;
  private readonly evalTokenCount: Counter<'kind'>;
  private readonly validationBytes: Counter;
  private readonly validationSeconds: Counter;
  private readonly validationThroughput: Gauge;
  private readonly evalRequestsLastMinute: PerMinute;
  private readonly evalTokensLastMinute: PerMinute;

  constructor(options: { now?: () => number; processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.evalRequestsLastMinute = new PerMinute(options.now);
    this.evalTokensLastMinute = new PerMinute(options.now);
    this.runsInStage = new Gauge({
      name: 'tuneflow_runs_in_stage',
      help: 'Runs in each non-terminal stage, by the stage transitions this worker executed (sum over workers)',
      labelNames: ['stage'],
      registers,
    });
    for (const stage of STAGES) if (!TERMINAL_STAGES.has(stage)) this.runsInStage.set({ stage }, 0);
    this.stageEntries = new Counter({ name: 'tuneflow_run_stage_entries_total', help: 'Times a run entered each stage', labelNames: ['stage'], registers });
    this.runsFinished = new Counter({ name: 'tuneflow_runs_finished_total', help: 'Runs that ended, by outcome (done, failed, cancelled)', labelNames: ['outcome'], registers });
    this.providerRequests = new Counter({
      name: 'tuneflow_provider_requests_total',
      help: 'HTTP requests to the provider, by OpenAPI operation and HTTP status (or connection_error, aborted)',
      labelNames: ['operation', 'status'],
      registers,
    });
    this.providerSeconds = new Histogram({
      name: 'tuneflow_provider_request_duration_seconds',
      help: 'Provider HTTP request duration until the response headers',
      labelNames: ['operation'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.evalRequests = new Counter({
      name: 'tuneflow_eval_requests_total',
      help: 'Evaluation chat completion attempts, by outcome (ok, rate_limited, transient, error)',
      labelNames: ['outcome'],
      registers,
    });
    this.evalTokenCount = new Counter({ name: 'tuneflow_eval_tokens_total', help: 'Evaluation tokens the provider reported using, by kind (prompt, completion)', labelNames: ['kind'], registers });
    const requestsLastMinute = this.evalRequestsLastMinute;
    const tokensLastMinute = this.evalTokensLastMinute;
    new Gauge({
      name: 'tuneflow_eval_requests_per_minute',
      help: 'Evaluation chat completion attempts in the last 60 seconds',
      registers,
      collect() {
        this.set(requestsLastMinute.total());
      },
    });
    new Gauge({
      name: 'tuneflow_eval_tokens_per_minute',
      help: 'Evaluation tokens (prompt + completion) used in the last 60 seconds',
      registers,
      collect() {
        this.set(tokensLastMinute.total());
      },
    });
    this.validationBytes = new Counter({ name: 'tuneflow_validation_bytes_total', help: 'Dataset bytes validated', registers });
    this.validationSeconds = new Counter({ name: 'tuneflow_validation_seconds_total', help: 'Seconds spent validating datasets', registers });
    this.validationThroughput = new Gauge({ name: 'tuneflow_validation_bytes_per_second', help: 'Throughput of the latest dataset validation', registers });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'tuneflow_' });
  }

  stageEntered(from: Stage | null, to: Stage): void {
    if (from === to) return;
    if (from !== null && !TERMINAL_STAGES.has(from)) this.runsInStage.dec({ stage: from });
    this.stageEntries.inc({ stage: to });
    if (TERMINAL_STAGES.has(to)) this.runsFinished.inc({ outcome: to });
    else this.runsInStage.inc({ stage: to });
  }

  providerRequest(operation: string, status: ProviderRequestStatus, seconds: number): void {
    this.providerRequests.inc({ operation, status });
    this.providerSeconds.observe({ operation }, seconds);
  }

  evalRequest(outcome: 'ok' | 'rate_limited' | 'transient' | 'error'): void {
    this.evalRequests.inc({ outcome });
    this.evalRequestsLastMinute.add(1);
  }

  evalTokens(promptTokens: number, completionTokens: number): void {
    this.evalTokenCount.inc({ kind: 'prompt' }, promptTokens);
    this.evalTokenCount.inc({ kind: 'completion' }, completionTokens);
    this.evalTokensLastMinute.add(promptTokens + completionTokens);
  }

  validated(bytes: number, seconds: number): void {
    this.validationBytes.inc(bytes);
    this.validationSeconds.inc(seconds);
    if (seconds > 0) this.validationThroughput.set(bytes / seconds);
  }

  /** The exposition text of the project's series. */
  async expose(): Promise<string> {
    return this.registry.metrics();
  }
}
