// Exports the session log: the rows come straight from SQLite as an iterator and go to the file as they come,
// so memory stays flat however large the log is. A file is written under a temporary name and renamed when
// complete: a failed or cancelled export leaves no half file behind.
import { createWriteStream, existsSync, rmSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type Database from 'better-sqlite3';
import { DATABASE_FILE, openDatabase } from '../store/database.ts';
import { CALL_COLUMNS, EVENT_COLUMNS, type CallExportRow, type Cell, type Column, type EventExportRow } from './columns.ts';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_KINDS = ['calls', 'events'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface ExportFilter {
  /** Inclusive, ms since the epoch. */
  from?: number;
  /** Exclusive. */
  to?: number;
  /** Bitrix24 user id of the operator. */
  operator?: string;
}

export interface ExportOptions extends ExportFilter {
  kind: ExportKind;
  format: ExportFormat;
  timeZone: string;
  csvDelimiter?: ',' | ';';
}

const CHUNK_BYTES = 64 * 1024;

export function callsQuery(db: Database.Database, filter: ExportFilter): Database.Statement {
  return db.prepare(`
    SELECT c.id, c.call_id AS callId, p.domain, o.user_id AS operatorUserId, o.name AS operatorName,
           c.phone_number AS phoneNumber, c.direction, c.line_number AS lineNumber,
           c.crm_entity_type AS crmEntityType, c.crm_entity_id AS crmEntityId,
           c.started_at AS startedAt, c.ended_at AS endedAt, c.end_reason AS endReason,
           c.duration_ms AS durationMs, c.muted_ms AS mutedMs, c.mute_count AS muteCount,
           c.longest_mute_ms AS longestMuteMs, c.held_ms AS heldMs, c.hold_count AS holdCount, c.gap_ms AS gapMs
    FROM calls c
    JOIN operators o ON o.id = c.operator_id
    JOIN portals p ON p.id = c.portal_id
    WHERE c.started_at >= @from AND c.started_at < @to
      ${filter.operator === undefined ? '' : 'AND c.operator_id IN (SELECT id FROM operators WHERE user_id = @operator)'}
    ORDER BY c.started_at, c.id`);
}

export function eventsQuery(db: Database.Database, filter: ExportFilter): Database.Statement {
  return db.prepare(`
    SELECT e.event_id AS eventId, e.at, e.client_at AS clientAt, e.received_at AS receivedAt, c.call_id AS callId,
           p.domain, o.user_id AS operatorUserId, o.name AS operatorName, f.app_sid AS appSid, e.seq, e.name,
           e.source, e.payload
    FROM events e
    JOIN frames f ON f.id = e.frame_id
    JOIN operators o ON o.id = f.operator_id
    JOIN portals p ON p.id = f.portal_id
    LEFT JOIN calls c ON c.id = e.call_id
    WHERE e.at >= @from AND e.at < @to
      ${filter.operator === undefined ? '' : 'AND o.user_id = @operator'}
    ORDER BY e.at, e.id`);
}

export function queryParams(filter: ExportFilter): Record<string, unknown> {
  return {
    from: filter.from ?? Number.MIN_SAFE_INTEGER,
    to: filter.to ?? Number.MAX_SAFE_INTEGER,
    ...(filter.operator === undefined ? {} : { operator: filter.operator }),
  };
}

/** Excel and LibreOffice run cells that start with these as formulas: such text gets a leading apostrophe. */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(cell: Cell, delimiter: string): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function serializer<Row>(columns: ReadonlyArray<Column<Row>>, options: ExportOptions): { header: string; row(r: Row): string } {
  if (options.format === 'jsonl') {
    return {
      header: '',
      row: (r) => {
        const object: Record<string, Cell> = {};
        for (const column of columns) object[column.name] = column.value(r, options.timeZone);
        return `${JSON.stringify(object)}\n`;
      },
    };
  }
  const d = options.csvDelimiter ?? ',';
  return {
    // The BOM makes Excel read the file as UTF-8 (names in Cyrillic stay readable).
    header: `\uFEFF${columns.map((c) => csvCell(c.name, d)).join(d)}\r\n`,
    row: (r) => `${columns.map((c) => csvCell(c.value(r, options.timeZone), d)).join(d)}\r\n`,
  };
}

function write(stream: Writable, text: string): Promise<void> | null {
  if (stream.write(text)) return null;
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

/** Streams the rows to `stream`; returns how many. Honours `signal` between chunks. */
export async function streamExport(db: Database.Database, options: ExportOptions, stream: Writable, signal?: AbortSignal): Promise<number> {
  const rows = (options.kind === 'calls' ? callsQuery(db, options) : eventsQuery(db, options)).iterate(queryParams(options));
  const { header, row } = options.kind === 'calls'
    ? serializer(CALL_COLUMNS, options) as { header: string; row(r: unknown): string }
    : serializer(EVENT_COLUMNS, options) as { header: string; row(r: unknown): string };
  let count = 0;
  let chunk = header;
  try {
    for (const r of rows) {
      chunk += row(r as CallExportRow & EventExportRow);
      count += 1;
      if (chunk.length >= CHUNK_BYTES) {
        signal?.throwIfAborted();
        const wait = write(stream, chunk);
        chunk = '';
        if (wait) await wait;
      }
    }
    signal?.throwIfAborted();
    if (chunk.length > 0) await write(stream, chunk);
  } finally {
    // An abandoned iterator would keep the statement busy.
    (rows as IterableIterator<unknown> & { return?: () => unknown }).return?.();
  }
  return count;
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

/** Exports to a file: written as `<file>.partial`, renamed when complete, removed on failure or cancel. */
export async function exportToFile(db: Database.Database, options: ExportOptions, file: string, signal?: AbortSignal): Promise<number> {
  const partial = `${file}.partial`;
  const stream = createWriteStream(partial, { flags: 'w' });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    const count = await streamExport(db, options, stream, signal);
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
    renameSync(partial, file);
    return count;
  } catch (error) {
    stream.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
}
