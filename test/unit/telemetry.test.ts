import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { PerMinute, TuneflowMetrics } from '../../src/telemetry/metrics';
import { instrumentedFetch, providerOperation } from '../../src/telemetry/provider-fetch';

const series = async (metrics: TuneflowMetrics, name: string): Promise<Record<string, number>> => {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [JSON.stringify(v.labels), v.value]));
};

describe('provider operations', () => {
  it.each<[string, string, string]>([
    ['POST', 'https://api.openai.com/v1/chat/completions', 'createChatCompletion'],
    ['POST', 'https://api.openai.com/v1/files', 'createFile'],
    ['GET', 'https://api.openai.com/v1/files?purpose=fine-tune&limit=100', 'listFiles'],
    ['GET', 'http://127.0.0.1:8787/v1/fine_tuning/jobs/ftjob-abc123', 'retrieveFineTuningJob'],
    ['GET', 'http://127.0.0.1:8787/v1/fine_tuning/jobs/ftjob-abc123/events?after=ev_1', 'listFineTuningEvents'],
    ['GET', 'http://127.0.0.1:8787/v1/fine_tuning/jobs/ftjob-abc123/checkpoints', 'listFineTuningJobCheckpoints'],
    ['POST', 'http://127.0.0.1:8787/v1/fine_tuning/jobs/ftjob-abc123/cancel', 'cancelFineTuningJob'],
    ['GET', 'https://example.test/openai/v1/fine_tuning/jobs?metadata[k]=v', 'listPaginatedFineTuningJobs'],
    ['GET', 'https://api.openai.com/v1/embeddings', 'other'],
  ])('names %s %s %s', (method, url, operation) => {
    expect(providerOperation(method, new URL(url)).operation).toBe(operation);
  });
});

describe('instrumented provider fetch', () => {
  it('counts each HTTP request by operation and status, a dropped connection as connection_error, and leaves data: URLs alone', async () => {
    const metrics = new TuneflowMetrics({ processMetrics: false });
    const answers = [new Response('{}', { status: 200 }), new Response('{}', { status: 429 }), new Response('{}', { status: 200 })];
    const seen: string[] = [];
    const fetch = instrumentedFetch(metrics, async (input) => {
      seen.push(String(input));
      if (String(input).endsWith('/jobs/ftjob-gone')) throw new TypeError('fetch failed');
      if (String(input).startsWith('data:')) return new Response('');
      return answers.shift() as Response;
    });
    await fetch('http://127.0.0.1:1/v1/chat/completions', { method: 'POST', body: '{}' });
    await fetch('http://127.0.0.1:1/v1/chat/completions', { method: 'POST', body: '{}' });
    await fetch('http://127.0.0.1:1/v1/fine_tuning/jobs/ftjob-1', { method: 'GET' });
    await expect(fetch('http://127.0.0.1:1/v1/fine_tuning/jobs/ftjob-gone')).rejects.toThrow('fetch failed');
    await fetch('data:,');
    expect(seen).toHaveLength(5);
    expect(await series(metrics, 'tuneflow_provider_requests_total')).toEqual({
      '{"operation":"createChatCompletion","status":"200"}': 1,
      '{"operation":"createChatCompletion","status":"429"}': 1,
      '{"operation":"retrieveFineTuningJob","status":"200"}': 1,
      '{"operation":"retrieveFineTuningJob","status":"connection_error"}': 1,
    });
  });
});

describe('worker metrics', () => {
  it('keeps runs by stage from the transitions runs report, and counts each ending by outcome', async () => {
    const metrics = new TuneflowMetrics({ processMetrics: false });
    metrics.stageEntered(null, 'validating');
    metrics.stageEntered(null, 'validating');
    metrics.stageEntered('validating', 'splitting');
    metrics.stageEntered('validating', 'failed');
    metrics.stageEntered('splitting', 'splitting');
    const inStage = await series(metrics, 'tuneflow_runs_in_stage');
    expect(inStage['{"stage":"validating"}']).toBe(0);
    expect(inStage['{"stage":"splitting"}']).toBe(1);
    expect(inStage['{"stage":"training"}']).toBe(0);
    expect(inStage['{"stage":"failed"}']).toBeUndefined();
    expect(await series(metrics, 'tuneflow_runs_finished_total')).toEqual({ '{"outcome":"failed"}': 1 });
    expect(await series(metrics, 'tuneflow_run_stage_entries_total')).toEqual({ '{"stage":"validating"}': 2, '{"stage":"splitting"}': 1, '{"stage":"failed"}': 1 });
  });

  it('sums evaluation requests and tokens over the last 60 seconds only', () => {
    let now = 1_000_000;
    const window = new PerMinute(() => now);
    window.add(3);
    now += 30_000;
    window.add(4);
    expect(window.total()).toBe(7);
    now += 31_000;
    expect(window.total()).toBe(4);
    now += 60_000;
    expect(window.total()).toBe(0);
  });
});

describe('telemetry configuration', () => {
  it('turns tracing on with the standard OTLP variables and reads the metrics port', () => {
    expect(loadConfig({}).telemetry).toEqual({ metricsPort: undefined, metricsHost: '0.0.0.0', otlpTracesUrl: undefined, serviceName: undefined });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).telemetry?.otlpTracesUrl).toBe('http://collector:4318/v1/traces');
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom' }).telemetry?.otlpTracesUrl,
    ).toBe('http://traces:4318/custom');
    expect(loadConfig({ TUNEFLOW_METRICS_PORT: '9464', OTEL_SERVICE_NAME: 'ft-worker' }).telemetry).toMatchObject({ metricsPort: 9464, serviceName: 'ft-worker' });
    expect(loadConfig({ TUNEFLOW_METRICS_PORT: '' }).telemetry?.metricsPort).toBeUndefined();
    expect(() => loadConfig({ TUNEFLOW_METRICS_PORT: '70000' })).toThrow(/TUNEFLOW_METRICS_PORT/);
  });
});
