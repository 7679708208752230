import { pino, type Logger, type LevelWithSilent } from 'pino';

export type Log = Logger;

/**
 * Structured JSON logs on stdout (one object per line). Pass a destination to
 * capture logs in tests. `nimbus up` pipes nothing: operators use `| pino-pretty`
 * or their log shipper.
 */
export function createLog(options: { level: LevelWithSilent; name?: string; destination?: NodeJS.WritableStream }): Log {
  const opts = { level: options.level, name: options.name ?? 'nimbus', base: { pid: process.pid } };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that drops everything, for unit tests. */
export function silentLog(): Log {
  return pino({ level: 'silent' });
}
