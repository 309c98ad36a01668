import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface PackResult {
  filename: string;
  size: number;
  entryCount: number;
  files: Array<{ path: string }>;
}

describe('the package as another project installs it', () => {
  let work: string;
  let consumer: string;
  let packed: PackResult;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'tuneflow-package-'));
    // `npm pack` runs `prepare`, so the tarball holds a build of the sources as they are now.
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
    expect(pack.code, pack.stderr).toBe(0);
    packed = (JSON.parse(pack.stdout) as PackResult[])[0] as PackResult;
    process.stderr.write(`[package test] ${packed.filename}: ${packed.size} bytes, ${packed.entryCount} files\n`);
    consumer = path.join(work, 'consumer');
    await run('mkdir', [consumer], work);
    await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(work, packed.filename)], consumer);
    expect(install.code, install.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs the CLI, its build and the sample dataset, and no sources, tests, fixtures or benchmarks', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('bin/tuneflow.mjs');
    expect(paths).toContain('dist/cli/main.js');
    expect(paths).toContain('dist/workflow-bundle.js');
    expect(paths).toContain('dist/client.d.ts');
    expect(paths).toContain('data/sample/support-conversations.jsonl');
    const unexpected = paths.filter((p) => !/^(bin|dist|data\/sample)\//.test(p) && !['package.json', 'README.md'].includes(p));
    expect(unexpected).toEqual([]);
    expect(paths.filter((p) => /^(src|test|bench|scripts)\//.test(p) || p.includes('fixtures'))).toEqual([]);
  });

  it('installs without tsx, which only a checkout needs', async () => {
    const manifest = JSON.parse(await readFile(path.join(consumer, 'node_modules/tuneflow/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
  });

  it('runs `npx tuneflow --help`', async () => {
    const help = await run('npx', ['tuneflow', '--help'], consumer);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tuneflow/);
    expect(help.stdout).toContain('validate');
  });

  it('validates a dataset with `npx tuneflow validate <file>`', async () => {
    const file = path.join(consumer, 'basic.jsonl');
    await copyFile(path.join(ROOT, 'test/fixtures/dataset/good/basic.jsonl'), file);
    const validate = await run('npx', ['tuneflow', 'validate', file, '--json'], consumer);
    expect(validate.code, validate.stderr).toBe(0);
    expect((JSON.parse(validate.stdout) as { valid: boolean }).valid).toBe(true);
  });

  it('exposes tuneflow/client: the starter, the run id and UI helpers, the query and signal, the input schema', async () => {
    const script = [
      "const c = await import('tuneflow/client');",
      'console.log(JSON.stringify({ keys: Object.keys(c).sort(), query: c.progressQuery.name, signal: c.resumeSignal.name,',
      "  parsed: c.resolvePipelineInput({ datasetPath: 'd.jsonl', model: 'm' }).validRatio, id: c.defaultWorkflowId('/x/My Data.jsonl').startsWith('ft-My-Data-') }));",
    ].join('\n');
    const imported = await run('node', ['--input-type=module', '-e', script], consumer);
    expect(imported.code, imported.stderr).toBe(0);
    const seen = JSON.parse(imported.stdout) as { keys: string[]; query: string; signal: string; parsed: number; id: boolean };
    expect(seen.keys).toEqual(expect.arrayContaining(['startPipeline', 'defaultWorkflowId', 'uiLink', 'progressQuery', 'resumeSignal', 'PipelineInputSchema', 'resolvePipelineInput']));
    expect(seen).toMatchObject({ query: 'progress', signal: 'resume', parsed: 0.2, id: true });
  });
});
