import pino, { type Logger } from 'pino';

/** JSON logs for machines; pretty only when a person is watching a terminal. */
export function createLogger(level: string = 'info', name = 'tuneflow'): Logger {
  const pretty = process.stderr.isTTY === true && !process.env.CI;
  return pino(
    { name, level, base: { pid: process.pid } },
    pretty
      ? pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } })
      : pino.destination(2),
  );
}
