import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ValidationReport } from '../../../src/domain/dataset';
import { fixture } from './fixtures';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let main: (argv: string[]) => Promise<void>;

beforeAll(async () => {
  ({ main } = await import('../../../src/cli/main'));
}, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Runs `tuneflow validate ...` in-process through the real program, capturing output and exit code. */
async function validate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  // main reports usage errors with console.error, which vitest captures apart from process.stderr.
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    stderr += `${parts.map(String).join(' ')}\n`;
  });
  process.exitCode = undefined;
  await main(['node', 'tuneflow', 'validate', ...args]);
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  vi.restoreAllMocks();
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

describe('tuneflow validate exit codes', () => {
  it('exits 0 for a valid file and prints the readable report', async () => {
    const run = await validate(fixture('good/basic.jsonl'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Result   VALID: 0 errors, 0 warnings');
    expect(run.stdout).toContain('Statistics');
    expect(run.stdout).toContain('estimated cost');
  });

  it('exits 1 for an invalid file and names the error line and code', async () => {
    const run = await validate(fixture('bad/missing_content.jsonl'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('missing_content ×1 (line 8)');
    expect(run.stdout).toContain('Refused: dataset has 1 error');
  });

  it('exits 1 when the estimate is over --budget-usd, with the figures', async () => {
    const run = await validate(fixture('good/basic.jsonl'), '--budget-usd', '0.000001', '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as ValidationReport;
    expect(report).toMatchObject({ valid: false, overBudget: true, budgetUsd: 0.000001, errorCounts: {} });
    expect(run.stderr).toMatch(/estimated training cost \$0\.\d{4} exceeds the budget of \$0\.0000: \d+ charged tokens \(\d+ billing tokens × 5 epochs on 20 examples\) at \$3\.00 per 1M tokens/);
  });

  it('exits 0 under a sufficient budget and prints JSON with --json', async () => {
    const run = await validate(fixture('good/basic.jsonl'), '--budget-usd', '5', '--json', '--model', 'gpt-4.1-nano');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, overBudget: false, model: 'gpt-4.1-nano-2025-04-14' });
  });

  it('exits 1 for an over-long example, 0 with --allow-truncation', async () => {
    expect((await validate(fixture('bad/example_too_long.jsonl'), '--model', 'gpt-3.5-turbo-0613')).code).toBe(1);
    expect((await validate(fixture('bad/example_too_long.jsonl'), '--model', 'gpt-3.5-turbo-0613', '--allow-truncation')).code).toBe(0);
  });

  it('estimates on the training split with --valid-ratio, as run does', async () => {
    const run = await validate(fixture('good/basic.jsonl'), '--valid-ratio', '0.2', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ValidationReport;
    expect(report.cost.basis).toBe('train_split');
    expect(report.cost.trainSplit).toMatchObject({ examples: 16, validExamples: 4, seed: 42 });
    expect(report.epochs).toBe(6); // 100 // 16
  });

  it('exits 2 for a missing file, an unknown model or a bad flag', async () => {
    const missing = await validate(fixture('good/nope.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const unknown = await validate(fixture('good/basic.jsonl'), '--model', 'gpt-9');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown model "gpt-9"');
    expect((await validate(fixture('good/basic.jsonl'), '--budget-usd', 'lots')).code).toBe(2);
    expect((await validate(fixture('good/basic.jsonl'), '--no-such-flag')).code).toBe(2);
    expect((await validate(fixture('good/basic.jsonl'), '--valid-ratio', '1.5')).code).toBe(2);
    expect((await validate(fixture('good/basic.jsonl'), '--seed', '3')).code).toBe(2);
    expect((await validate()).code).toBe(2);
  });
});

describe('tuneflow validate as a process', () => {
  const run = (args: string[]) =>
    new Promise<number>((resolve) => {
      execFile(process.execPath, ['bin/tuneflow.mjs', 'validate', ...args], { cwd: ROOT }, (err) => resolve(err ? Number((err as { code?: number }).code ?? -1) : 0));
    });

  // One spawn only (each costs seconds of tsx start-up); the in-process cases above cover 0 and 2 through the same main().
  it('sets the process exit code 1 for an invalid file', async () => {
    expect(await run([fixture('bad/invalid_json.jsonl')])).toBe(1);
  }, 60_000);
});
