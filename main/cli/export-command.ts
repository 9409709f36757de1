// `operator-companion export`: the session log as CSV, XLSX or JSON Lines, streamed to a file (or stdout).
import path from 'node:path';
import { EXPORT_FORMATS, EXPORT_KINDS, ExportTargetError, exportToFile, openForExport, streamExport, type ExportOptions } from '../core/export/export-log.ts';
import { isValidTimeZone, parseBoundary, systemTimeZone } from '../core/export/time-zone.ts';
import { centralSource } from '../core/central/central-export.ts';
import { connectCentral, describeCentralError, describeTarget, type CentralConfig } from '../core/central/connection.ts';
import { CentralSchemaError, checkCentralSchema } from '../core/central/schema.ts';
import { centralConfig } from './central-command.ts';
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
  const central = values.central === undefined ? null : centralConfig(values.central, '--central');
  const dataDir = central ? '' : path.resolve(required(values['data-dir'], '--data-dir'));
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
  const delimiter = oneOf(values.delimiter ?? ',', [',', ';'] as const, '--delimiter');
  if (delimiter !== ',' && format !== 'csv') throw new UsageError('--delimiter applies to --format csv only');
  const out = required(values.out, '--out');
  if (values.operator !== undefined && values.operator.trim() === '') throw new UsageError('--operator must not be empty');

  if (format === 'xlsx' && out === '-') throw new UsageError('--out - (stdout) is for csv and jsonl; an xlsx export needs a file');
  // Ctrl+C cancels: the half-written file is removed, nothing is left behind.
  const cancel = new AbortController();
  const stop = (): void => cancel.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const options: ExportOptions = {
    kind,
    format,
    signal: cancel.signal,
    onProgress: progressReporter(),
    timeZone,
    csvDelimiter: delimiter,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(values.operator === undefined ? {} : { operator: values.operator }),
  };
  if (central) return exportCentral(central, options, out, cancel.signal, stop);
  const db = openForExport(dataDir);
  try {
    if (out === '-') {
      await streamExport(db, options, process.stdout);
      return 0;
    }
    const file = path.resolve(out);
    const count = await exportToFile(db, options, file);
    process.stderr.write(`exported ${count} rows (${format === 'xlsx' ? 'calls and events' : kind}) to ${file}\n`);
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

/** The whole team's log from the central PostgreSQL (a supervisor's read-only login is enough). */
async function exportCentral(config: CentralConfig, options: ExportOptions, out: string, signal: AbortSignal, stop: () => void): Promise<number> {
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
function progressReporter(): (done: number, total: number) => void {
  const started = Date.now();
  let last = started;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 1_000 && done < total) return;
    if (now - started < 1_000) return;
    last = now;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    const line = `exporting: ${percent}% (${done} of ${total} rows)`;
    process.stderr.write(process.stderr.isTTY ? `\r${line}${done >= total ? '\n' : ''}` : `${line}\n`);
  };
}
