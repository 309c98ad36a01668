import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splitDatasetFile, validateDatasetFile, type DatasetReadProgress, type SplitProgress } from '../../../src/dataset';
import { exampleLines, tempDir } from './fixtures';

const tmp = tempDir('dataset-progress');
afterAll(() => tmp.remove());

// Several 1 MB read chunks, so progress is reported more than once per pass.
const LINES = 40_000;
const path = join(tmp.dir, 'progress.jsonl');
writeFileSync(path, `${exampleLines(LINES).join('\n')}\n`);
const size = statSync(path).size;

function expectSteadyProgress(seen: DatasetReadProgress[]): void {
  expect(seen.length).toBeGreaterThan(2);
  for (const [i, p] of seen.entries()) {
    expect(p.bytes).toBe(size);
    if (i > 0) {
      expect(p.bytesRead).toBeGreaterThan(seen[i - 1]?.bytesRead ?? 0);
      expect(p.lines).toBeGreaterThan(seen[i - 1]?.lines ?? 0);
    }
  }
  expect(seen.at(-1)).toEqual({ bytesRead: size, bytes: size, lines: LINES });
}

describe('progress of the streaming dataset passes', () => {
  it('validation reports bytes and lines read as it goes, ending at the file size', async () => {
    const seen: DatasetReadProgress[] = [];
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini-2024-07-18', onProgress: (p) => seen.push({ ...p }) });
    expect(report.examples).toBe(LINES);
    expectSteadyProgress(seen);
    expect(seen.at(-1)?.bytesRead).toBe(report.bytes);
  });

  it('the split reports both passes, each reading the whole file', async () => {
    const seen: SplitProgress[] = [];
    const manifest = await splitDatasetFile(path, { outDir: join(tmp.dir, 'split'), seed: 7, onProgress: (p) => seen.push({ ...p }) });
    expect(manifest.source.examples).toBe(LINES);
    const first = seen.filter((p) => p.pass === 1);
    const second = seen.filter((p) => p.pass === 2);
    expect(seen.indexOf(second[0] as SplitProgress)).toBe(first.length);
    expectSteadyProgress(first.map(({ bytesRead, bytes, lines }) => ({ bytesRead, bytes, lines })));
    expectSteadyProgress(second.map(({ bytesRead, bytes, lines }) => ({ bytesRead, bytes, lines })));
  });

  it('a progress callback that throws stops the split and leaves no partial output', async () => {
    const outDir = join(tmp.dir, 'stopped');
    const stop = new Error('cancelled');
    await expect(
      splitDatasetFile(path, {
        outDir,
        seed: 7,
        onProgress: (p) => {
          if (p.pass === 2) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(readdirSync(outDir)).toEqual([]);
  });
});
