// The session log window's whole-team view: the same three queries as log/session-log.ts (a page of calls,
// one call's timeline, totals per operator and local day), with the same result shapes, read from the central
// PostgreSQL with a supervisor's (read-only) login. The filters are central-export.ts's, so the window, the
// central export and the local log select the same calls; timelines and per-day totals come from the central
// events through the same pure code (calls/timeline.ts, DailyTotalsBuilder).
import type { LogCallView } from '../../../common/ipc.ts';
import { summarizeCall } from '../calls/timeline.ts';
import type { LogFilter } from '../log/log-filter.ts';
import { DailyTotalsBuilder, type CallTimelineView, type DailyTotal, type LogSortColumn, type TimelineEventView, type TotalsRow } from '../log/session-log.ts';
import type { Sql } from './connection.ts';
import { centralCallConditions, parameters } from './central-export.ts';
import { SCHEMA } from './migrations.ts';

/** Rows per cursor fetch for the per-day totals. */
const FETCH_ROWS = 5_000;

const MUTED_SHARE = '(c.muted_ms::float8 / greatest(c.duration_ms, 1))';

/**
 * What each sort orders by, ties broken so that the order is total; each has an index of central migration 2
 * (the start time: calls_by_start of migration 1) that yields it, so a page is an index scan. `nullable`: NULLs
 * first ascending and last descending, as SQLite sorts them. By operator: by name across the operators table,
 * which no single index serves (a sort of the matching calls).
 */
const SORT_SQL: Record<LogSortColumn, Array<{ term: string; nullable?: boolean }>> = {
  startedAt: [{ term: 'c.started_at' }, { term: 'c.install_id' }, { term: 'c.local_id' }],
  operator: [{ term: 'o.name', nullable: true }, { term: 'c.user_id' }, { term: 'c.started_at' }, { term: 'c.id' }],
  phone: [{ term: 'c.phone_number', nullable: true }, { term: 'c.id' }],
  duration: [{ term: 'c.duration_ms' }, { term: 'c.id' }],
  muted: [{ term: 'c.muted_ms' }, { term: 'c.id' }],
  mutedPercent: [{ term: MUTED_SHARE }, { term: 'c.id' }],
  held: [{ term: 'c.held_ms' }, { term: 'c.id' }],
  gap: [{ term: 'c.gap_ms' }, { term: 'c.id' }],
};

const CALL_SELECT = `c.id, c.call_id AS "callId", p.domain AS portal, c.user_id AS "operatorId", o.name AS "operatorName",
  c.phone_number AS "phoneNumber", c.direction, c.crm_entity_type AS "crmEntityType", c.crm_entity_id AS "crmEntityId",
  c.started_at AS "startedAt", c.ended_at AS "endedAt", c.end_reason AS "endReason", c.duration_ms AS "durationMs",
  c.muted_ms AS "mutedMs", c.mute_count AS "muteCount", c.longest_mute_ms AS "longestMuteMs", c.held_ms AS "heldMs",
  c.hold_count AS "holdCount", c.gap_ms AS "gapMs"`;
const CALL_FROM = `FROM ${SCHEMA}.calls c
  JOIN ${SCHEMA}.portals p ON p.install_id = c.install_id AND p.member_id = c.member_id
  LEFT JOIN ${SCHEMA}.operators o ON o.install_id = c.install_id AND o.member_id = c.member_id AND o.user_id = c.user_id`;

