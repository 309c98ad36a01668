import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseDataRoots, storageSettings } from '../../src/config';
import { isUnderS3Root } from '../../src/activities/input-files';
import { batchKey, evalSetKey, resultsKey } from '../../src/eval/paths';
import { assertRunKey, assertStoreKey, parseReference, parseS3Uri, parseStoreLocation, runObjectKey, RUN_FILES } from '../../src/store';

describe('store keys', () => {
  it('name every run file under the run key <workflow id>/<first run id>', () => {
    const runKey = 'ft-support-20250101-000000-ab12/0192f3a4-run';
    expect(runObjectKey(runKey, RUN_FILES.train)).toBe(`${runKey}/split/train.jsonl`);
    expect(runObjectKey(runKey, RUN_FILES.metrics)).toBe(`${runKey}/metrics.jsonl`);
    expect(evalSetKey(runKey)).toBe(`${runKey}/eval/eval-set.jsonl`);
    expect(batchKey(runKey, 7)).toBe(`${runKey}/eval/batch-00007.jsonl`);
    expect(resultsKey(runKey)).toBe(`${runKey}/eval/results.jsonl`);
    // Runs before 0.2 kept their files under the workflow id alone.
    expect(runObjectKey('ft-old-run', RUN_FILES.runJson)).toBe('ft-old-run/run.json');
  });

  it('refuse run keys and keys that could reach outside their place', () => {
    for (const bad of ['..', '.', 'a/..', 'a/b/c', '/abs', 'a//b', 'has space', 'tilde~1', '']) expect(() => assertRunKey(bad), bad).toThrow(/unsafe for a folder name/);
    for (const bad of ['', '/a', 'a/', 'a/../b', './a', 'a/b~123.tmp', 'a\\b']) expect(() => assertStoreKey(bad), bad).toThrow(/Store key/);
    expect(assertStoreKey('wf/run/eval/batch-00000.jsonl')).toBe('wf/run/eval/batch-00000.jsonl');
  });

  it('read an absolute path as a local file (runs from 0.2), s3:// as an object and anything else as a store key', () => {
    expect(parseReference('/home/a/.tuneflow/artifacts/wf/run/split/train.jsonl')).toEqual({ kind: 'file', path: '/home/a/.tuneflow/artifacts/wf/run/split/train.jsonl' });
    expect(parseReference('s3://data-lake/nightly/support.jsonl')).toEqual({ kind: 's3', bucket: 'data-lake', key: 'nightly/support.jsonl' });
    expect(parseReference('wf/run/split/valid.jsonl')).toEqual({ kind: 'key', key: 'wf/run/split/valid.jsonl' });
  });

  it('parse s3:// URIs and name the URI when one is unusable', () => {
    expect(parseS3Uri('s3://bucket.with.dots/a/b/c.jsonl')).toEqual({ bucket: 'bucket.with.dots', key: 'a/b/c.jsonl' });
    expect(() => parseS3Uri('s3://Bad_Bucket/x.jsonl')).toThrow(/s3:\/\/Bad_Bucket\/x.jsonl is not a usable S3 URI/);
    expect(() => parseS3Uri('s3://bucket')).toThrow(/names no object/);
    expect(() => parseS3Uri('s3://bucket/')).toThrow(/names no object/);
    expect(() => parseS3Uri('https://bucket/x')).toThrow(/does not start with s3:\/\//);
  });

  it('take TUNEFLOW_STORE as s3://bucket[/prefix], and the artifacts folder when unset', () => {
    expect(parseStoreLocation(undefined, '/x/artifacts')).toEqual({ kind: 'local', dir: '/x/artifacts' });
    expect(parseStoreLocation('s3://team-runs', '/x')).toEqual({ kind: 's3', bucket: 'team-runs', prefix: '' });
    expect(parseStoreLocation('s3://team-runs/tuneflow/prod/', '/x')).toEqual({ kind: 's3', bucket: 'team-runs', prefix: 'tuneflow/prod' });
    expect(() => parseStoreLocation('/some/dir', '/x')).toThrow(/expected s3:\/\/<bucket>/);
    expect(() => parseStoreLocation('s3://team-runs/../up', '/x')).toThrow(/not a plain name/);
  });

  it('are configured once from the environment, with the AWS SDK variables', () => {
    const config = loadConfig({
      TUNEFLOW_HOME: '/tmp/h',
      TUNEFLOW_STORE: 's3://team-runs/tf',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:7070',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(storageSettings(config)).toEqual({
      location: { kind: 's3', bucket: 'team-runs', prefix: 'tf' },
      s3: { endpoint: 'http://127.0.0.1:7070', region: 'eu-west-1', credentials: { accessKeyId: 'id', secretAccessKey: 'secret' } },
    });
    expect(storageSettings(loadConfig({ TUNEFLOW_HOME: '/tmp/h' })).location).toEqual({ kind: 'local', dir: path.resolve('/tmp/h/artifacts') });
    expect(() => loadConfig({ TUNEFLOW_STORE: 'not-a-uri' })).toThrow(/TUNEFLOW_STORE/);
    expect(() => loadConfig({ AWS_ACCESS_KEY_ID: 'id' })).toThrow(/set both, or neither/);
  });

  it('take s3://bucket/prefix data roots beside folders, and a prefix covers only what lies under it', () => {
    const cwd = process.cwd();
    expect(parseDataRoots(`${cwd}:s3://datasets-bucket/team-a:s3://other`)).toEqual([expect.any(String), 's3://datasets-bucket/team-a', 's3://other']);
    expect(() => parseDataRoots('s3://Bad_Bucket/x')).toThrow(/TUNEFLOW_DATA_ROOTS: s3:\/\/Bad_Bucket\/x is not an s3:\/\/bucket\/prefix/);
    expect(isUnderS3Root('s3://b/team-a/x.jsonl', 's3://b/team-a')).toBe(true);
    expect(isUnderS3Root('s3://b/team-a', 's3://b/team-a')).toBe(true);
    expect(isUnderS3Root('s3://b/team-ab/x.jsonl', 's3://b/team-a')).toBe(false);
    expect(isUnderS3Root('s3://b2/team-a/x.jsonl', 's3://b')).toBe(false);
    expect(isUnderS3Root('s3://b/x.jsonl', 's3://b/')).toBe(true);
  });
});
