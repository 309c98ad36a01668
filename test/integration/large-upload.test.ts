import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { temporal as proto } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { splitDatasetFile } from '../../src/dataset';
import { startPipeline } from '../../src/starter';
import { progressQuery } from '../../src/workflows';
import { createTestWorker, SAMPLE_DATASET, startBackend, taskQueueFor, testConfig, useTemporal } from '../helpers/stack';
import { trained } from '../helpers/runs';

const temporal = useTemporal();

/** The workflow's heartbeat timeout on uploads; the slow link makes the training file take longer than this. */
const HEARTBEAT_TIMEOUT_S = 30;
const TRAIN_UPLOAD_SECONDS = 36;

/** Bytes of the training side of the sample's default split (seed 42, 20% validation), as the worker will upload it. */
async function sampleTrainBytes(): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-split-size-'));
  try {
    return (await splitDatasetFile(SAMPLE_DATASET, { outDir: dir, seed: 42, validRatio: 0.2 })).train.bytes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface UploadHeartbeat {
  bytesSent: number;
  bytes: number;
}

function decodeHeartbeat(details: proto.api.common.v1.IPayloads | null | undefined): UploadHeartbeat | undefined {
  const data = details?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as UploadHeartbeat) : undefined;
}

describe('a slow upload on the real Temporal dev server and the local backend', () => {
  it(
    'finishes an upload slower than the heartbeat timeout in one attempt, storing exactly two files, and heartbeats the bytes sent',
    async () => {
      const trainBytes = await sampleTrainBytes();
      const rate = Math.ceil(trainBytes / TRAIN_UPLOAD_SECONDS);
      expect(trainBytes / rate).toBeGreaterThan(HEARTBEAT_TIMEOUT_S);
      const backend = await startBackend({ uploadBytesPerSecond: rate });
      const config = testConfig(temporal.env, backend.url, temporal.artifactsDir, taskQueueFor('slow upload'));
      const worker = await createTestWorker(temporal.env, config);
      try {
        const { result, heartbeats } = await worker.runUntil(async () => {
          const handle = await startPipeline(temporal.env.client, config, {
            datasetPath: SAMPLE_DATASET,
            model: 'gpt-4o-mini-2024-07-18',
            pollIntervalSeconds: 1,
            eval: { compare: [], maxExamples: 6, batchSize: 6, concurrency: 4, maxTokens: 256 },
          });
          // What the Temporal UI shows for the upload while it runs: the bytes sent so far.
          const seen: UploadHeartbeat[] = [];
          const resultPromise = handle.result();
          let settled = false;
          resultPromise.finally(() => (settled = true)).catch(() => undefined);
          while (!settled) {
            const stage = (await handle.query(progressQuery).catch(() => undefined))?.stage;
            if (stage !== undefined && stage !== 'validating' && stage !== 'splitting' && stage !== 'uploading') break;
            const pending = (await handle.describe()).raw.pendingActivities ?? [];
            for (const a of pending) {
              const beat = a.activityType?.name === 'uploadTrainingFile' ? decodeHeartbeat(a.heartbeatDetails) : undefined;
              if (beat) seen.push(beat);
            }
            await new Promise((r) => setTimeout(r, 1000));
          }
          return { result: trained(await resultPromise), heartbeats: seen };
        });

        expect(result.status).toBe('succeeded');
        const stats = await backend.stats();
        expect(stats.created.files).toBe(2);
        expect(stats.requests.createFile).toBe(2);
        expect(stats.created.jobs).toBe(1);

        // No upload attempt was timed out and retried while the first was still sending.
        const history = await temporal.env.client.workflow.getHandle(result.workflowId).fetchHistory();
        const events = history.events ?? [];
        const uploadIds = new Set(
          events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'uploadTrainingFile').map((e) => String(e.eventId)),
        );
        expect(uploadIds.size).toBe(2);
        const uploadStarts = events.filter((e) => uploadIds.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)));
        expect(uploadStarts.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1, 1]);
        expect(events.some((e) => e.activityTaskTimedOutEventAttributes)).toBe(false);

        // The training upload's heartbeats carry its progress: the file's size and the bytes sent so far.
        const trainBeats = heartbeats.filter((h) => h.bytes === trainBytes);
        expect(trainBeats.length).toBeGreaterThan(0);
        for (const h of trainBeats) expect(h.bytesSent).toBeLessThanOrEqual(trainBytes);
      } finally {
        await backend.dispose();
      }
    },
    180_000,
  );
});
