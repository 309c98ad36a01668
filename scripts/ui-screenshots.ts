/**
 * What a person sees in the Temporal UI: starts a local stack (dev server with its UI, the local backend,
 * a worker), starts runs (one finished, one in training, one of the line support-bot), and screenshots
 * the run list with tuneflow's columns (docs/screenshots/run-list.png), the finished run's page
 * (run.png) and its memo (run-memo.png), and the User Metadata tab of the run in training
 * (run-user-metadata.png), in headless Chromium.
 *
 *   npm run screenshots                       # both pages, into docs/screenshots/
 *   npm run screenshots -- --out /tmp/shots   # elsewhere
 *
 * CHROMIUM (default /usr/bin/chromium) names the browser; playwright-core brings none of its own.
 */
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { startLocalStack, type LocalStack } from '../src/cli/local-stack';
import { loadConfig } from '../src/config';
import { SEARCH_ATTRIBUTE_NAMES } from '../src/domain/stages';
import { startPipeline, type PipelineHandle } from '../src/starter';
import { progressQuery } from '../src/messages';

const REPO = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
const SAMPLE = path.join(REPO, 'data/sample/support-conversations.jsonl');
const MODEL = 'gpt-4o-mini-2024-07-18';
const WIDTH = 1920;
/** The run page is tall: narrower and bounded keeps its PNG under 300 KB. */
const RUN_WIDTH = 1280;
const MAX_RUN_HEIGHT = 1500;

/** The columns a person adds to the run list: the UI lists a custom search attribute under its own name. */
export const TUNEFLOW_COLUMNS = [SEARCH_ATTRIBUTE_NAMES.stage, SEARCH_ATTRIBUTE_NAMES.model, SEARCH_ATTRIBUTE_NAMES.line, SEARCH_ATTRIBUTE_NAMES.outcome, SEARCH_ATTRIBUTE_NAMES.fineTunedModel, SEARCH_ATTRIBUTE_NAMES.jobId];

/**
 * The Temporal UI keeps the run list's columns per namespace in localStorage under this key (its
 * "configure columns" drawer writes the same), as `{ [namespace]: [{ label, pinned }] }`.
 */
const COLUMNS_STORAGE_KEY = 'namespace-workflow-table-columns';

export interface ScreenshotOptions {
  outDir: string;
  /** `list`: one run started (not awaited) and the list page only; for a quick check. */
  mode: 'all' | 'list';
  chromiumPath?: string;
  say?: (msg: string) => void;
}

export interface ScreenshotResult {
  files: string[];
  /** The run list's column headers as the page shows them. */
  listHeaders: string[];
  /** Each row of the run list as text, cells separated by tabs. */
  listRows: string[];
  runs: Array<{ workflowId: string; what: string }>;
}

