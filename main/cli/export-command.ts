// `operator-companion export`: the session log as CSV, XLSX or JSON Lines, streamed to a file (or stdout).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker, workerData, parentPort } from 'node:worker_threads';
import { EXPORT_FORMATS, EXPORT_KINDS, ExportTargetError, exportToFile, openForExport, streamExport, type ExportOptions } from '../core/export/export-log.ts';
import { isValidTimeZone, parseBoundary, systemTimeZone } from '../core/export/time-zone.ts';
import type { CentralConfig } from '../core/central/connection.ts';
import { defaultDataDir } from '../core/paths.ts';
import { oneOf, parse, required, UsageError } from './usage.ts';

export async function runExport(args: string[]): Promise<number> {
  const values = parse(args, {
    'data-dir': { type: 'string' },
    central: { type: 'string' },
    format: { type: 'string' },
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    operator: { type: 'string' },
    tz: { type: 'string' },
    delimiter: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.central !== undefined && values['data-dir'] !== undefined) throw new UsageError('--central and --data-dir are alternatives: the whole team\'s log, or this PC\'s');
  // The central database's client (and what the central commands import) is loaded only for --central: a local
  // export starts with less code and less memory.
  const central = values.central === undefined ? null : (await import('./central-command.ts')).centralConfig(values.central, '--central');
  // Like status and mute: without --data-dir, the desktop app's own folder.
  const dataDir = central ? '' : path.resolve(values['data-dir'] ?? defaultDataDir());
  const format = oneOf(required(values.format, '--format'), EXPORT_FORMATS, '--format');
  const kind = oneOf(values.kind ?? 'calls', EXPORT_KINDS, '--kind');
  const timeZone = values.tz ?? systemTimeZone();
  if (!isValidTimeZone(timeZone)) throw new UsageError(`--tz must be an IANA time zone like Europe/Moscow (got "${timeZone}")`);
  const boundary = (name: '--from' | '--to', value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseBoundary(value, timeZone, name === '--to');
    if (ms === null) throw new UsageError(`${name} must be a date YYYY-MM-DD or an ISO time with offset (got "${value}")`);
    return ms;
  };
  const from = boundary('--from', values.from);
  const to = boundary('--to', values.to);
  if (from !== undefined && to !== undefined && from >= to) throw new UsageError('--from must be before --to');
  const delimiter = values.delimiter ?? ',';
  if (delimiter !== ',' && delimiter !== ';') throw new UsageError(`--delimiter must be "," or ";" (got "${delimiter}")`);
  if (delimiter !== ',' && format !== 'csv') throw new UsageError('--delimiter applies to --format csv only');
  const out = required(values.out, '--out');
  if (values.operator !== undefined && values.operator.trim() === '') throw new UsageError('--operator must not be empty');

  if (format === 'xlsx' && out === '-') throw new UsageError('--out - (stdout) is for csv and jsonl; an xlsx export needs a file');
  if (out !== '-' && !existsSync(path.dirname(path.resolve(out)))) {
    throw new UsageError(`--out: the folder ${path.dirname(path.resolve(out))} does not exist`);
  }
  // Ctrl+C cancels: the half-written file is removed, nothing is left behind.
  const cancel = new AbortController();
  const stop = (): void => cancel.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const job: ExportOptions = {
    kind,
    format,
    timeZone,
    csvDelimiter: delimiter,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(values.operator === undefined ? {} : { operator: values.operator }),
  };
  const options: ExportOptions = { ...job, signal: cancel.signal, onProgress: progressReporter(Boolean(process.stderr.isTTY)) };
  if (central) return exportCentral(central, options, out, cancel.signal, stop);
  if (out !== '-') {
    try {
      return await exportInWorker({ dataDir, file: path.resolve(out), options: job, tty: Boolean(process.stderr.isTTY) }, cancel.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
  const db = openForExport(dataDir);
  try {
    await streamExport(db, options, process.stdout);
    return 0;
  } catch (error) {
    if (cancel.signal.aborted) {
      process.stderr.write('operator-companion: export cancelled; no file was written\n');
      return 130;
    }
    throw error;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    db.close();
  }
}

interface WorkerJob {
  dataDir: string;
  file: string;
  options: ExportOptions;
  tty: boolean;
}
type WorkerReply = { count: number } | { cancelled: true } | { error: string };

/**
 * A local export to a file runs in a worker thread whose young generation is capped: V8 otherwise grows it to
 * 64 MB (twice over) while a million rows stream through, which was most of the export's peak memory, and a
 * small one is no slower (measured: bench/export.ts). The thread loads this same module and calls `workerExport`.
 */
async function exportInWorker(job: WorkerJob, signal: AbortSignal): Promise<number> {
  const worker = new Worker(`import(${JSON.stringify(import.meta.url)}).then((m) => m.workerExport())`, {
    eval: true,
    workerData: job,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  const onAbort = (): void => worker.postMessage('cancel');
  signal.addEventListener('abort', onAbort);
  try {
    const replies: WorkerReply[] = [];
    worker.on('message', (message: WorkerReply) => replies.push(message));
    // The thread ends by itself after its reply (its progress lines on stderr are flushed by then).
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', () => resolve());
    });
    const reply = replies[0];
    if (reply === undefined) throw new Error('the export stopped without a result');
    if ('error' in reply) throw new Error(reply.error);
    if ('cancelled' in reply) {
      process.stderr.write('operator-companion: export cancelled; no file was written\n');
      return 130;
    }
    process.stderr.write(`exported ${reply.count} rows (${job.options.format === 'xlsx' ? 'calls and events' : job.options.kind}) to ${job.file}\n`);
    return 0;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Megabytes of young generation for the export thread (V8's default grows to 64 MB per semi-space). */
const YOUNG_GENERATION_MB = 8;

/** Runs inside the export thread (see exportInWorker). */
export async function workerExport(): Promise<void> {
  const job = workerData as WorkerJob;
  const port = parentPort!;
  const cancel = new AbortController();
  port.on('message', (message) => {
    if (message === 'cancel') cancel.abort();
  });
  let reply: WorkerReply;
  let db;
  try {
    db = openForExport(job.dataDir);
    const count = await exportToFile(db, { ...job.options, signal: cancel.signal, onProgress: progressReporter(job.tty) }, job.file);
    reply = { count };
  } catch (error) {
    reply = cancel.signal.aborted ? { cancelled: true } : { error: error instanceof Error ? error.message : String(error) };
  } finally {
    db?.close();
  }
  port.postMessage(reply);
  port.close();
}

/** The whole team's log from the central PostgreSQL (a supervisor's read-only login is enough). */
async function exportCentral(config: CentralConfig, options: ExportOptions, out: string, signal: AbortSignal, stop: () => void): Promise<number> {
  const [{ centralSource }, { connectCentral, describeCentralError, describeTarget }, { CentralSchemaError, checkCentralSchema }] = await Promise.all([
    import('../core/central/central-export.ts'),
    import('../core/central/connection.ts'),
    import('../core/central/schema.ts'),
  ]);
  const sql = connectCentral(config);
  try {
    await checkCentralSchema(sql);
    const source = centralSource(sql, options);
    if (out === '-') {
      await streamExport(source, options, process.stdout);
      return 0;
    }
    const file = path.resolve(out);
    const count = await exportToFile(source, options, file);
    process.stderr.write(`exported ${count} rows (${options.format === 'xlsx' ? 'calls and events' : options.kind}) from ${describeTarget(config)} to ${file}\n`);
    return 0;
  } catch (error) {
    if (signal.aborted) {
      process.stderr.write('operator-companion: export cancelled; no file was written\n');
      return 130;
    }
    // The server's and the network's errors (they carry a code) in one line; the export's own as they are.
    if (error instanceof CentralSchemaError || error instanceof ExportTargetError || typeof (error as { code?: unknown }).code !== 'string') throw error;
    throw new Error(await describeCentralError(error, config));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await sql.end();
  }
}

/** Progress on stderr for exports that take a while: at most once a second, on one line in a terminal. */
function progressReporter(tty: boolean): (done: number, total: number) => void {
  const started = Date.now();
  let last = started;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 1_000 && done < total) return;
    if (now - started < 1_000) return;
    last = now;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    const line = `exporting: ${percent}% (${done} of ${total} rows)`;
    process.stderr.write(tty ? `\r${line}${done >= total ? '\n' : ''}` : `${line}\n`);
  };
}
