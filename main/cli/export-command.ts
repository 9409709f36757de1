// `operator-companion export`: the session log as CSV, XLSX or JSON Lines, streamed to a file (or stdout).
import path from 'node:path';
import { EXPORT_FORMATS, EXPORT_KINDS, exportToFile, openForExport, streamExport, type ExportOptions } from '../core/export/export-log.ts';
import { isValidTimeZone, parseBoundary, systemTimeZone } from '../core/export/time-zone.ts';
import { oneOf, parse, required, UsageError } from './usage.ts';

export async function runExport(args: string[]): Promise<number> {
  const values = parse(args, {
    'data-dir': { type: 'string' },
    format: { type: 'string' },
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    operator: { type: 'string' },
    tz: { type: 'string' },
    delimiter: { type: 'string' },
    out: { type: 'string' },
  });
  const dataDir = path.resolve(required(values['data-dir'], '--data-dir'));
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
