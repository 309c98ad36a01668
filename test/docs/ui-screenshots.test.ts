import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { takeUiScreenshots, TUNEFLOW_COLUMNS } from '../../scripts/ui-screenshots';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's header, or null when the file is not a PNG. */
async function pngSize(file: string): Promise<{ width: number; height: number } | null> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(24);
    await handle.read(head, 0, 24, 0);
    if (!head.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  } finally {
    await handle.close();
  }
}

describe.runIf(existsSync(CHROMIUM))('npm run screenshots (list only, in headless Chromium)', () => {
  let outDir: string | undefined;
  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it("the Temporal UI's run list shows tuneflow's search attributes as columns, with a started run's stage and base model in its row", async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-ui-shots-test-'));
    const result = await takeUiScreenshots({ outDir, mode: 'list', chromiumPath: CHROMIUM, say: () => undefined });
    expect(result.listHeaders).toEqual(expect.arrayContaining([...TUNEFLOW_COLUMNS]));
    const row = result.listRows.find((r) => r.includes('ui-shot-quick'));
    expect(row).toBeDefined();
    expect(row).toContain('gpt-4o-mini-2024-07-18');
    expect(row).toMatch(/validating|splitting|uploading|creating_job|training|evaluating|reporting|done/);
    expect(result.files).toEqual([path.join(outDir, 'run-list.png')]);
    const size = await pngSize(path.join(outDir, 'run-list.png'));
    expect(size?.width).toBeGreaterThan(0);
    expect(size?.height).toBeGreaterThan(0);
  }, 180_000);
});
