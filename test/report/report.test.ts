import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerReportCommand } from '../../src/cli/report';
import type { RunFacts } from '../../src/domain/run';
import { writeReportFiles } from '../../src/report';
import { LocalStore } from '../../src/store';
import { FINAL, HOSTILE, writeFixtureRun } from './fixture';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve('test-artifacts/report.png');

let dir: string;
let facts: RunFacts;
let html: string;
let markdown: string;
let htmlPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-report-'));
  facts = await writeFixtureRun(dir);
  // The fixture run's folder is a run key directly under the store's folder.
  const written = await writeReportFiles({ facts, store: new LocalStore(path.dirname(dir)), runKey: path.basename(dir), writeRunJson: true });
  htmlPath = written.html;
  html = await readFile(written.html, 'utf8');
  markdown = await readFile(written.markdown, 'utf8');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('run report', () => {
  it('renders every section from RunFacts, metrics.jsonl and results.jsonl', async () => {
    for (const id of ['decision', 'facts', 'training', 'loss-chart', 'checkpoints', 'checkpoint-table', 'evaluation', 'eval-table', 'ci-plot', 'examples', 'examples-table', 'beats-base', 'gate']) {
      expect(html, `section #${id}`).toContain(`id="${id}"`);
    }
    for (const heading of ['## Decision', '## Run facts', '## Training curves', '## Checkpoints', '## Evaluation', '## Examples side by side']) {
      expect(markdown).toContain(heading);
    }
    expect(html).toContain(facts.job.id);
    expect(html).toContain('ftjob-Abc123XyZ789');
    expect(html).toContain('$1.87');
    expect(html).toContain('learning_rate_multiplier');
    expect(html).toContain(FINAL);
    expect(html.match(/<svg /g)?.length).toBe(2);
    expect(html).toContain('class="best"');
    expect(JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8'))).toEqual(facts);
  });

  it('escapes HTML from the dataset and the answers', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src="https://example.com');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(markdown).not.toContain(HOSTILE);
    expect(markdown).toContain('&lt;script&gt;');
  });

  it('shows the largest differences from the base first, capped at 50 rows with a note', () => {
    const rows = html.match(/<tr id="example-\d+">/g) ?? [];
    expect(rows).toHaveLength(50);
    expect(html).toContain('id="examples-cap"');
    expect(html).toContain('Showing 50 of 60 examples');
    const deltas = [...html.matchAll(/<tr id="example-\d+"><td class="num">#\d+<div class="delta [a-z]+">([^<]+)<\/div>/g)].map((m) =>
      Math.abs(Number(m[1]?.replace('—', 'NaN'))),
    );
    const finite = deltas.filter((d) => Number.isFinite(d));
    expect(finite[0]).toBeGreaterThan(0);
    expect(finite).toEqual([...finite].sort((a, b) => b - a));
  });

  it('opens in headless Chromium with no console errors and no network requests, and saves a screenshot', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}; install it with: apt-get install -y chromium`);
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const consoleErrors: string[] = [];
      const requests: string[] = [];
      const url = pathToFileURL(htmlPath).href;
      page.on('console', (msg) => {
        if (msg.type() === 'error') consoleErrors.push(msg.text());
      });
      page.on('pageerror', (err) => consoleErrors.push(err.message));
      page.on('request', (req) => {
        if (req.url() !== url) requests.push(req.url());
      });
      await page.goto(url, { waitUntil: 'load' });
      expect(await page.locator('h2').allTextContents()).toEqual([
        'Decision',
        'Run facts',
        'Training curves',
        'Checkpoints',
        'Evaluation',
        'Examples side by side',
      ]);
      expect(await page.locator('#examples-table tbody tr').count()).toBe(50);
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(consoleErrors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('re-renders from run.json with `report <run id> --out <dir>` and prints both paths', async () => {
    const artifacts = await mkdtemp(path.join(tmpdir(), 'tuneflow-report-cli-'));
    const saved = process.env.TUNEFLOW_ARTIFACTS_DIR;
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    try {
      const runFacts = await writeFixtureRun(path.join(artifacts, 'run-cli'));
      await writeFile(path.join(artifacts, 'run-cli', 'run.json'), JSON.stringify({ ...runFacts, workflowId: 'run-cli' }));
      process.env.TUNEFLOW_ARTIFACTS_DIR = artifacts;
      const out = path.join(artifacts, 'elsewhere');
      const program = new Command().exitOverride();
      registerReportCommand(program);
      await program.parseAsync(['report', 'run-cli', '--out', out], { from: 'user' });
      expect(printed).toEqual([path.join(out, 'report.html'), path.join(out, 'report.md')]);
      expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('id="examples-table"');
      await expect(program.parseAsync(['report', 'no-such-run'], { from: 'user' })).rejects.toThrow(/No run.json for run "no-such-run"/);
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env.TUNEFLOW_ARTIFACTS_DIR;
      else process.env.TUNEFLOW_ARTIFACTS_DIR = saved;
      await rm(artifacts, { recursive: true, force: true });
    }
  });
});
