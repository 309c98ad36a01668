import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { defaultTemporalConfigFile, loadTemporalSettings, TemporalSettingsError } from '../../src/temporal/settings';

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tuneflow-envconfig-'));
  file = path.join(dir, 'temporal.toml');
  await writeFile(
    file,
    [
      '[profile.default]',
      'address = "file-default:7233"',
      'namespace = "file-ns"',
      '',
      '[profile.cloud]',
      'address = "acct.tmprl.cloud:7233"',
      'namespace = "prod.acct"',
      'api_key = "file-api-key"',
      '',
      '[profile.mtls]',
      'address = "temporal.internal:7233"',
      '[profile.mtls.tls]',
      `client_cert_path = "${path.join(dir, 'client.pem')}"`,
      `client_key_path = "${path.join(dir, 'client.key')}"`,
      'server_name = "temporal.internal"',
      '',
      '[profile.half-mtls.tls]',
      `client_cert_path = "${path.join(dir, 'client.pem')}"`,
      '',
      '[profile.missing-cert.tls]',
      `server_ca_cert_path = "${path.join(dir, 'nowhere.pem')}"`,
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'client.pem'), 'CERT');
  await writeFile(path.join(dir, 'client.key'), 'KEY');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Temporal connection settings (envconfig)', () => {
  it('defaults to the local dev server when there is neither file nor variable', () => {
    const s = loadTemporalSettings({});
    expect(s).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', apiKey: undefined, tls: undefined, source: 'defaults' });
  });

  it('takes address and namespace from the default profile of TEMPORAL_CONFIG_FILE', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file });
    expect(s).toMatchObject({ address: 'file-default:7233', namespace: 'file-ns', tls: undefined });
    expect(s.source).toBe(`profile 'default' in ${file}`);
  });

  it('lets each TEMPORAL_* variable override the same field of the profile, and keeps the others', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'staging.acct' });
    expect(s).toMatchObject({ address: 'acct.tmprl.cloud:7233', namespace: 'staging.acct', apiKey: 'file-api-key', tls: true });
    expect(s.source).toBe(`profile 'cloud' in ${file}; TEMPORAL_NAMESPACE from the environment`);
    const key = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_API_KEY: 'env-api-key' });
    expect(key.apiKey).toBe('env-api-key');
  });

  it('treats an empty variable as unset, so the profile still applies', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' });
    expect(s).toMatchObject({ address: 'file-default:7233', namespace: 'file-ns' });
  });

  it('reads the mTLS client certificate pair and server name of a profile', () => {
    const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' });
    expect(s.tls).toMatchObject({ serverNameOverride: 'temporal.internal' });
    const tls = s.tls as { clientCertPair: { crt: Uint8Array; key: Uint8Array } };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe('CERT');
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe('KEY');
  });

  it('turns TLS on from TEMPORAL_TLS alone and off with TEMPORAL_TLS=false under an API key', () => {
    expect(loadTemporalSettings({ TEMPORAL_TLS: 'true' }).tls).toBeTruthy();
    expect(loadTemporalSettings({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls).toBe(false);
  });

  it('finds the file where the Temporal CLI keeps it when TEMPORAL_CONFIG_FILE is unset', () => {
    expect(defaultTemporalConfigFile({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.config/temporalio/temporal.toml');
    expect(defaultTemporalConfigFile({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/temporalio/temporal.toml');
    expect(loadTemporalSettings({ XDG_CONFIG_HOME: dir }).address).toBe('127.0.0.1:7233');
  });

  it.each([
    [{ TEMPORAL_PROFILE: 'staging' }, `(profile 'staging' in FILE): FILE has no [profile.staging]`],
    [{ TEMPORAL_PROFILE: 'half-mtls' }, `(profile 'half-mtls' in FILE): mTLS needs a client certificate and its key; client_key_path (TEMPORAL_TLS_CLIENT_KEY_PATH) is missing`],
    [{ TEMPORAL_PROFILE: 'missing-cert' }, `(profile 'missing-cert' in FILE): TLS: ENOENT`],
  ])('names the profile and the file when a setting is wrong: %o', (env, expected) => {
    const message = (() => {
      try {
        loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, ...env });
        return 'no error';
      } catch (err) {
        expect(err).toBeInstanceOf(TemporalSettingsError);
        return (err as Error).message;
      }
    })();
    expect(message).toContain(expected.replaceAll('FILE', file));
  });

  it('refuses a TEMPORAL_CONFIG_FILE that does not exist, and a TEMPORAL_PROFILE with no file to hold it', () => {
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') })).toThrow(`TEMPORAL_CONFIG_FILE: ${path.join(dir, 'absent.toml')} does not exist`);
    expect(() => loadTemporalSettings({ XDG_CONFIG_HOME: dir, TEMPORAL_PROFILE: 'cloud' })).toThrow(
      `TEMPORAL_PROFILE=cloud, but there is no Temporal config file at ${path.join(dir, 'temporalio', 'temporal.toml')}`,
    );
  });

  it('names a syntax error in the file by its line, and a misspelt key by its profile', async () => {
    const broken = path.join(dir, 'broken.toml');
    await writeFile(broken, '[profile.default]\naddress = "a:1"\nnamespace = \n');
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: broken })).toThrow(`Temporal connection settings (profile 'default' in ${broken}): Invalid TOML document`);
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: broken })).toThrow('3:  namespace =');
    const typo = path.join(dir, 'typo.toml');
    await writeFile(typo, '[profile.default]\naddress = "a:1"\n[profile.other.tls]\nclient_cert = "x"\n');
    expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: typo })).toThrow(
      `Temporal connection settings (profile 'default' in ${typo}): key(s) unrecognized in profile.other.tls: client_cert`,
    );
  });

  it('reads a file the temporal CLI wrote with tls.disable_host_verification, which only that CLI knows', async () => {
    const written = path.join(dir, 'cli-written.toml');
    await writeFile(written, '[profile.default]\naddress = "a:1"\n[profile.default.tls]\nserver_name = "a"\ndisable_host_verification = true\n');
    expect(loadTemporalSettings({ TEMPORAL_CONFIG_FILE: written }).tls).toMatchObject({ serverNameOverride: 'a' });
  });

  it('is what loadConfig puts in config.temporal, beside tuneflow\'s own task queue', () => {
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_TASK_QUEUE: 'tq' });
    expect(config.temporal).toMatchObject({ address: 'acct.tmprl.cloud:7233', namespace: 'prod.acct', apiKey: 'file-api-key', taskQueue: 'tq' });
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' })).toThrow(/^Invalid environment:\n {2}Temporal connection settings/);
  });
});
