import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInputFile, nonRetryable, type InputFileRule } from '../../src/activities/failures';
import { loadConfig } from '../../src/config';

let dir: string;
let roots: string[];
let rule: InputFileRule;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(tmpdir(), 'tuneflow-input-file-')));
  await mkdir(path.join(dir, 'data'));
  await writeFile(path.join(dir, 'data', 'train.jsonl'), '{}\n');
  await writeFile(path.join(dir, 'secret.jsonl'), '{}\n');
  roots = [path.join(dir, 'data')];
  rule = { what: 'Dataset', notFoundType: 'DatasetNotFound', roots };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(file: string, r: InputFileRule = rule): Promise<ApplicationFailure> {
  const err = await assertInputFile(file, r).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  return err as ApplicationFailure;
}

describe('input files named in workflow input', () => {
  it('refuses a missing file without retry, naming the file and what it was for', async () => {
    const err = await refusal(path.join(dir, 'data', 'missing.jsonl'));
    expect(err.type).toBe('DatasetNotFound');
    expect(err.message).toBe(`Dataset ${path.join(dir, 'data', 'missing.jsonl')} does not exist or cannot be read by the worker`);
  });

  it('lets a regular file under a data root through, returning its resolved path', async () => {
    await expect(assertInputFile(path.join(dir, 'data', 'train.jsonl'), rule)).resolves.toBe(path.join(dir, 'data', 'train.jsonl'));
  });

  it('refuses a FIFO before opening it (opening one would block)', async () => {
    const fifo = path.join(dir, 'data', 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const err = await refusal(fifo);
    expect(err.type).toBe('NotARegularFile');
    expect(err.message).toContain(`${fifo} is a FIFO`);
  });

  it('refuses a directory', async () => {
    const err = await refusal(path.join(dir, 'data'));
    expect(err.type).toBe('NotARegularFile');
    expect(err.message).toContain('is a directory, not a regular file');
  });

  it('refuses a device such as /dev/zero', async () => {
    const err = await refusal('/dev/zero', { ...rule, roots: ['/dev'] });
    expect(err.type).toBe('NotARegularFile');
    expect(err.message).toBe('Dataset /dev/zero is a character device, not a regular file: only regular files are read');
  });

  it('refuses a path outside every data root, naming the path, the roots and the variable to set', async () => {
    const err = await refusal(path.join(dir, 'secret.jsonl'));
    expect(err.type).toBe('PathOutsideDataRoots');
    expect(err.message).toContain(path.join(dir, 'secret.jsonl'));
    expect(err.message).toContain(roots[0]);
    expect(err.message).toContain('TUNEFLOW_DATA_ROOTS');
  });

  it('refuses a path that climbs out of a root with ..', async () => {
    const err = await refusal(path.join(dir, 'data', '..', 'secret.jsonl'));
    expect(err.type).toBe('PathOutsideDataRoots');
  });

  it('refuses a symlink inside a root that points outside it', async () => {
    const link = path.join(dir, 'data', 'link.jsonl');
    await symlink(path.join(dir, 'secret.jsonl'), link);
    const err = await refusal(link);
    expect(err.type).toBe('PathOutsideDataRoots');
    expect(err.message).toContain(`it resolves to ${path.join(dir, 'secret.jsonl')}`);
  });

  it('refuses everything when no data root is set', async () => {
    const err = await refusal(path.join(dir, 'data', 'train.jsonl'), { ...rule, roots: [] });
    expect(err.type).toBe('PathOutsideDataRoots');
    expect(err.message).toContain('none set');
  });

  it('lets the run read its own files in the artifacts folder', async () => {
    await expect(assertInputFile(path.join(dir, 'secret.jsonl'), { ...rule, artifactsDir: dir })).resolves.toBe(path.join(dir, 'secret.jsonl'));
  });

  it('keeps the original error as the cause of a refusal', () => {
    const cause = new Error('underlying');
    expect(nonRetryable('refused', 'X', cause).cause).toBe(cause);
    expect(nonRetryable('refused', 'X', 'not an error').cause).toBeUndefined();
  });
});

describe('TUNEFLOW_DATA_ROOTS', () => {
  it('parses folders separated by the path delimiter into absolute paths with symlinks resolved', async () => {
    const link = path.join(dir, 'data-link');
    await symlink(path.join(dir, 'data'), link);
    const config = loadConfig({ TUNEFLOW_DATA_ROOTS: [link, dir].join(path.delimiter) });
    expect(config.dataRoots).toEqual([path.join(dir, 'data'), dir]);
    expect(loadConfig({}).dataRoots).toEqual([]);
  });

  it('refuses a root that does not exist, naming it', () => {
    expect(() => loadConfig({ TUNEFLOW_DATA_ROOTS: path.join(dir, 'nope') })).toThrow(`TUNEFLOW_DATA_ROOTS: ${path.join(dir, 'nope')} does not exist`);
  });
});
