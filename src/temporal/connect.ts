import type { Client, ClientInterceptors, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { EncryptionCodec } from '../codec/encryption';
import type { CodecKeyring } from '../codec/keys';
import type { TemporalConnectionSettings } from './settings';

// Every Temporal connection tuneflow makes (CLI, starters, workers, dev stacks, benchmarks) opens here, from
// settings loaded once by loadConfig (src/temporal/settings.ts): the SDKs load on first use.

export class TemporalConnectError extends Error {}

function connectionOptions(settings: TemporalConnectionSettings) {
  return {
    address: settings.address,
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
    ...(settings.grpcMeta ? { metadata: settings.grpcMeta } : {}),
  };
}

function unreachable(settings: TemporalConnectionSettings, err: unknown): TemporalConnectError {
  const tls = settings.tls ? 'TLS' : settings.tls === false ? 'no TLS' : 'plain text';
  return new TemporalConnectError(
    `Cannot reach Temporal at ${settings.address} (${tls}${settings.apiKey ? ', API key' : ''}; settings from ${settings.source ?? 'defaults'}): ` +
      `${err instanceof Error ? err.message : String(err)}. Start one with \`tuneflow dev\`, or set TEMPORAL_ADDRESS, or TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE.`,
  );
}

/** The connection clients use (gRPC in JS). */
export async function openClientConnection(settings: TemporalConnectionSettings, opts: { connectTimeoutMs?: number } = {}): Promise<Connection> {
  const { Connection } = await import('@temporalio/client');
  try {
    return await Connection.connect({ ...connectionOptions(settings), ...(opts.connectTimeoutMs ? { connectTimeout: opts.connectTimeoutMs } : {}) });
  } catch (err) {
    throw unreachable(settings, err);
  }
}

/** The connection workers use (the SDK's Rust core). */
export async function openWorkerConnection(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect(connectionOptions(settings));
  } catch (err) {
    throw unreachable(settings, err);
  }
}

/** Payloads through the encryption codec, for workers and clients alike; the codec encrypts only with keys. */
export function tuneflowDataConverter(codec: CodecKeyring | undefined): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(codec)] };
}

/** A client in the settings' namespace whose payloads go through the codec; closing the client is closing its connection. */
export async function connectClient(
  settings: TemporalConnectionSettings,
  opts: { codec?: CodecKeyring | undefined; interceptors?: ClientInterceptors; connectTimeoutMs?: number } = {},
): Promise<Client> {
  const { Client } = await import('@temporalio/client');
  const connection = await openClientConnection(settings, opts);
  return new Client({
    connection,
    namespace: settings.namespace,
    dataConverter: tuneflowDataConverter(opts.codec),
    ...(opts.interceptors ? { interceptors: opts.interceptors } : {}),
  });
}
