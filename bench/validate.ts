/**
 * Benchmark of `validate` (npm run bench:validate): generates a deterministic chat JSONL of at least
 * 200 MB, then measures in fresh child processes (so peak RSS is per pass): a bare read + JSON.parse
 * pass, a tokenizer-only pass (read, parse, and count the same tokens validation counts), and the
 * validator itself; then the validator on a smaller file with 1 MB lines among ordinary ones (prose and
 * runs without spaces, the tokenizer's worst case). Prints MB/s, the validate/tokenizer ratio, peak RSS
 * and, per pass, the longest the event loop was blocked (perf_hooks.monitorEventLoopDelay).
 *
 *   npm run bench:validate [-- --mb 200 --repeat 1 --keep --dir /tmp/x --passes parse,tokenize,validate,long-lines]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { countExampleTokens } from '../src/domain/dataset';
import { validateDatasetFile } from '../src/dataset';
import { readLineBatches } from '../src/dataset/line-reader';
import { createTokenCounter } from '../src/dataset/tokenizer';
import { generateChatJsonl, generateChatJsonlWithLongLines } from './chat-dataset';

const MODEL = 'gpt-4o-mini-2024-07-18';
const PASSES = ['parse', 'tokenize', 'validate', 'long-lines'] as const;
type Pass = (typeof PASSES)[number];

interface PassResult {
  pass: Pass;
  seconds: number;
  bytes: number;
  maxRssMb: number;
  /** The longest the event loop went without a turn during the pass. */
  maxLoopBlockMs: number;
  detail: string;
}

// ---------------------------------------------------------------- passes (run in a child)

async function runPass(pass: Pass, file: string): Promise<PassResult> {
  // The tokenizer's rank table loads before the clock starts, as a worker has it loaded.
  await createTokenCounter('o200k_base');
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const started = performance.now();
  let bytes = 0;
  let detail = '';
  if (pass === 'validate' || pass === 'long-lines') {
    const report = await validateDatasetFile(file, { model: MODEL, validRatio: 0.2, seed: 42 });
    bytes = report.bytes;
    detail = `${report.examples} examples, ${report.tokens.total} tokens, ${report.duplicates.duplicateExamples} duplicates, valid=${report.valid}`;
    if (pass === 'long-lines') detail += `, example_too_long on ${report.errorCounts.example_too_long ?? 0} lines`;
  } else {
    const counter = pass === 'tokenize' ? await createTokenCounter('o200k_base') : null;
    const progress = { bytes: 0 };
    let examples = 0;
    let tokens = 0;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for await (const batch of readLineBatches(file, undefined, progress)) {
      for (const raw of batch) {
        if (raw.bytes === null || raw.bytes.length === 0) continue;
        const value = JSON.parse(decoder.decode(raw.bytes)) as Record<string, unknown>;
        examples++;
        if (counter) tokens += countExampleTokens(value, counter).total;
      }
    }
    bytes = progress.bytes;
    detail = counter ? `${examples} examples, ${tokens} tokens` : `${examples} examples`;
  }
  const seconds = (performance.now() - started) / 1000;
  loop.disable();
  return { pass, seconds, bytes, maxRssMb: process.resourceUsage().maxRSS / 1024, maxLoopBlockMs: loop.max / 1e6, detail };
}

function runPassInChild(pass: Pass, file: string): PassResult {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', pass, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${pass} pass failed (exit ${child.status}): ${child.stderr}`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as PassResult;
}

// ---------------------------------------------------------------- main

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const childPass = argValue('--child') as Pass | undefined;
  if (childPass) {
    const file = process.argv[process.argv.indexOf('--child') + 2] ?? '';
    process.stdout.write(`${JSON.stringify(await runPass(childPass, file))}\n`);
    return;
  }

  const targetMb = Number(argValue('--mb') ?? 200);
  const dir = argValue('--dir') ?? join(tmpdir(), 'tuneflow-bench-validate');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chat-${targetMb}mb.jsonl`);
  if (!existsSync(file) || statSync(file).size < targetMb * 1e6) {
    const t = performance.now();
    await generateChatJsonl(file, targetMb * 1e6, 'bench:validate');
    console.log(`generated ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } else {
    console.log(`reusing ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB; same seed, same bytes)`);
  }
  const longFile = join(dir, 'chat-long-lines.jsonl');
  if (!existsSync(longFile)) {
    await generateChatJsonlWithLongLines(longFile, 20e6, 8);
    console.log(`generated ${longFile} (${(statSync(longFile).size / 1e6).toFixed(1)} MB, 8 lines of 1 MB among ordinary examples)`);
  }
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);

  // Passes alternate --repeat times and the fastest of each counts: on a shared machine, load comes and goes.
  const repeat = Math.max(1, Number(argValue('--repeat') ?? 1));
  const results = new Map<Pass, PassResult>();
  const only = argValue('--passes')?.split(',');
  for (let round = 1; round <= repeat; round++) {
    for (const pass of PASSES.filter((p) => !only || only.includes(p))) {
      const r = runPassInChild(pass, pass === 'long-lines' ? longFile : file);
      const best = results.get(pass);
      // Fastest run for throughput, highest peak RSS of all runs for memory.
      if (!best || r.seconds < best.seconds) results.set(pass, { ...r, maxRssMb: Math.max(r.maxRssMb, best?.maxRssMb ?? 0), maxLoopBlockMs: Math.max(r.maxLoopBlockMs, best?.maxLoopBlockMs ?? 0) });
      else {
        best.maxRssMb = Math.max(best.maxRssMb, r.maxRssMb);
        best.maxLoopBlockMs = Math.max(best.maxLoopBlockMs, r.maxLoopBlockMs);
      }
      console.log(`${pass.padEnd(9)} ${(r.bytes / 1e6 / r.seconds).toFixed(2).padStart(7)} MB/s  ${r.seconds.toFixed(1).padStart(6)} s  peak RSS ${r.maxRssMb.toFixed(0).padStart(4)} MB  max event-loop block ${r.maxLoopBlockMs.toFixed(0).padStart(4)} ms  (${r.detail})${repeat > 1 ? `  [round ${round}]` : ''}`);
    }
  }
  const validate = results.get('validate');
  const tokenize = results.get('tokenize');
  if (validate && tokenize) {
    const ratio = validate.bytes / validate.seconds / (tokenize.bytes / tokenize.seconds);
    console.log(`${repeat > 1 ? `best of ${repeat}: ` : ''}validate / tokenizer-only: ${ratio.toFixed(2)} (target >= 0.80)   validate peak RSS: ${validate.maxRssMb.toFixed(0)} MB (target < 300 MB)`);
  }
  const blocks = (['validate', 'long-lines'] as const).map((p) => results.get(p)).filter((r) => r !== undefined);
  if (blocks.length > 0) console.log(`max event-loop block while validating: ${blocks.map((r) => `${r.pass} ${r.maxLoopBlockMs.toFixed(0)} ms`).join(', ')} (target ~100 ms)`);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (!process.argv.includes('--keep') && argValue('--dir') === undefined) rmSync(dir, { recursive: true, force: true });
}

await main();
