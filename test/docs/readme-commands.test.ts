/**
 * The README's commands, run as written.
 *
 * Conventions (for whoever writes the README):
 * - Under a heading that names schedules, service, UI, lines or webhooks (as a word, any case; the rule
 *   covers its sub-headings too), every fenced `sh`/`bash`/`shell`/`zsh`/`console` block is preceded,
 *   on its last non-blank line before the fence, by a marker:
 *     `<!-- docs-test: <tag> -->`            run it; tag is one of schedules, lines, service, webhooks, ui
 *     `<!-- docs-test: <tag> background -->` a long-running command (a server): started in the
 *                                            background; the next block runs once its port listens
 *                                            (`port=<n>` in the marker, else the block's `--port <n>`);
 *                                            stopped when the file's tests end
 *     `<!-- docs-test: skip <reason> -->`    not run (say why: it needs a real cloud account, …)
 *   A marker anywhere else (before a ts block, a paragraph) fails the test, so a typo cannot leave a
 *   block untested.
 * - Each block runs in `bash -euo pipefail` in the repository root, as a reader of the README who
 *   cloned it (`npx tuneflow`, `npm run …`, `data/sample/…`, `examples/…` work; `tuneflow` and
 *   `temporal` are on PATH), with the variables `tuneflow dev` prints set (TEMPORAL_ADDRESS,
 *   OPENAI_BASE_URL, OPENAI_API_KEY) plus TUNEFLOW_DATA_ROOTS (the repository and a scratch folder),
 *   TUNEFLOW_HOME (the scratch folder: runs leave nothing in the checkout) and TEMPORAL_UI_URL, against
 *   a dev server with tuneflow's search attributes, the local backend and a `tuneflow worker` on task
 *   queue `tuneflow`: what `npx tuneflow dev` gives. So blocks do not start `tuneflow dev` themselves.
 * - Blocks of one tag run in README order and share what they make (a schedule, a line, a run); a
 *   variable one block exports is set in the next blocks of its tag. Write `export RUN=ft-demo-1` and
 *   use "$RUN" rather than a `<workflow id>` placeholder, which bash cannot run.
 * - All tags share one stack (one dev server, backend and worker for the file), in README order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_API_KEY } from '../../src/cli/local-key';
import { isListening, startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { backgroundPort, makeDocsWorkdir, OutputTail, personEnv, runBlock, startBackgroundBlock, type BackgroundBlock, type DocsWorkdir } from '../helpers/docs-shell';
import { DOCS_TEST_TAGS, firstCommand, mustBeTested, scanReadme, type DocsTestTag, type ShellBlock } from '../helpers/readme-blocks';
import { startBackend, type Backend } from '../helpers/stack';

const REPO = realpathSync(process.cwd());
/** Another file may be checked by the same rules (DOCS_TEST_README=path): a section before it lands in README.md. */
const README = path.resolve(process.env.DOCS_TEST_README ?? path.join(REPO, 'README.md'));
const scan = scanReadme(readFileSync(README, 'utf8'));
const where = (b: ShellBlock) => `${path.basename(README)}:${b.line} (${b.headings.at(-1) ?? 'top'})`;

describe('README.md docs-test markers', () => {
  it('every sh/bash block under a heading naming schedules, service, UI, lines or webhooks (or under one of its sub-headings) is preceded by a docs-test marker', () => {
    const unmarked = scan.blocks.filter((b) => mustBeTested(b) && b.marker === null).map((b) => `${where(b)}: ${firstCommand(b.code)}`);
    expect(unmarked, 'add <!-- docs-test: <tag> --> (or skip <reason>) on the line before each of these blocks').toEqual([]);
  });

  it('every docs-test marker is valid and sits right before a sh/bash block', () => {
    const invalid = scan.blocks.flatMap((b) => (b.marker?.kind === 'invalid' ? [`${where(b)}: ${b.marker.problem}`] : []));
    const stray = scan.strayMarkers.map((m) => `README.md:${m.line}: marker "${m.text}" is not followed by a sh/bash block`);
    expect([...invalid, ...stray]).toEqual([]);
  });
});

interface RunnableBlock {
  block: ShellBlock;
  tag: DocsTestTag;
  background: boolean;
  port: number | undefined;
}

