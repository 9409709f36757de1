// A logger per module: `logger('Relay').warn('upgradeRejected', { reason })` writes one JSON line with the time,
// level, module and event, its fields redacted of phone numbers and secrets (redact.ts). Where lines go is a
// sink: a rotating file for the desktop app, stderr for `serve`, an array in tests. No Electron here.
import type { LogEntry } from '../companion.ts';
import { redact } from './redact.ts';
import { logDir, RotatingFile, type RotatingFileOptions } from './rotating-file.ts';

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

export type Fields = Record<string, unknown>;

export interface Logger {
  readonly module: string;
  debug(event: string, fields?: Fields): void;
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
}

export interface LogSink {
  write(line: string): void;
  close?(): void;
}

export interface Logging {
  logger(module: string): Logger;
  /** The core's `log` option: each entry goes to the module and level its event belongs to. */
  core: (entry: LogEntry) => void;
  close(): void;
}

export interface LoggingOptions {
  sink: LogSink;
  /** Lines below this level are dropped. Default `info`. */
  level?: Level;
  now?: () => number;
}

/**
 * Where the core's events belong and how much they matter. An event not listed is `info` from `Core`; a failure
 * that loses data or blocks the operator is `error`, a refusal that may be an attack or a misconfiguration `warn`.
 */
const CORE_EVENTS: Record<string, { module: string; level: Level }> = {
  storeFailed: { module: 'Store', level: 'error' },
  databaseMovedAside: { module: 'Store', level: 'error' },
  upgradeRejected: { module: 'Relay', level: 'warn' },
  frameClaimRefused: { module: 'Relay', level: 'warn' },
  ackedEventsMissing: { module: 'Relay', level: 'warn' },
  workerReport: { module: 'Relay', level: 'info' },
  pairingRefused: { module: 'Pairing', level: 'warn' },
  pairingRequested: { module: 'Pairing', level: 'info' },
  microphoneFailed: { module: 'Microphone', level: 'error' },
  microphoneCardFollowFailed: { module: 'Microphone', level: 'warn' },
  microphoneRecordFailed: { module: 'Microphone', level: 'error' },
  microphoneGivenBack: { module: 'Microphone', level: 'info' },
};

/** One line, as written: time, level, module and event first, then the redacted fields (which cannot override them). */
export function formatLine(time: number, level: Level, module: string, event: string, fields: Fields = {}): string {
  const { time: _t, level: _l, module: _m, event: _e, ...rest } = redact(fields) as Fields;
  return JSON.stringify({ time: new Date(time).toISOString(), level, module, event, ...rest });
}

export function createLogging(options: LoggingOptions): Logging {
  const threshold = LEVELS.indexOf(options.level ?? 'info');
  const now = options.now ?? Date.now;
  const loggers = new Map<string, Logger>();
  const write = (level: Level, module: string, event: string, fields?: Fields): void => {
    if (LEVELS.indexOf(level) < threshold) return;
    try {
      options.sink.write(formatLine(now(), level, module, event, fields));
    } catch {
      // A full disk or a removed folder must not take the app down with it; the app keeps working unlogged.
    }
  };
  const logger = (module: string): Logger => {
    let existing = loggers.get(module);
    if (!existing) {
      existing = {
        module,
        debug: (event, fields) => write('debug', module, event, fields),
        info: (event, fields) => write('info', module, event, fields),
        warn: (event, fields) => write('warn', module, event, fields),
        error: (event, fields) => write('error', module, event, fields),
      };
      loggers.set(module, existing);
    }
    return existing;
  };
  return {
    logger,
    core: ({ event, ...fields }) => {
      const route = CORE_EVENTS[event] ?? { module: 'Core', level: 'info' };
      write(route.level, route.module, event, fields);
    },
    close: () => options.sink.close?.(),
  };
}

/** The desktop app's logs: `DATA_DIR/logs/companion.log`, rotated by size. */
export function fileLogging(dataDir: string, options: RotatingFileOptions & { level?: Level; now?: () => number } = {}): Logging {
  const file = new RotatingFile(logDir(dataDir), options);
  return createLogging({ sink: file, ...(options.level ? { level: options.level } : {}), ...(options.now ? { now: options.now } : {}) });
}

/** `serve`'s logs: the same lines on stderr. */
export function stderrLogging(options: { level?: Level; now?: () => number } = {}): Logging {
  return createLogging({ sink: { write: (line) => void process.stderr.write(`${line}\n`) }, ...options });
}
