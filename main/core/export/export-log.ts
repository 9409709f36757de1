// Exports the session log: the rows come straight from SQLite as an iterator and go to the file as they come,
// so memory stays flat however large the log is. A file is written under a temporary name and renamed when
// complete: a failed or cancelled export leaves no half file behind.
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, existsSync, lstatSync, openSync, rmSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type Database from 'better-sqlite3';
import type { LogExportFormat } from '../../../common/ipc.ts';
import { callConditions, timeRange, type LogFilter } from '../log/log-filter.ts';
import { DATABASE_FILE, openDatabase } from '../store/database.ts';
import { CALL_COLUMNS, EVENT_COLUMNS, type CallExportRow, type Cell, type Column, type EventExportRow } from './columns.ts';
import { formatInstant, isFormattableInstant } from './time-zone.ts';
import { inBatches, type RowBatches } from './row-batches.ts';
import { writeXlsx } from './xlsx-writer.ts';
import { compileCsvRow } from './csv-row-writer.ts';
import { writeOrWait } from './output.ts';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_KINDS = ['calls', 'events'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** The session log's filters (time range, operator, phone, portal, muted share). */
export type ExportFilter = LogFilter;

/** What the app's format choices (CSV with `,` or with `;`, XLSX, JSON Lines) mean for the engine and the file. */
export function fileFormat(choice: LogExportFormat): { format: ExportFormat; csvDelimiter: ',' | ';'; extension: string } {
  const format: ExportFormat = choice === 'csv-semicolon' ? 'csv' : choice;
  return { format, csvDelimiter: choice === 'csv-semicolon' ? ';' : ',', extension: format };
}

export interface ExportOptions extends ExportFilter {
  /** For CSV and JSON Lines: which table. An XLSX workbook always has both, as two sheets. */
  kind: ExportKind;
  format: ExportFormat;
  timeZone: string;
  csvDelimiter?: ',' | ';';
  /** Called now and then with the rows written so far and the rows there are. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const CHUNK_BYTES = 64 * 1024;
/**
 * Rows per batch from the local store: small, so that few rows are alive when the young generation is collected
 * (fewer survivors to copy and promote: less garbage-collection time and memory at a million rows).
 */
const LOCAL_BATCH = 20;

export function callsQuery(db: Database.Database, filter: ExportFilter): Database.Statement {
  return db.prepare(`
    SELECT c.id, c.call_id AS callId, p.domain, o.user_id AS operatorUserId, o.name AS operatorName,
           c.phone_number AS phoneNumber, c.direction, c.line_number AS lineNumber,
           c.crm_entity_type AS crmEntityType, c.crm_entity_id AS crmEntityId,
           c.started_at AS startedAt, c.ended_at AS endedAt, c.end_reason AS endReason,
           c.duration_ms AS durationMs, c.muted_ms AS mutedMs, c.mute_count AS muteCount,
           c.longest_mute_ms AS longestMuteMs, c.held_ms AS heldMs, c.hold_count AS holdCount, c.gap_ms AS gapMs,
           c.mic_muted_ms AS micMutedMs
    FROM calls c
    JOIN operators o ON o.id = c.operator_id
    JOIN portals p ON p.id = c.portal_id
    WHERE ${['c.started_at >= @from', 'c.started_at < @to', ...callConditions(filter).clauses].join(' AND ')}
    ORDER BY c.started_at, c.id`);
}

/**
 * The events to export, in order. A frame's portal, operator and tab are not joined here (four strings per row that
 * SQLite would build a million times over) but filled in from `frameFields`: a frame table of a few rows. The frame
 * tables are joined only when a filter needs them.
 */
export function eventsQuery(db: Database.Database, filter: ExportFilter): Database.Statement {
  return db.prepare(`
    SELECT e.event_id AS eventId, e.at, e.client_at AS clientAt, e.received_at AS receivedAt, c.call_id AS callId,
           e.frame_id AS frameId, e.seq, e.name, e.source, e.payload
    FROM events e
    ${frameJoins(filter)}
    LEFT JOIN calls c ON c.id = e.call_id
    WHERE ${eventConditions(filter).join(' AND ')}
    ORDER BY e.at, e.id`);
}

const frameJoins = (filter: ExportFilter): string =>
  filter.operator || filter.portal ? 'JOIN frames f ON f.id = e.frame_id JOIN operators o ON o.id = f.operator_id JOIN portals p ON p.id = f.portal_id' : '';

type FrameFields = Pick<EventExportRow, 'domain' | 'operatorUserId' | 'operatorName' | 'appSid'>;

/** Every frame's portal, operator and tab, by frame id. */
function frameFields(db: Database.Database): Map<number, FrameFields> {
  const rows = db.prepare(`SELECT f.id, p.domain, o.user_id AS operatorUserId, o.name AS operatorName, f.app_sid AS appSid
    FROM frames f JOIN operators o ON o.id = f.operator_id JOIN portals p ON p.id = f.portal_id`).all() as Array<FrameFields & { id: number }>;
  return new Map(rows.map(({ id, ...fields }) => [id, fields]));
}

/** The event rows as EventExportRow: each row gets its frame's fields. */
function* withFrames(db: Database.Database, rows: IterableIterator<unknown>): Generator<EventExportRow, void, undefined> {
  const frames = frameFields(db);
  try {
    for (const row of rows as IterableIterator<EventExportRow & { frameId: number }>) {
      const frame = frames.get(row.frameId);
      // Every event has its frame (a foreign key); a frame written after the map was read is looked up once.
      const fields = frame ?? frameFields(db).get(row.frameId);
      if (fields && !frame) frames.set(row.frameId, fields);
      row.domain = fields?.domain ?? '';
      row.operatorUserId = fields?.operatorUserId ?? '';
      row.operatorName = fields?.operatorName ?? null;
      row.appSid = fields?.appSid ?? '';
      yield row;
    }
  } finally {
    rows.return?.();
  }
}

/**
 * Events by their own time and operator (also those outside any call); the call-level filters (phone, muted
 * share) keep only events of matching calls.
 */
function eventConditions(filter: ExportFilter): string[] {
  const conditions = ['e.at >= @from', 'e.at < @to'];
  if (filter.operator) conditions.push('o.user_id = @operator');
  if (filter.portal) conditions.push('p.domain = @portal');
  const callLevel = callConditions({ ...(filter.phone ? { phone: filter.phone } : {}), ...(filter.minMutedPercent ? { minMutedPercent: filter.minMutedPercent } : {}) }).clauses;
  if (callLevel.length > 0) conditions.push('c.id IS NOT NULL', ...callLevel);
  return conditions;
}

export function queryParams(filter: ExportFilter): Record<string, unknown> {
  return { ...timeRange(filter), ...callConditions(filter).params };
}

/**
 * Excel and LibreOffice run cells that start with `=`, `+`, `-` or `@` as formulas, also after leading spaces or
 * line breaks when the importer trims them: such text gets a leading apostrophe, and stays text.
 */
const FORMULA_START = /^[\s\p{Cc}\p{Cf}\p{Zs}]*[=+\-@]|^[\t\r\n]/u;
/**
 * A phone number such as +74951234567, the most common cell: written as the formula ="+74951234567", a string
 * literal, which Excel and LibreOffice show as +74951234567 (text, not the number 74951234567, and without an
 * apostrophe). Nothing but a plus and digits goes into it.
 */
const PHONE_NUMBER = /^\+\d{1,30}$/;

export function csvCell(cell: Cell, delimiter: string): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  const text = PHONE_NUMBER.test(cell) ? `="${cell}"` : FORMULA_START.test(cell) ? `'${cell}` : cell;
  return text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function textCell<Row>(column: Column<Row>, row: Row, timeZone: string): Cell {
  const value = column.value(row);
  return column.kind === 'time' && isFormattableInstant(value) ? formatInstant(value, timeZone) : value;
}

/**
 * The reference CSV row: every cell through `csvCell`, times through `formatInstant`. The export writes rows with
 * the compiled writer (csv-row-writer.ts), which gives the same text faster; a test compares the two.
 */
export function referenceCsvRow<Row>(columns: ReadonlyArray<Column<Row>>, delimiter: string, timeZone: string): (r: Row) => string {
  return (r) => `${columns.map((c) => csvCell(textCell(c, r, timeZone), delimiter)).join(delimiter)}\r\n`;
}

export function serializer<Row>(columns: ReadonlyArray<Column<Row>>, options: Pick<ExportOptions, 'format' | 'timeZone' | 'csvDelimiter'>): { header: string; row(r: Row): string } {
  if (options.format === 'jsonl') {
    return {
      header: '',
      row: (r) => {
        const object: Record<string, Cell> = {};
        for (const column of columns) object[column.name] = textCell(column, r, options.timeZone);
        return `${JSON.stringify(object)}\n`;
      },
    };
  }
  const d = options.csvDelimiter ?? ',';
  return {
    // The BOM makes Excel read the file as UTF-8 (names in Cyrillic stay readable).
    header: `\uFEFF${columns.map((c) => csvCell(c.name, d)).join(d)}\r\n`,
    row: compileCsvRow(columns, d, options.timeZone, csvCell),
  };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * How many rows an export will write, for its progress: the query's conditions without its sort, and only the joins
 * a condition needs (every event has its frame, operator and portal: foreign keys are enforced).
 */
function countRows(db: Database.Database, options: ExportOptions, kind: ExportKind): number {
  const params = queryParams(options);
  if (kind === 'calls') {
    const portal = options.portal ? 'JOIN portals p ON p.id = c.portal_id' : '';
    const where = ['c.started_at >= @from', 'c.started_at < @to', ...callConditions(options).clauses].join(' AND ');
    return db.prepare(`SELECT count(*) FROM calls c ${portal} WHERE ${where}`).pluck().get(params) as number;
  }
  const frames = frameJoins(options);
  const calls = options.phone || options.minMutedPercent ? 'LEFT JOIN calls c ON c.id = e.call_id' : '';
  return db.prepare(`SELECT count(*) FROM events e ${frames} ${calls} WHERE ${eventConditions(options).join(' AND ')}`).pluck().get(params) as number;
}

/** Counts rows as they go: reports progress every so often and honours the abort signal. */
function progress(options: ExportOptions, total: number): { tick(): void; done(): number } {
  let done = 0;
  let last = 0;
  return {
    tick: () => {
      done += 1;
      if (done - last >= 2_000) {
        last = done;
        options.signal?.throwIfAborted();
        options.onProgress?.(done, total);
      }
    },
    done: () => {
      options.onProgress?.(done, total);
      return done;
    },
  };
}

/** Where an export's rows come from: the local store, or the central database (core/central/central-export.ts). */
export interface ExportSource {
  count(kind: ExportKind): number | Promise<number>;
  /** The rows of `kind`, in export order, shaped as CallExportRow or EventExportRow. */
  rows(kind: ExportKind): RowBatches<unknown>;
  /**
   * Optional: writes the CSV lines of `kind` (after the header) itself, the same bytes the shared writer would
   * give from `rows`, calling `tick` once per row; null where it cannot, and `rows` is used.
   */
  writeCsv?(kind: ExportKind, csv: { delimiter: ',' | ';'; timeZone: string }, stream: Writable, tick: () => void): Promise<void> | null;
}

function storeSource(db: Database.Database, options: ExportOptions): ExportSource {
  return {
    count: (kind) => countRows(db, options, kind),
    rows: (kind) =>
      inBatches(() => {
        if (kind === 'calls') return callsQuery(db, options).iterate(queryParams(options));
        return withFrames(db, eventsQuery(db, options).iterate(queryParams(options)));
      }, LOCAL_BATCH),
  };
}

/** Streams the rows to `stream`; returns how many. Honours `options.signal` between chunks. */
export async function streamExport(from: Database.Database | ExportSource, options: ExportOptions, stream: Writable): Promise<number> {
  const source = 'prepare' in from ? storeSource(from, options) : from;
  const kinds: ExportKind[] = options.format === 'xlsx' ? ['calls', 'events'] : [options.kind];
  let total = 0;
  for (const kind of kinds) total += await source.count(kind);
  const counter = progress(options, total);
  const iterate = (kind: ExportKind): RowBatches<unknown> => source.rows(kind);

  if (options.format === 'xlsx') {
    await writeXlsx(
      stream,
      [
        { name: 'Calls', columns: CALL_COLUMNS as ReadonlyArray<Column<unknown>>, rows: iterate('calls') },
        { name: 'Events', columns: EVENT_COLUMNS as ReadonlyArray<Column<unknown>>, rows: iterate('events') },
      ],
      options.timeZone,
      counter.tick,
      options.signal,
    );
    return counter.done();
  }

  const rows = iterate(options.kind);
  const { header, row } = options.kind === 'calls'
    ? serializer(CALL_COLUMNS, options) as { header: string; row(r: unknown): string }
    : serializer(EVENT_COLUMNS, options) as { header: string; row(r: unknown): string };
  // Each line is encoded straight into a buffer (no long strings built and flattened); a full buffer goes to the
  // stream and a new one takes its place (the stream keeps the old one until it is written).
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = buffer.write(header);
  if (options.format === 'csv' && source.writeCsv) {
    // The header first (the stream keeps that buffer), then the source's own lines.
    await writeOrWait(stream, buffer.subarray(0, used), options.signal);
    buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    const own = source.writeCsv(options.kind, { delimiter: options.csvDelimiter ?? ',', timeZone: options.timeZone }, stream, counter.tick);
    if (own) {
      await own;
      options.signal?.throwIfAborted();
      return counter.done();
    }
  }
  const flush = (): Promise<void> | null => {
    const full = buffer.subarray(0, used);
    buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    return writeOrWait(stream, full, options.signal);
  };
  // Leaving the loop early (an error, a cancel) closes the batches, and so the statement or cursor behind them.
  for await (const batch of rows) {
    for (const r of batch) {
      const line = row(r as CallExportRow & EventExportRow);
      counter.tick();
      // A UTF-16 code unit takes at most 3 bytes in UTF-8.
      if (used + line.length * 3 > CHUNK_BYTES) {
        const wait = flush();
        // Let the event loop breathe between chunks: a cancel (Ctrl+C) and the file's I/O get their turn.
        await (wait ?? yieldToEventLoop());
        if (line.length * 3 > CHUNK_BYTES) {
          await writeOrWait(stream, line, options.signal);
          continue;
        }
      }
      used += buffer.write(line, used);
    }
  }
  options.signal?.throwIfAborted();
  if (used > 0) await flush();
  return counter.done();
}

export class NoDatabaseError extends Error {
  constructor(dataDir: string) {
    super(`no session log in ${dataDir} (expected ${DATABASE_FILE}); is --data-dir the app's data directory?`);
    this.name = 'NoDatabaseError';
  }
}

/** Opens the data directory's database read-only (an app may be writing to it meanwhile). */
export function openForExport(dataDir: string): Database.Database {
  const file = path.join(dataDir, DATABASE_FILE);
  if (!existsSync(file)) throw new NoDatabaseError(dataDir);
  return openDatabase(file, { readonly: true });
}

export class ExportTargetError extends Error {
  constructor(file: string, what: string) {
    super(`${file} is not a regular file (${what}); choose another name`);
    this.name = 'ExportTargetError';
  }
}

/** An export replaces a regular file or creates one; a symlink, FIFO, device or folder at the target is refused. */
function checkTarget(file: string): void {
  let stats;
  try {
    stats = lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (stats.isFile()) return;
  throw new ExportTargetError(file, stats.isSymbolicLink() ? 'a symbolic link' : stats.isDirectory() ? 'a folder' : stats.isFIFO() ? 'a FIFO' : 'a special file');
}

/**
 * Exports to a file. The rows go to a new temporary file in the target's folder, created exclusively under a random
 * name (never following a link: the folder may be shared with other users), which is renamed over the target when
 * complete and removed on failure or cancel. The target is replaced as a whole, never written in place.
 */
export async function exportToFile(db: Database.Database | ExportSource, options: ExportOptions, file: string): Promise<number> {
  checkTarget(file);
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(9).toString('base64url')}.partial`);
  const fd = openSync(partial, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o666);
  // Room for a few chunks: the next rows are formatted while the last are written.
  const stream = createWriteStream(partial, { fd, highWaterMark: 4 * CHUNK_BYTES });
  try {
    const count = await streamExport(db, options, stream);
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
    checkTarget(file);
    renameSync(partial, file);
    return count;
  } catch (error) {
    // Writes still queued fail with the stream: that is the cancel or failure being handled here, not another one.
    stream.on('error', () => {});
    stream.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
}
