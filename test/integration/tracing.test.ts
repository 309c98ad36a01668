import { describe, expect, it } from 'vitest';
import { connectClient } from '../../src/cli/context';
import { loadConfig, type AppConfig } from '../../src/config';
import { startPipeline } from '../../src/starter';
import { startTracing } from '../../src/telemetry/tracing';
import { createWorker } from '../../src/worker';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { SAMPLE_DATASET, silentLogger, startBackend, taskQueueFor, testConfig, useTemporal } from '../helpers/stack';
import { trained } from '../helpers/runs';

const temporal = useTemporal();

/** A span's name followed by its ancestors' names, up to the root. */
function lineage(span: ReceivedSpan, spans: readonly ReceivedSpan[]): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const names = [span.name];
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) names.push(parent.name);
  return names;
}

describe('tracing', () => {
  it("follows a run in one trace from the CLI client's start through the workflow, its activities and child workflow, to the provider's HTTP calls", async () => {
    const receiver = await startOtlpReceiver();
    const backend = await startBackend();
    try {
      // The standard variable alone turns tracing on, for the client and the worker alike.
      const config: AppConfig = {
        ...testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('tracing')),
        telemetry: loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }).telemetry,
      };
      // The client `tuneflow run` uses, and the worker `tuneflow worker` runs.
      const client = await connectClient(config);
      const worker = await createWorker({ config, logger: silentLogger, connection: temporal.env.nativeConnection });
      const result = await worker.runUntil(async () => {
        const handle = await startPipeline(client, config, {
          datasetPath: SAMPLE_DATASET,
          model: 'gpt-4o-mini-2024-07-18',
          pollIntervalSeconds: 1,
          eval: { compare: [], maxExamples: 4, batchSize: 4, concurrency: 2, maxTokens: 128 },
        });
        return trained(await handle.result());
      });
      await client.connection.close();
      const tracing = await startTracing(config.telemetry, 'tuneflow');
      // Workflow spans reach the worker's exporter through a sink after the last activation: wait for them.
      for (let i = 0; i < 100 && !receiver.spans.some((s) => s.name === 'RunWorkflow:fineTunePipeline'); i++) {
        await tracing?.flush();
        await new Promise((r) => setTimeout(r, 100));
      }
      await tracing?.flush();
      const spans = receiver.spans.filter((s) => s.traceId === receiver.spans.find((x) => x.name === 'StartWorkflow:fineTunePipeline')?.traceId);

      const root = spans.find((s) => s.name === 'StartWorkflow:fineTunePipeline');
      expect(root?.parentSpanId).toBe('');
      // Everything the run did is in the client's trace: no span of it started a trace of its own.
      expect(new Set(receiver.spans.map((s) => s.traceId)).size).toBe(1);

      const upload = spans.find((s) => s.name === 'POST /files');
      expect(upload?.attributes).toMatchObject({ 'http.request.method': 'POST', 'tuneflow.provider.operation': 'createFile', 'http.response.status_code': 200 });
      expect(lineage(upload as ReceivedSpan, spans)).toEqual([
        'POST /files',
        'RunActivity:uploadTrainingFile',
        'StartActivity:uploadTrainingFile',
        'RunWorkflow:fineTunePipeline',
        'StartWorkflow:fineTunePipeline',
      ]);
      const create = spans.find((s) => s.name === 'POST /fine_tuning/jobs');
      expect(lineage(create as ReceivedSpan, spans).slice(1, 3)).toEqual(['RunActivity:createFineTuningJob', 'StartActivity:createFineTuningJob']);

      const chats = spans.filter((s) => s.name === 'POST /chat/completions');
      // Base, checkpoints and the final model answered each of the 4 examples.
      expect(chats.length).toBeGreaterThanOrEqual(4 * 3);
      expect(result.eval.examples).toBe(4);
      for (const chat of chats) {
        expect(lineage(chat, spans)).toEqual([
          'POST /chat/completions',
          'RunActivity:evaluateBatch',
          'StartActivity:evaluateBatch',
          'RunWorkflow:evaluateCandidates',
          'StartChildWorkflow:evaluateCandidates',
          'RunWorkflow:fineTunePipeline',
          'StartWorkflow:fineTunePipeline',
        ]);
      }
    } finally {
      // The process's tracer provider (client and worker share it here): flushed and unregistered.
      await (await startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }).telemetry, 'tuneflow'))?.shutdown();
      await backend.dispose();
      await receiver.close();
    }
  });
});
