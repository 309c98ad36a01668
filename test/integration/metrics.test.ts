import { stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startPipeline } from '../../src/starter';
import { freeLoopbackPort } from '../../src/telemetry/metrics-server';
import { waitForProgress } from '../helpers/runs';
import { SAMPLE_DATASET, spawnTuneflowWorker, startBackend, taskQueueFor, testConfig, useTemporal } from '../helpers/stack';

const temporal = useTemporal();

/** Prometheus text exposition → value by `name{label="value",...}` (labels as the exporter wrote them). */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([^\s{]+(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match) out.set(match[1] as string, Number(match[2]));
  }
  return out;
}

async function scrape(port: number): Promise<{ text: string; series: Map<string, number> }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  return { text, series: parseExposition(text) };
}

describe('worker metrics', () => {
  it("serves the project's series and the Temporal runtime's on --metrics-port while a run is evaluating, and counts the run's outcome when it ends", async () => {
    // A request limit slows the evaluation, so it is still going on when the test scrapes.
    const backend = await startBackend({ rpm: 900 });
    const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('metrics'));
    const port = await freeLoopbackPort();
    const worker = spawnTuneflowWorker(config, ['--metrics-port', String(port)], { TUNEFLOW_METRICS_HOST: '127.0.0.1' });
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    try {
      const handle = await startPipeline(temporal.env.client, config, {
        datasetPath: SAMPLE_DATASET,
        model: 'gpt-4o-mini-2024-07-18',
        pollIntervalSeconds: 1,
        eval: { batchSize: 8, concurrency: 2 },
      });
      await waitForProgress(temporal.env.client, handle.workflowId, (p) => p.stage === 'evaluating' && p.counts.evalExamplesDone >= 8);
      const during = await scrape(port);
      // For the closing note of a release: what a scrape shows during a run.
      if (process.env.TUNEFLOW_METRICS_SCRAPE_FILE) await writeFile(process.env.TUNEFLOW_METRICS_SCRAPE_FILE, during.text);
      const v = (key: string) => during.series.get(key);

      // Runs by stage: this one, evaluating, entered every stage before once.
      expect(v('tuneflow_runs_in_stage{stage="evaluating"}')).toBe(1);
      expect(v('tuneflow_runs_in_stage{stage="training"}')).toBe(0);
      for (const stage of ['validating', 'splitting', 'uploading', 'creating_job', 'training', 'selecting_checkpoint', 'evaluating']) {
        expect(v(`tuneflow_run_stage_entries_total{stage="${stage}"}`)).toBe(1);
      }
      // Provider requests by operation and status, as the backend saw them.
      const stats = await backend.stats();
      expect(v('tuneflow_provider_requests_total{operation="createFile",status="200"}')).toBe(2);
      expect(v('tuneflow_provider_requests_total{operation="createFineTuningJob",status="200"}')).toBe(1);
      expect(v('tuneflow_provider_requests_total{operation="retrieveFineTuningJob",status="200"}')).toBeGreaterThanOrEqual(1);
      const chats = v('tuneflow_provider_requests_total{operation="createChatCompletion",status="200"}') ?? 0;
      // 8 examples or more, each answered by base, the kept checkpoints and the final model.
      expect(chats).toBeGreaterThanOrEqual(8 * 3);
      expect(chats).toBeLessThanOrEqual(stats.requests.createChatCompletion ?? 0);
      // Evaluation requests and tokens, in all and in the last minute.
      expect(v('tuneflow_eval_requests_total{outcome="ok"}')).toBe(chats);
      expect(v('tuneflow_eval_tokens_total{kind="prompt"}')).toBeGreaterThan(chats * 10);
      expect(v('tuneflow_eval_tokens_total{kind="completion"}')).toBeGreaterThan(chats);
      expect(v('tuneflow_eval_requests_per_minute')).toBeGreaterThan(0);
      expect(v('tuneflow_eval_requests_per_minute')).toBeLessThanOrEqual(chats + (v('tuneflow_eval_requests_total{outcome="rate_limited"}') ?? 0));
      expect(v('tuneflow_eval_tokens_per_minute')).toBeGreaterThan(0);
      // Validation throughput: the whole sample once.
      expect(v('tuneflow_validation_bytes_total')).toBe((await stat(SAMPLE_DATASET)).size);
      expect(v('tuneflow_validation_bytes_per_second')).toBeGreaterThan(0);
      // The Temporal runtime's own series, from the same endpoint.
      expect([...during.series.keys()].some((k) => k.startsWith('temporal_activity_execution_latency'))).toBe(true);
      expect([...during.series.keys()].some((k) => k.startsWith('temporal_workflow_task_'))).toBe(true);

      const result = await handle.result();
      expect(['succeeded', 'promoted', 'rejected']).toContain(result.status);
      const after = await scrape(port);
      expect(after.series.get('tuneflow_runs_finished_total{outcome="done"}')).toBe(1);
      expect(after.series.get('tuneflow_runs_in_stage{stage="evaluating"}')).toBe(0);
      expect(after.series.get('tuneflow_runs_in_stage{stage="reporting"}')).toBe(0);
    } finally {
      worker.kill('SIGTERM');
      await exited;
      await backend.dispose();
    }
  });
});
