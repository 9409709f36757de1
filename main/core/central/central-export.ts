// The whole team's log, read from the central PostgreSQL for the same export engine as the local log: the same
// filters (LogFilter), the same row shapes (CallExportRow, EventExportRow), hence the same columns and writers.
// Rows stream through a server-side cursor, a few thousand at a time, so memory stays flat.
import type { CallExportRow, EventExportRow } from '../export/columns.ts';
import type { ExportKind, ExportOptions, ExportSource } from '../export/export-log.ts';
import type { LogFilter } from '../log/log-filter.ts';
import type { Sql } from './connection.ts';
import { SCHEMA } from './migrations.ts';

/** Rows per cursor fetch. */
const FETCH_ROWS = 5_000;

/**
 * The filters as PostgreSQL conditions, with the meaning `log/log-filter.ts` gives them for SQLite (a
 * test exports both stores with every filter and compares): operator by Bitrix24 user id, part of the phone
 * number, portal domain, muted share strictly above N %.
 */
export function centralCallConditions(filter: LogFilter, params: unknown[]): string[] {
  const clauses: string[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.operator) clauses.push(`c.user_id = ${param(filter.operator)}`);
  if (filter.phone) clauses.push(`c.phone_number LIKE ${param(`%${filter.phone.replace(/[\\%_]/g, (m) => `\\${m}`)}%`)} ESCAPE '\\'`);
  if (filter.portal) clauses.push(`p.domain = ${param(filter.portal)}`);
  if (filter.minMutedPercent !== undefined && filter.minMutedPercent > 0) {
    clauses.push(`(c.muted_ms::float8 / greatest(c.duration_ms, 1)) > ${param(filter.minMutedPercent / 100)}`);
  }
  return clauses;
}

function range(filter: LogFilter, column: string, params: unknown[]): string[] {
  const clauses: string[] = [];
  if (filter.from !== undefined) {
    params.push(filter.from);
    clauses.push(`${column} >= $${params.length}`);
  }
  if (filter.to !== undefined) {
    params.push(filter.to);
    clauses.push(`${column} < $${params.length}`);
  }
  return clauses;
}

export function centralCallsQuery(filter: LogFilter): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = [...range(filter, 'c.started_at', params), ...centralCallConditions(filter, params)];
  return {
    params,
    text: `
    SELECT c.local_id AS id, c.call_id AS "callId", p.domain, c.user_id AS "operatorUserId", o.name AS "operatorName",
           c.phone_number AS "phoneNumber", c.direction, c.line_number AS "lineNumber",
           c.crm_entity_type AS "crmEntityType", c.crm_entity_id AS "crmEntityId",
           c.started_at AS "startedAt", c.ended_at AS "endedAt", c.end_reason AS "endReason",
           c.duration_ms AS "durationMs", c.muted_ms AS "mutedMs", c.mute_count AS "muteCount",
           c.longest_mute_ms AS "longestMuteMs", c.held_ms AS "heldMs", c.hold_count AS "holdCount", c.gap_ms AS "gapMs",
           c.mic_muted_ms AS "micMutedMs"
    FROM ${SCHEMA}.calls c
    JOIN ${SCHEMA}.portals p ON p.install_id = c.install_id AND p.member_id = c.member_id
    LEFT JOIN ${SCHEMA}.operators o ON o.install_id = c.install_id AND o.member_id = c.member_id AND o.user_id = c.user_id
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY c.started_at, c.install_id, c.local_id`,
  };
}

export function centralEventsQuery(filter: LogFilter): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = range(filter, 'e.at', params);
  if (filter.operator) {
    params.push(filter.operator);
    where.push(`e.user_id = $${params.length}`);
  }
  if (filter.portal) {
    params.push(filter.portal);
    where.push(`p.domain = $${params.length}`);
  }
  // The call-level filters (phone, muted share) keep only events of matching calls, as locally.
  const callLevel = centralCallConditions({ ...(filter.phone ? { phone: filter.phone } : {}), ...(filter.minMutedPercent ? { minMutedPercent: filter.minMutedPercent } : {}) }, params);
  if (callLevel.length > 0) where.push('c.call_id IS NOT NULL', ...callLevel);
  return {
    params,
    text: `
    SELECT e.event_id AS "eventId", e.at, e.client_at AS "clientAt", e.received_at AS "receivedAt", e.call_id AS "callId",
           p.domain, e.user_id AS "operatorUserId", o.name AS "operatorName", e.app_sid AS "appSid", e.seq, e.name,
           e.source, e.payload
    FROM ${SCHEMA}.events e
    JOIN ${SCHEMA}.portals p ON p.install_id = e.install_id AND p.member_id = e.member_id
    LEFT JOIN ${SCHEMA}.operators o ON o.install_id = e.install_id AND o.member_id = e.member_id AND o.user_id = e.user_id
    LEFT JOIN ${SCHEMA}.calls c ON c.install_id = e.install_id AND c.member_id = e.member_id AND c.call_id = e.call_id
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY e.at, e.install_id, e.local_id`,
  };
}

/** The central database as an export source. Counts and rows are read in one snapshot (a read-only transaction). */
export function centralSource(sql: Sql, options: ExportOptions): ExportSource {
  const query = (kind: ExportKind): { text: string; params: unknown[] } => (kind === 'calls' ? centralCallsQuery(options) : centralEventsQuery(options));
  return {
    async count(kind) {
      const { text, params } = query(kind);
      const unordered = text.slice(0, text.lastIndexOf('ORDER BY'));
      const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM (${unordered}) q`, params);
      return row?.n ?? 0;
    },
    rows(kind) {
      const { text, params } = query(kind);
      return sql.cursor<CallExportRow | EventExportRow>(text, params, FETCH_ROWS);
    },
  };
}