const runnable: RunnableBlock[] = scan.blocks.flatMap((block) =>
  block.marker?.kind === 'run' ? [{ block, tag: block.marker.tag, background: block.marker.background, port: block.marker.port }] : [],
);
const tagsInOrder = DOCS_TEST_TAGS.filter((t) => runnable.some((r) => r.tag === t)).sort(
  (a, b) => runnable.findIndex((r) => r.tag === a) - runnable.findIndex((r) => r.tag === b),
);

const BLOCK_TIMEOUT_MS = 180_000;

describe.runIf(runnable.length > 0)('README.md commands, run as written against a dev server, the local backend and a tuneflow worker', () => {
  let server: DevServer;
  let backend: Backend;
  let work: DocsWorkdir;
  let env: NodeJS.ProcessEnv;
  let worker: ChildProcess;
  const workerLog = new OutputTail(4000);
  const background: Array<{ name: string; block: BackgroundBlock }> = [];

  beforeAll(async () => {
    const temporalCli = inject('temporalCliPath');
    [server, backend, work] = await Promise.all([startDevServer(), startBackend(), makeDocsWorkdir(REPO, temporalCli)]);
    const home = path.join(work.dir, '.tuneflow');
    await mkdir(home, { recursive: true });
    env = personEnv({
      PATH: `${work.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_UI_URL: server.uiUrl,
      OPENAI_BASE_URL: backend.url,
      OPENAI_API_KEY: LOCAL_API_KEY,
      TUNEFLOW_DATA_ROOTS: [REPO, work.dir].join(path.delimiter),
      TUNEFLOW_HOME: home,
    });
    worker = spawn(process.execPath, [path.join(REPO, 'bin/tuneflow.mjs'), 'worker'], { cwd: REPO, env: { ...env, TUNEFLOW_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
    worker.stderr?.on('data', (d: Buffer) => workerLog.push(d));
  });

  afterAll(async () => {
    for (const b of background.reverse()) await b.block.stop();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await server?.stop();
    await backend?.dispose();
    if (work) await rm(work.dir, { recursive: true, force: true });
  });

  /** Everything a reader of a failure needs: the block, its output, the worker's last words, background blocks' output. */
  function report(r: RunnableBlock, what: string, output: string, failedBefore: string[]): string {
    return [
      `${where(r.block)} [${r.tag}] ${what}`,
      ...(failedBefore.length > 0 ? [`(earlier ${r.tag} blocks failed too: ${failedBefore.join('; ')})`] : []),
      '--- block ---',
      r.block.code,
      '--- output ---',
      output,
      ...background.map((b) => `--- background: ${b.name} ---\n${b.block.output.toString()}`),
      `--- tuneflow worker (stderr) ${worker.exitCode !== null ? `exited ${worker.exitCode}` : 'running'} ---`,
      workerLog.toString(),
    ].join('\n');
  }

  for (const tag of tagsInOrder) {
    describe(tag, () => {
      const failed: string[] = [];
      const stateFile = () => path.join(work.dir, `.docs-test-${tag}.env`);
      for (const r of runnable.filter((x) => x.tag === tag)) {
        const name = `${tag}: ${firstCommand(r.block.code)}${r.background ? ' (background)' : ''}`;
        it(
          name,
          async () => {
            if (r.background) {
              const port = backgroundPort(r.block.code, r.port);
              if (port === undefined) throw new Error(report(r, 'a background block names the port it listens on: --port <n> in the command or port=<n> in the marker', '', failed));
              if (await isListening(`127.0.0.1:${port}`)) throw new Error(report(r, `port ${port} is already taken by another process on this machine`, '', failed));
              try {
                background.push({ name, block: await startBackgroundBlock(r.block.code, { cwd: REPO, env, stateFile: stateFile(), port, timeoutMs: 60_000 }) });
              } catch (err) {
                failed.push(name);
                throw new Error(report(r, 'did not start', String(err instanceof Error ? err.message : err), failed.slice(0, -1)));
              }
              return;
            }
            const result = await runBlock(r.block.code, { cwd: REPO, env, stateFile: stateFile(), timeoutMs: BLOCK_TIMEOUT_MS });
            if (result.code !== 0 || result.timedOut) {
              const before = [...failed];
              failed.push(name);
              const what = result.timedOut ? `did not finish in ${BLOCK_TIMEOUT_MS / 1000} s` : `exited ${result.code ?? result.signal}`;
              throw new Error(report(r, what, `${result.stdout}\n--- stderr ---\n${result.stderr}`, before));
            }
          },
          BLOCK_TIMEOUT_MS + 20_000,
        );
      }
    });
  }
});
