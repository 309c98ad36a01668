import pino, { type Logger } from 'pino';

// Secrets a log line may carry: request headers and keys, at the top level or nested up to three deep.
const SECRET_KEYS = ['authorization', 'Authorization', '["api-key"]', '["Api-Key"]', '["x-api-key"]', 'apiKey', 'api_key', 'OPENAI_API_KEY', 'AZURE_OPENAI_API_KEY', 'AZURE_RESOURCE_MANAGER_TOKEN', 'TOGETHER_API_KEY', 'TEMPORAL_API_KEY', 'TUNEFLOW_CODEC_KEYS', 'TUNEFLOW_CODEC_SERVER_TOKEN', 'codecServerToken', 'secretAccessKey', 'sessionToken', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'OPENAI_WEBHOOK_SECRET', 'webhookSecret'];

/** Paths pino redacts in every tuneflow log, the local backend's included. */
export const REDACTED_LOG_PATHS: string[] = SECRET_KEYS.flatMap((key) => {
  const nested = key.startsWith('[') ? key : `.${key}`;
  return [key, `*${nested}`, `*.*${nested}`, `*.*.*${nested}`];
});

export const REDACTED = '[redacted]';

/** JSON logs for machines; pretty only when a person is watching a terminal. Keys and authorization headers are redacted. */
export function createLogger(level: string = 'info', name = 'tuneflow', destination?: pino.DestinationStream): Logger {
  const pretty = destination === undefined && process.stderr.isTTY === true && !process.env.CI;
  return pino(
    { name, level, base: { pid: process.pid }, redact: { paths: REDACTED_LOG_PATHS, censor: REDACTED } },
    destination ??
      (pretty
      ? pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } })
        : pino.destination(2)),
  );
}