async function startRuns(stack: LocalStack, mode: ScreenshotOptions['mode'], say: (m: string) => void): Promise<Array<{ handle: PipelineHandle; what: string }>> {
  const start = (workflowId: string, extra: { pollIntervalSeconds: number; line?: string; hyperparameters?: { n_epochs: number } }) =>
    startPipeline(stack.client, stack.config, { datasetPath: SAMPLE, model: MODEL, suffix: 'support', ...extra }, { workflowId });
  if (mode === 'list') return [{ handle: await start('ui-shot-quick', { pollIntervalSeconds: 1 }), what: 'started' }];

  const finished = await start('ui-shot-finished', { pollIntervalSeconds: 1 });
  say(`run ${finished.workflowId}: waiting for it to finish`);
  await finished.result();
  // 50 epochs train for over a minute of real time at the backend's default speed, and a 10-minute poll
  // interval keeps the run on its timer: it is still in training when the pages are taken.
  const training = await start('ui-shot-training', { pollIntervalSeconds: 600, hyperparameters: { n_epochs: 50 } });
  const lined = await start('ui-shot-line-support-bot', { pollIntervalSeconds: 1, line: 'support-bot' });
  const deadline = Date.now() + 120_000;
  while ((await training.query(progressQuery)).stage !== 'training') {
    if (Date.now() > deadline) throw new Error(`${training.workflowId} did not reach training in 120 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  say(`run ${training.workflowId}: in training`);
  await lined.result().catch((err: unknown) => say(`run ${lined.workflowId} ended with ${String(err)}`));
  return [
    { handle: finished, what: 'finished' },
    { handle: training, what: 'in training' },
    { handle: lined, what: 'line support-bot' },
  ];
}

async function settle(page: Page): Promise<void> {
  // The UI polls while a run is open, so "network idle" may never come: a bounded wait, then a short pause for rendering.
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
  await page.waitForTimeout(1000);
}

/**
 * The UI scrolls inside its own container, so a "full page" screenshot is only the viewport: grow the
 * viewport to the content's height (bounded) before taking a whole page.
 */
async function fitViewportToContent(page: Page, width: number, maxHeight: number): Promise<void> {
  // Browser-side code as strings: the project's TypeScript has no DOM types.
  const height = await page.evaluate<number>(`(() => {
    let tallest = document.documentElement.scrollHeight;
    for (const el of document.querySelectorAll('*')) {
      if (/(auto|scroll)/.test(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight) {
        tallest = Math.max(tallest, el.scrollHeight + el.getBoundingClientRect().top);
      }
    }
    return tallest;
  })()`);
  await page.setViewportSize({ width, height: Math.min(Math.ceil(height), maxHeight) });
  // Clicking a control may have scrolled the page: the picture starts at the run's title.
  await page.evaluate(`(() => {
    for (const el of document.querySelectorAll('*')) if (el.scrollTop > 0) el.scrollTop = 0;
    window.scrollTo(0, 0);
  })()`);
  await page.waitForTimeout(500);
}

async function listHeaders(page: Page): Promise<string[]> {
  return (await page.locator('table thead th').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
}

export async function takeUiScreenshots(opts: ScreenshotOptions): Promise<ScreenshotResult> {
  const say = opts.say ?? ((m: string) => process.stderr.write(`${m}\n`));
  const chromiumPath = opts.chromiumPath ?? process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new Error(`No Chromium at ${chromiumPath}: install it (apt-get install chromium) or set CHROMIUM to its path.`);
  await mkdir(opts.outDir, { recursive: true });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-ui-shots-'));
  const config = loadConfig({ TUNEFLOW_HOME: scratch, TUNEFLOW_DATA_ROOTS: REPO, OPENAI_API_KEY: 'unused' });
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  try {
    stack = await startLocalStack({
      config,
      logger: pino({ level: 'warn' }),
      worker: true,
      server: { say },
      backend: { port: 0, stateDir: path.join(scratch, 'backend') },
    });
    say(`Temporal UI ${stack.server.uiUrl}`);
    const runs = await startRuns(stack, opts.mode, say);
    const namespace = stack.config.temporal.namespace;

    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1 });
    const columns = [
      { label: 'Status', pinned: true },
      { label: 'Workflow ID', pinned: true },
      ...TUNEFLOW_COLUMNS.map((label) => ({ label, pinned: false })),
      { label: 'Type', pinned: false },
      { label: 'Start', pinned: false },
    ];
    await context.addInitScript({ content: `window.localStorage.setItem(${JSON.stringify(COLUMNS_STORAGE_KEY)}, ${JSON.stringify(JSON.stringify({ [namespace]: columns }))});` });
    const page = await context.newPage();
    const files: string[] = [];

    await page.goto(`${stack.server.uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows`);
    for (const r of runs) await page.getByText(r.handle.workflowId, { exact: true }).first().waitFor({ timeout: 30_000 });
    // The saved-views panel takes a fifth of the width the columns need.
    await page.getByRole('button', { name: 'Collapse saved views' }).click({ timeout: 5000 }).catch(() => say('no "Collapse saved views" button: the list keeps its side panel'));
    await settle(page);
    const headers = await listHeaders(page);
    const rows = (await page.locator('table tbody tr').allInnerTexts()).map((r) => r.trim());
    const listFile = path.join(opts.outDir, 'run-list.png');
    await page.screenshot({ path: listFile, fullPage: true });
    files.push(listFile);
    say(`${listFile}: columns ${headers.join(', ')}`);

    if (opts.mode === 'all') {
      const runUrl = (h: PipelineHandle, tab: string) =>
        `${stack?.server.uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(h.workflowId)}/${h.firstExecutionRunId}/${tab}`;
      const shoot = async (file: string) => {
        const out = path.join(opts.outDir, file);
        await page.screenshot({ path: out, fullPage: true });
        files.push(out);
        say(out);
      };
      const finished = runs.find((r) => r.what === 'finished')?.handle;
      const training = runs.find((r) => r.what === 'in training')?.handle;
      if (finished) {
        await page.setViewportSize({ width: RUN_WIDTH, height: 900 });
        await page.goto(runUrl(finished, 'history'));
        await page.getByText(finished.workflowId).first().waitFor({ timeout: 30_000 });
        // Compact: one row per activity, timer or child workflow, with its summary; the raw event list is three times as long.
        await page.getByRole('button', { name: 'Compact' }).or(page.getByText('Compact', { exact: true })).first().click({ timeout: 10_000 }).catch(() => say('no "Compact" history view: showing the default'));
        // Oldest first: validate, split, upload, create, then the poll and timer rows that carry the loop's summaries.
        await page.getByRole('button', { name: 'Descending' }).click({ timeout: 10_000 }).catch(() => say('no "Descending" toggle: newest events first'));
        await settle(page);
        await fitViewportToContent(page, RUN_WIDTH, MAX_RUN_HEIGHT);
        await shoot('run.png');
        await page.setViewportSize({ width: RUN_WIDTH, height: 900 });
        await page.goto(runUrl(finished, 'memo'));
        await settle(page);
        await shoot('run-memo.png');
      }
      if (training) {
        // Summary, details and the current details that follow the stage: a running run says the most here.
        await page.setViewportSize({ width: RUN_WIDTH, height: 900 });
        await page.goto(runUrl(training, 'history'));
        await page.getByText(training.workflowId).first().waitFor({ timeout: 30_000 });
        await page.getByRole('link', { name: 'User Metadata' }).or(page.getByRole('tab', { name: 'User Metadata' })).first().click({ timeout: 10_000 });
        await settle(page);
        await shoot('run-user-metadata.png');
      }
    }
    return { files, listHeaders: headers, listRows: rows, runs: runs.map((r) => ({ workflowId: r.handle.workflowId, what: r.what })) };
  } finally {
    await browser?.close();
    await stack?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf('--out');
  const outDir = path.resolve((outFlag >= 0 ? process.argv[outFlag + 1] : undefined) ?? path.join(REPO, 'docs/screenshots'));
  takeUiScreenshots({ outDir, mode: 'all' }).then(
    (r) => console.log(`Wrote ${r.files.join(' and ')}; runs: ${r.runs.map((x) => `${x.workflowId} (${x.what})`).join(', ')}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
