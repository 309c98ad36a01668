import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build';

const DIST = path.join(ROOT, 'dist');
const CLIENT = path.join(DIST, 'client.js');

// Records every module Node's ESM loader loads, through a hooks thread that reports each URL back.
const PROBE = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const hooks = 'let port; export function initialize(d) { port = d.port; } export async function load(url, c, next) { port.postMessage(url); return next(url, c); }';
const END = 'data:text/javascript,export{}//end';
const { port1, port2 } = new MessageChannel();
const loaded = [];
const done = new Promise((resolve) => port1.on('message', (url) => (url === END ? resolve() : loaded.push(url))));
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const client = await import(process.argv[2]);
await import(END);
await done;
port1.close();
console.log(JSON.stringify({ exports: Object.keys(client), loaded }));
`;

/** Files under dist/ that `tuneflow/client` must never bring in: workflow code (but the message definitions) and activities. */
const forbidden = (file: string) => file.startsWith('workflows/') || file.startsWith('activities/');

/** Every dist/ file reachable from `entry` by relative imports, static or dynamic (`import()`), so also what could load later. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const ref of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (ref.fileName.startsWith('.')) visit(path.resolve(path.dirname(file), ref.fileName));
    }
  };
  visit(entry);
  return new Set([...seen].map((f) => path.relative(DIST, f).split(path.sep).join('/')));
}

describe('tuneflow/client loads no workflow or activity code', () => {
  let work: string;
  beforeAll(async () => {
    await ensureBuilt();
    work = await mkdtemp(path.join(os.tmpdir(), 'tuneflow-graph-'));
  }, 300_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('importing dist/client.js in a fresh process loads messages.js and no file of dist/workflows/ or dist/activities/', async () => {
    const probe = path.join(work, 'probe.mjs');
    await writeFile(probe, PROBE);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [probe, pathToFileURL(CLIENT).href], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
    );
    const { exports, loaded } = JSON.parse(out) as { exports: string[]; loaded: string[] };
    const distFiles = loaded.filter((u) => u.startsWith(pathToFileURL(DIST).href)).map((u) => path.relative(DIST, fileURLToPath(u)).split(path.sep).join('/'));
    expect(distFiles).toContain('client.js');
    expect(distFiles).toContain('messages.js');
    expect(distFiles.filter(forbidden)).toEqual([]);
    expect(exports).toEqual(expect.arrayContaining(['TuneflowClient', 'progressQuery', 'approveUpdate', 'rejectUpdate', 'resumeSignal', 'jobEventSignal', 'PipelineInputSchema']));
  });

  it('no import of dist/client.js, static or dynamic, reaches workflow or activity code either', () => {
    const files = reachable(CLIENT);
    expect(files.has('messages.js')).toBe(true);
    expect([...files].filter(forbidden)).toEqual([]);
  });
});
