import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDir, writeFileAtomic } from '../../src/artifacts';
import { createLogger } from '../../src/log';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('secrets in logs', () => {
  it('redacts authorization headers and keys wherever a log line carries them', () => {
    const out = capture();
    const log = createLogger('info', 'test', out.stream);
    log.info(
      {
        req: { headers: { authorization: 'Bearer sk-header-secret', 'api-key': 'azure-secret' } },
        config: { provider: { apiKey: 'sk-config-secret', baseURL: 'http://127.0.0.1:1/v1' } },
        env: { OPENAI_API_KEY: 'sk-env-secret' },
      },
      'request',
    );
    const line = JSON.parse(out.text()) as { req: { headers: Record<string, string> }; config: { provider: Record<string, string> }; env: Record<string, string> };
    expect(out.text()).not.toMatch(/secret/);
    expect(line.req.headers.authorization).toBe('[redacted]');
    expect(line.req.headers['api-key']).toBe('[redacted]');
    expect(line.config.provider.apiKey).toBe('[redacted]');
    expect(line.config.provider.baseURL).toBe('http://127.0.0.1:1/v1');
    expect(line.env.OPENAI_API_KEY).toBe('[redacted]');
  });
});

describe('files the project writes', () => {
  it('writes artifacts readable by their owner only (0600 files in 0700 folders)', async () => {
    const file = path.join(dir, 'artifacts', 'run-1', 'validation.json');
    await writeFileAtomic(file, '{}');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, 'artifacts'))).mode & 0o777).toBe(0o700);
  });
});

describe('run folders', () => {
  it('refuses . and .. as run ids, which would put run files outside the artifacts folder', () => {
    expect(() => runDir(dir, '..')).toThrow(/unsafe for a folder name/);
    expect(() => runDir(dir, '.')).toThrow(/unsafe for a folder name/);
    expect(runDir(dir, 'ft-run.1')).toBe(path.join(dir, 'ft-run.1'));
  });
});
