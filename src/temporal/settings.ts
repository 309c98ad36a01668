import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';

/**
 * How to reach Temporal: Temporal's own environment configuration (`@temporalio/envconfig`): a profile of
 * the TOML config file, overridden field by field by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_* and TEMPORAL_GRPC_META_*.
 */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** Temporal Cloud API key; turns TLS on unless the profile turns it off. */
  apiKey?: string | undefined;
  /** true: TLS with the system's roots; an object: server CA, client certificate (mTLS), server name. */
  tls?: TLSConfig | boolean | undefined;
  /** Extra gRPC headers sent with every request. */
  grpcMeta?: Record<string, string> | undefined;
  /** Where the settings came from, for messages: the profile and file, and the variables that overrode them. */
  source?: string | undefined;
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';
const DEFAULT_PROFILE = 'default';

/** Variables that envconfig reads; an empty one means unset, as everywhere else in tuneflow's config. */
const ENV_OVERRIDES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
] as const;

export class TemporalSettingsError extends Error {}

/** Where envconfig looks for the file when TEMPORAL_CONFIG_FILE is unset (its own rule, for naming it in messages). */
export function defaultTemporalConfigFile(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = os.platform()): string | undefined {
  let dir: string | undefined;
  if (platform === 'win32') dir = env.APPDATA || undefined;
  else if (platform === 'darwin') dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else if (env.XDG_CONFIG_HOME) dir = path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  else dir = env.HOME ? path.join(env.HOME, '.config') : undefined;
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : undefined;
}

/**
 * Loads the connection settings once, from the profile (TEMPORAL_PROFILE, else `default`) of the config
 * file (TEMPORAL_CONFIG_FILE, else the user's `temporalio/temporal.toml`) with the environment over it.
 * Every error names the profile and the file.
 */
export function loadTemporalSettings(env: NodeJS.ProcessEnv): TemporalConnectionSettings {
  const given = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const explicitFile = given('TEMPORAL_CONFIG_FILE');
  const file = explicitFile ?? defaultTemporalConfigFile(env);
  const requestedProfile = given('TEMPORAL_PROFILE');
  const profileName = requestedProfile ?? DEFAULT_PROFILE;
  const fileExists = file !== undefined && existsSync(file);
  if (explicitFile && !fileExists) throw new TemporalSettingsError(`TEMPORAL_CONFIG_FILE: ${explicitFile} does not exist`);
  if (requestedProfile && !fileExists) {
    throw new TemporalSettingsError(
      `TEMPORAL_PROFILE=${requestedProfile}, but there is no Temporal config file${file ? ` at ${file}` : ''}: set TEMPORAL_CONFIG_FILE to the file that defines it`,
    );
  }
  const where = fileExists ? `profile '${profileName}' in ${file}` : 'the environment';

  const overrides: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !k.startsWith('TEMPORAL_')) continue;
    // TEMPORAL_GRPC_META_X= removes header X, so only the plain settings treat empty as unset.
    if (v === '' && (ENV_OVERRIDES as readonly string[]).includes(k)) continue;
    overrides[k] = v;
  }
  // The profile name goes explicitly, so envconfig never reads it from process.env behind our back.
  delete overrides.TEMPORAL_PROFILE;

  const load = (strict: boolean): ClientConfigProfile =>
    loadClientConfigProfile({
      profile: requestedProfile,
      ...(fileExists ? { configSource: { path: file } } : { disableFile: true }),
      configFileStrict: strict,
      overrideEnvVars: overrides,
    });
  let profile: ClientConfigProfile;
  try {
    // Strict: a misspelt key would otherwise be ignored, and a TLS setting silently lost.
    profile = load(true);
  } catch (err) {
    // The temporal CLI writes tls.disable_host_verification, which this SDK's strict check does not know (nor honour).
    const cliOnlyKey = err instanceof Error && /unrecognized in profile\.[^:]+\.tls: disable_host_verification$/.test(err.message);
    try {
      if (!cliOnlyKey) throw err;
      profile = load(false);
    } catch (e) {
      throw new TemporalSettingsError(`Temporal connection settings (${where}): ${describeLoadError(e, profileName, file)}`);
    }
  }

  const tls = profile.tls;
  if (tls && (tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    const missing = tls.clientCert === undefined ? 'client_cert_path (TEMPORAL_TLS_CLIENT_CERT_PATH)' : 'client_key_path (TEMPORAL_TLS_CLIENT_KEY_PATH)';
    throw new TemporalSettingsError(`Temporal connection settings (${where}): mTLS needs a client certificate and its key; ${missing} is missing`);
  }
  let connect: ReturnType<typeof toClientOptions>;
  try {
    connect = toClientOptions(profile);
  } catch (err) {
    throw new TemporalSettingsError(`Temporal connection settings (${where}): TLS: ${err instanceof Error ? err.message : String(err)}`);
  }

  const fromEnv = ENV_OVERRIDES.filter((k) => given(k) !== undefined);
  const source = [fileExists ? where : null, fromEnv.length > 0 ? `${fromEnv.join(', ')} from the environment` : null].filter((s) => s !== null).join('; ');
  return {
    address: profile.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: profile.namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
    apiKey: connect.connectionOptions.apiKey,
    tls: connect.connectionOptions.tls ?? undefined,
    grpcMeta: profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0 ? profile.grpcMeta : undefined,
    source: source || 'defaults',
  };
}

function describeLoadError(err: unknown, profileName: string, file: string | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/^Profile '.*' not found/.test(message)) return `${file} has no [profile.${profileName}]`;
  // smol-toml's syntax errors carry the line and column; envconfig's strict check names the key.
  return message.replace(/^Validation error: /, '');
}

/** The settings of a dev server tuneflow started itself: plain text, no key, whatever the user's profile says. */
export function localTemporalSettings(address: string, namespace = DEFAULT_TEMPORAL_NAMESPACE): TemporalConnectionSettings {
  return { address, namespace, apiKey: undefined, tls: undefined, grpcMeta: undefined, source: 'a dev server tuneflow started' };
}