/** The filter's conditions (time range on the start, then central-export.ts's) with their parameters. */
function where(filter: LogFilter, params: unknown[]): string {
  const clauses: string[] = [];
  if (filter.from !== undefined) {
    params.push(filter.from);
    clauses.push(`c.started_at >= $${params.length}`);
  }
  if (filter.to !== undefined) {
    params.push(filter.to);
    clauses.push(`c.started_at < $${params.length}`);
  }
  clauses.push(...centralCallConditions(filter, parameters(params)));
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** The ORDER BY of a sort; exported for the query-plan test. */
export function centralOrderBy(sort: { column: LogSortColumn; descending: boolean }): string {
  const direction = sort.descending ? 'DESC' : 'ASC';
  return SORT_SQL[sort.column].map(({ term, nullable }) => `${term} ${direction}${nullable ? (sort.descending ? ' NULLS LAST' : ' NULLS FIRST') : ''}`).join(', ');
}

/** A page of calls (parameters: the filter's, then limit and offset); exported for the query-plan test. */
export function centralPageQuery(filter: LogFilter, sort: { column: LogSortColumn; descending: boolean }, page: { offset: number; limit: number }): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const conditions = where(filter, params);
  params.push(page.limit, page.offset);
  return {
    text: `SELECT ${CALL_SELECT} ${CALL_FROM} ${conditions} ORDER BY ${centralOrderBy(sort)} LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  };
}

/** One page of the whole team's calls; `total` with the first page only, as locally (queryCalls). */
export async function centralQueryCalls(
  sql: Sql,
  filter: LogFilter,
  sort: { column: LogSortColumn; descending: boolean },
  page: { offset: number; limit: number },
): Promise<{ rows: LogCallView[]; total: number | null }> {
  let total: number | null = null;
  if (page.offset === 0) {
    const params: unknown[] = [];
    const conditions = where(filter, params);
    const portals = filter.portal ? `JOIN ${SCHEMA}.portals p ON p.install_id = c.install_id AND p.member_id = c.member_id` : '';
    const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${SCHEMA}.calls c ${portals} ${conditions}`, params);
    total = row?.n ?? 0;
  }
  const { text, params } = centralPageQuery(filter, sort, page);
  return { rows: await sql.query<LogCallView>(text, params), total };
}

/** One call of the whole team (by its central id) with its events and intervals, as callTimeline. */
export async function centralCallTimeline(sql: Sql, id: number): Promise<CallTimelineView | null> {
  const [found] = await sql.query<LogCallView & { installId: string; memberId: string }>(
    `SELECT ${CALL_SELECT}, c.install_id AS "installId", c.member_id AS "memberId" ${CALL_FROM} WHERE c.id = $1`,
    [id],
  );
  if (!found) return null;
  const { installId, memberId, ...call } = found;
  const events = await sql.query<TimelineEventView>(
    `SELECT at, name, source, payload FROM ${SCHEMA}.events WHERE install_id = $1 AND member_id = $2 AND call_id = $3 ORDER BY at, local_id`,
    [installId, memberId, call.callId],
  );
  const summary = summarizeCall(events.map((e) => ({ name: e.name, at: e.at, payload: e.payload === null ? null : (JSON.parse(e.payload) as unknown) })));
  return { call, events, intervals: summary.intervals };
}

/**
 * The whole team's totals per operator and local day, split at local midnight: the calls by start time, each
 * followed by its events in order (events_by_call), through a server-side cursor so memory holds one batch.
 */
export async function centralDailyTotals(sql: Sql, filter: LogFilter, timeZone: string): Promise<DailyTotal[]> {
  const params: unknown[] = [];
  const conditions = where(filter, params);
  const text = `SELECT c.id, c.started_at AS "startedAt", c.duration_ms AS "durationMs", c.user_id AS "operatorId", o.name AS "operatorName",
      e.at, e.name, e.payload ${CALL_FROM}
      LEFT JOIN ${SCHEMA}.events e ON e.install_id = c.install_id AND e.member_id = c.member_id AND e.call_id = c.call_id
      ${conditions} ORDER BY c.started_at, c.id, e.at, e.local_id`;
  const builder = new DailyTotalsBuilder(timeZone);
  for await (const batch of sql.cursor<TotalsRow>(text, params, FETCH_ROWS)) {
    for (const row of batch) builder.add(row);
  }
  return builder.result();
}
