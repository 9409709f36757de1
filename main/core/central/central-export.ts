// The whole team's log, read from the central PostgreSQL for the same export engine as the local log: the same
// filters (LogFilter), the same row shapes (CallExportRow, EventExportRow), hence the same columns and writers.
// Two ways out, one query:
// - CSV: `COPY (query) TO STDOUT (FORMAT binary)`, the raw values streamed as PostgreSQL sends them and written
//   as CSV straight from their bytes (central-csv.ts), the same text as the shared CSV writer gives;
// - XLSX and JSON Lines (and CSV where the columns do not suit the byte writer): a server-side cursor, a few
//   thousand rows at a time, through the shared writers.
// Either way memory stays flat.
import type { Writable } from 'node:stream';
import { CALL_COLUMNS, EVENT_COLUMNS, type CallExportRow, type Column, type EventExportRow } from '../export/columns.ts';
import type { ExportKind, ExportOptions, ExportSource } from '../export/export-log.ts';
import type { LogFilter } from '../log/log-filter.ts';
import { compileCopyCsv, type CopyField } from './central-csv.ts';
import type { Sql } from './connection.ts';
import { SCHEMA } from './migrations.ts';

/** Rows per cursor fetch. */
const FETCH_ROWS = 5_000;

/** Puts a value into a statement: as a parameter (`$n`) of a plain query, or as a literal inside COPY (which takes none). */
export type Bind = (value: string | number) => string;

/** A Bind that appends to `params` and answers `$n`. */
export function parameters(params: unknown[]): Bind {
  return (value) => {
    params.push(value);
    return `$${params.length}`;
  };
}

/**
 * A Bind that writes the value as a quoted string literal. Like a parameter sent untyped (as node-postgres sends
 * them), a quoted literal takes the type its context gives it (bigint next to started_at, float8 next to the muted
 * share), so the same conditions mean the same and use the same indexes. The E'' form escapes backslashes, so it
 * reads the same whatever `standard_conforming_strings` says.
 */
export const literal: Bind = (value) => {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`a filter value must be a finite number (got ${text})`);
  if (text.includes('\u0000')) throw new Error('a filter value cannot contain a NUL character');
  return `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
};

/**
 * The filters as PostgreSQL conditions, with the meaning `log/log-filter.ts` gives them for SQLite (a
 * test exports both stores with every filter and compares): operator by Bitrix24 user id, part of the phone
 * number, portal domain, muted share strictly above N %.
 */
export function centralCallConditions(filter: LogFilter, bind: Bind): string[] {
  const clauses: string[] = [];
  if (filter.operator) clauses.push(`c.user_id = ${bind(filter.operator)}`);
  if (filter.phone) clauses.push(`c.phone_number LIKE ${bind(`%${filter.phone.replace(/[\\%_]/g, (m) => `\\${m}`)}%`)} ESCAPE E'\\\\'`);
  if (filter.portal) clauses.push(`p.domain = ${bind(filter.portal)}`);
  if (filter.minMutedPercent !== undefined && filter.minMutedPercent > 0) {
    clauses.push(`(c.muted_ms::float8 / greatest(c.duration_ms, 1)) > ${bind(filter.minMutedPercent / 100)}`);
  }
  return clauses;
}

/** The start (calls) or event time (events) within the filter's range. */
export function timeConditions(filter: LogFilter, column: string, bind: Bind): string[] {
  return [...(filter.from === undefined ? [] : [`${column} >= ${bind(filter.from)}`]), ...(filter.to === undefined ? [] : [`${column} < ${bind(filter.to)}`])];
}

/** What a query selects: each field of the row shape, its SQL and its type (integers all as int8). */
function field<Name extends string>(name: Name, sql: string, type: CopyField['type'] = 'text'): CopyField & { name: Name; sql: string } {
  return { name, sql, type };
}

const CALL_FIELDS = [
  field('id', 'c.local_id', 'int8'),
  field('callId', 'c.call_id'),
  field('domain', 'p.domain'),
  field('operatorUserId', 'c.user_id'),
  field('operatorName', 'o.name'),
  field('phoneNumber', 'c.phone_number'),
  field('direction', 'c.direction'),
  field('lineNumber', 'c.line_number'),
  field('crmEntityType', 'c.crm_entity_type'),
  field('crmEntityId', 'c.crm_entity_id'),
  field('startedAt', 'c.started_at', 'int8'),
  field('endedAt', 'c.ended_at', 'int8'),
  field('endReason', 'c.end_reason'),
  field('durationMs', 'c.duration_ms', 'int8'),
  field('mutedMs', 'c.muted_ms', 'int8'),
  field('muteCount', 'c.mute_count::int8', 'int8'),
  field('longestMuteMs', 'c.longest_mute_ms', 'int8'),
  field('heldMs', 'c.held_ms', 'int8'),
  field('holdCount', 'c.hold_count::int8', 'int8'),
  field('gapMs', 'c.gap_ms', 'int8'),
  field('micMutedMs', 'c.mic_muted_ms', 'int8'),
] satisfies Array<CopyField & { name: keyof CallExportRow }>;

const EVENT_FIELDS = [
  field('eventId', 'e.event_id'),
  field('at', 'e.at', 'int8'),
  field('clientAt', 'e.client_at', 'int8'),
  field('receivedAt', 'e.received_at', 'int8'),
  field('callId', 'e.call_id'),
  field('domain', 'p.domain'),
  field('operatorUserId', 'e.user_id'),
  field('operatorName', 'o.name'),
  field('appSid', 'e.app_sid'),
  field('seq', 'e.seq', 'int8'),
  field('name', 'e.name'),
  field('source', 'e.source'),
  field('payload', 'e.payload'),
] satisfies Array<CopyField & { name: keyof EventExportRow }>;

const selectList = (fields: ReadonlyArray<CopyField & { sql: string }>): string => fields.map((f) => `${f.sql} AS "${f.name}"`).join(', ');

export interface ExportQuery {
  text: string;
  /** The selected fields in order (for the COPY reader). */
  fields: readonly CopyField[];
  /** How many rows the query gives, counted on as few tables as the conditions need. */
  count: string;
}

export function centralCallsQuery(filter: LogFilter, bind: Bind): ExportQuery {
  const where = [...timeConditions(filter, 'c.started_at', bind), ...centralCallConditions(filter, bind)];
  const conditions = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return {
    fields: CALL_FIELDS,
    text: `SELECT ${selectList(CALL_FIELDS)}
    FROM ${SCHEMA}.calls c
    JOIN ${SCHEMA}.portals p ON p.install_id = c.install_id AND p.member_id = c.member_id
    LEFT JOIN ${SCHEMA}.operators o ON o.install_id = c.install_id AND o.member_id = c.member_id AND o.user_id = c.user_id
    ${conditions}
    ORDER BY c.started_at, c.install_id, c.local_id`,
    // Every call has its portal (a PC sends its portals with its calls); the operator is a LEFT JOIN.
    count: `SELECT count(*)::int8 AS n FROM ${SCHEMA}.calls c ${filter.portal ? `JOIN ${SCHEMA}.portals p ON p.install_id = c.install_id AND p.member_id = c.member_id` : ''} ${conditions}`,
  };
}

export function centralEventsQuery(filter: LogFilter, bind: Bind): ExportQuery {
  const where = timeConditions(filter, 'e.at', bind);
  if (filter.operator) where.push(`e.user_id = ${bind(filter.operator)}`);
  if (filter.portal) where.push(`p.domain = ${bind(filter.portal)}`);
  // The call-level filters (phone, muted share) keep only events of matching calls, as locally.
  const callLevel = centralCallConditions({ ...(filter.phone ? { phone: filter.phone } : {}), ...(filter.minMutedPercent ? { minMutedPercent: filter.minMutedPercent } : {}) }, bind);
  if (callLevel.length > 0) where.push('c.call_id IS NOT NULL', ...callLevel);
  const from = `FROM ${SCHEMA}.events e
    JOIN ${SCHEMA}.portals p ON p.install_id = e.install_id AND p.member_id = e.member_id
    LEFT JOIN ${SCHEMA}.operators o ON o.install_id = e.install_id AND o.member_id = e.member_id AND o.user_id = e.user_id
    LEFT JOIN ${SCHEMA}.calls c ON c.install_id = e.install_id AND c.member_id = e.member_id AND c.call_id = e.call_id
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`;
  return {
    fields: EVENT_FIELDS,
    text: `SELECT ${selectList(EVENT_FIELDS)} ${from} ORDER BY e.at, e.install_id, e.local_id`,
    count: `SELECT count(*)::int8 AS n ${from}`,
  };
}

/** The export's query for a kind, with its values bound by `bind`. */
export function centralExportQuery(kind: ExportKind, filter: LogFilter, bind: Bind): ExportQuery {
  return kind === 'calls' ? centralCallsQuery(filter, bind) : centralEventsQuery(filter, bind);
}

/** The COPY statement the CSV export runs (its query is `centralExportQuery` with literals). */
export function centralCopyStatement(kind: ExportKind, filter: LogFilter): string {
  return `COPY (${centralExportQuery(kind, filter, literal).text}) TO STDOUT (FORMAT binary)`;
}

/** The central database as an export source. */
export function centralSource(sql: Sql, options: ExportOptions): ExportSource {
  const columns = (kind: ExportKind): ReadonlyArray<Column<unknown>> => (kind === 'calls' ? CALL_COLUMNS : EVENT_COLUMNS) as ReadonlyArray<Column<unknown>>;
  return {
    async count(kind) {
      const params: unknown[] = [];
      const [row] = await sql.query<{ n: number }>(centralExportQuery(kind, options, parameters(params)).count, params);
      return row?.n ?? 0;
    },
    rows(kind) {
      const params: unknown[] = [];
      return sql.cursor<CallExportRow | EventExportRow>(centralExportQuery(kind, options, parameters(params)).text, params, FETCH_ROWS);
    },
    writeCsv(kind: ExportKind, csv: { delimiter: ',' | ';'; timeZone: string }, stream: Writable, tick: () => void): Promise<void> | null {
      const writer = compileCopyCsv(centralExportQuery(kind, options, literal).fields, columns(kind), csv.delimiter, csv.timeZone);
      // Columns the byte writer cannot take (a text column computed from several fields): the cursor and the shared writer.
      if (!writer) return null;
      return sql.copyOut(centralCopyStatement(kind, options), (chunk) => writer.row(chunk, stream, tick), () => writer.end(stream), options.signal);
    },
  };
}
