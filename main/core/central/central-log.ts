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
import { centralCallConditions, parameters, timeConditions, type Bind } from './central-export.ts';
import { SCHEMA } from './migrations.ts';

const MUTED_SHARE = '(c.muted_ms::float8 / greatest(c.duration_ms, 1))';

/**
 * What each sort orders by, ties broken by a unique key so that the order is total and pages neither overlap nor
 * miss a call. Each has an index of central migrations 2 and 3 holding exactly these terms, so a page's ids come
 * from an index-only scan, however deep the page (OFFSET walks index entries, never rows). `nullable`: NULLs first
 * ascending and last descending, as SQLite sorts them. By operator: see `operatorPageIds`.
 */
const SORT_SQL: Record<Exclude<LogSortColumn, 'operator'>, Array<{ term: string; nullable?: boolean }>> = {
  startedAt: [{ term: 'c.started_at' }, { term: 'c.install_id' }, { term: 'c.local_id' }],
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
/** The portals table, joined only where a filter needs it (every call has its portal: a PC sends them first). */
const PORTAL_JOIN = `JOIN ${SCHEMA}.portals p ON p.install_id = c.install_id AND p.member_id = c.member_id`;

/** The filter's conditions (time range on the start, then central-export.ts's), their values bound by `bind`. */
function conditions(filter: LogFilter, bind: Bind): string[] {
  return [...timeConditions(filter, 'c.started_at', bind), ...centralCallConditions(filter, bind)];
}

function where(filter: LogFilter, bind: Bind): string {
  const clauses = conditions(filter, bind);
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** The ORDER BY of a sort (all but by operator); exported for the query-plan test. */
export function centralOrderBy(sort: { column: Exclude<LogSortColumn, 'operator'>; descending: boolean }): string {
  const direction = sort.descending ? 'DESC' : 'ASC';
  return SORT_SQL[sort.column].map(({ term, nullable }) => `${term} ${direction}${nullable ? (sort.descending ? ' NULLS LAST' : ' NULLS FIRST') : ''}`).join(', ');
}

/**
 * The ids of a page of calls, in the sort's order (parameters: the filter's, then limit and offset), all but by
 * operator; exported for the query-plan test. Only the calls table (and portals when filtered by one): the ids come
 * from the sort's index alone.
 */
export function centralPageQuery(filter: LogFilter, sort: { column: Exclude<LogSortColumn, 'operator'>; descending: boolean }, page: { offset: number; limit: number }): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = parameters(params);
  const conditionsSql = where(filter, bind);
  const limit = bind(page.limit);
  const offset = bind(page.offset);
  return {
    text: `SELECT c.id FROM ${SCHEMA}.calls c ${filter.portal ? PORTAL_JOIN : ''} ${conditionsSql} ORDER BY ${centralOrderBy(sort)} LIMIT ${limit} OFFSET ${offset}`,
    params,
  };
}

/**
 * Every operator in name order (NULLs first ascending, as SQLite sorts them; then the operators table's key), with
 * how many of its calls match. Exported for the tests.
 */
export function centralOperatorCountsQuery(filter: LogFilter, descending: boolean): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = parameters(params);
  const direction = descending ? 'DESC' : 'ASC';
  const own = ['c.install_id = o.install_id', 'c.member_id = o.member_id', 'c.user_id = o.user_id', ...conditions(filter, bind)];
  return {
    text: `SELECT o.install_id::text AS "installId", o.member_id AS "memberId", o.user_id AS "userId",
        (SELECT count(*) FROM ${SCHEMA}.calls c ${filter.portal ? PORTAL_JOIN : ''} WHERE ${own.join(' AND ')})::int8 AS n
      FROM ${SCHEMA}.operators o
      ORDER BY o.name ${direction} ${descending ? 'NULLS LAST' : 'NULLS FIRST'}, o.install_id ${direction}, o.member_id ${direction}, o.user_id ${direction}`,
    params,
  };
}

/**
 * A page by operator: operators in name order, each one's calls by start time. No single index orders calls by
 * their operator's name, so: count each operator's matching calls (index-only scans of calls_by_operator), find
 * the operators the page spans, and take each one's part of the page from that index. Also answers the total.
 */
async function operatorPageIds(sql: Sql, filter: LogFilter, descending: boolean, page: { offset: number; limit: number }): Promise<{ ids: number[]; total: number }> {
  const counts = centralOperatorCountsQuery(filter, descending);
  const operators = await sql.query<{ installId: string; memberId: string; userId: string; n: number }>(counts.text, counts.params);
  const direction = descending ? 'DESC' : 'ASC';
  const ids: number[] = [];
  let skip = page.offset;
  for (const operator of operators) {
    if (ids.length >= page.limit) break;
    if (skip >= operator.n) {
      skip -= operator.n;
      continue;
    }
    const params: unknown[] = [];
    const bind = parameters(params);
    const own = [`c.install_id = ${bind(operator.installId)}`, `c.member_id = ${bind(operator.memberId)}`, `c.user_id = ${bind(operator.userId)}`, ...conditions(filter, bind)];
    const take = Math.min(operator.n - skip, page.limit - ids.length);
    const rows = await sql.query<{ id: number }>(
      `SELECT c.id FROM ${SCHEMA}.calls c ${filter.portal ? PORTAL_JOIN : ''} WHERE ${own.join(' AND ')}
       ORDER BY c.started_at ${direction}, c.id ${direction} LIMIT ${bind(take)} OFFSET ${bind(skip)}`,
      params,
    );
    ids.push(...rows.map((r) => r.id));
    skip = 0;
  }
  return { ids, total: operators.reduce((sum, o) => sum + o.n, 0) };
}

/** How many calls match: the calls table alone (and portals when filtered by one), from an index where one serves. */
async function countCalls(sql: Sql, filter: LogFilter): Promise<number> {
  const params: unknown[] = [];
  const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${SCHEMA}.calls c ${filter.portal ? PORTAL_JOIN : ''} ${where(filter, parameters(params))}`, params);
  return row?.n ?? 0;
}

/**
 * One page of the whole team's calls; `total` with the first page only, as locally (queryCalls). The page's ids
 * come first (from the sort's index), then those calls are read with their portal and operator.
 */
export async function centralQueryCalls(
  sql: Sql,
  filter: LogFilter,
  sort: { column: LogSortColumn; descending: boolean },
  page: { offset: number; limit: number },
): Promise<{ rows: LogCallView[]; total: number | null }> {
  let ids: number[];
  let total: number | null = null;
  if (sort.column === 'operator') {
    const found = await operatorPageIds(sql, filter, sort.descending, page);
    ids = found.ids;
    if (page.offset === 0) total = found.total;
  } else {
    const { text, params } = centralPageQuery(filter, { column: sort.column, descending: sort.descending }, page);
    ids = (await sql.query<{ id: number }>(text, params)).map((r) => r.id);
    if (page.offset === 0) total = ids.length < page.limit ? ids.length : await countCalls(sql, filter);
  }
  if (ids.length === 0) return { rows: [], total };
  const byId = new Map((await sql.query<LogCallView>(`SELECT ${CALL_SELECT} ${CALL_FROM} WHERE c.id = ANY($1::int8[])`, [ids])).map((row) => [row.id, row]));
  return { rows: ids.map((id) => byId.get(id)).filter((row) => row !== undefined), total };
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

/** Calls per query of the per-day totals (each with its events): bounds the memory one query's answer takes. */
const TOTALS_PAGE = 10_000;

/** A call of the per-day totals with its events as parallel arrays (in the order the server read them). */
interface TotalsCallRow {
  id: number;
  startedAt: number;
  durationMs: number;
  operatorId: string;
  operatorName: string | null;
  installId: string;
  localId: number;
  /** Times and the PC's event ids, comma-separated; names and payloads, JSON arrays. All null: no events. */
  at: string | null;
  eventIds: string | null;
  names: string | null;
  payloads: string | null;
}

/** One page of calls by (start, PC, PC's id), after `after`; each with its events (see centralDailyTotals). */
function totalsPageQuery(filter: LogFilter, after: { startedAt: number; installId: string; localId: number } | null, pageCalls: number): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = parameters(params);
  const clauses = conditions(filter, bind);
  if (after) clauses.push(`(c.started_at, c.install_id, c.local_id) > (${bind(after.startedAt)}, ${bind(after.installId)}::uuid, ${bind(after.localId)})`);
  return {
    text: `SELECT c.id, c.started_at AS "startedAt", c.duration_ms AS "durationMs", c.user_id AS "operatorId", o.name AS "operatorName",
        c.install_id::text AS "installId", c.local_id AS "localId", e.at, e."eventIds", e.names, e.payloads
      ${CALL_FROM}
      LEFT JOIN LATERAL (SELECT string_agg(e.at::text, ',') AS at, string_agg(e.local_id::text, ',') AS "eventIds",
          json_agg(e.name)::text AS names, json_agg(e.payload)::text AS payloads
        FROM ${SCHEMA}.events e WHERE e.install_id = c.install_id AND e.member_id = c.member_id AND e.call_id = c.call_id) e ON true
      ${clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''}
      ORDER BY c.started_at, c.install_id, c.local_id LIMIT ${bind(pageCalls)}`,
    params,
  };
}

/** Hands a page's calls to the builder, each call's events in order (by time, then the PC's event id). */
function addPage(builder: DailyTotalsBuilder, rows: readonly TotalsCallRow[]): void {
  const row: TotalsRow = { id: 0, startedAt: 0, durationMs: 0, operatorId: '', operatorName: null, at: null, name: null, payload: null };
  for (const call of rows) {
    row.id = call.id;
    row.startedAt = call.startedAt;
    row.durationMs = call.durationMs;
    row.operatorId = call.operatorId;
    row.operatorName = call.operatorName;
    if (call.at === null || call.eventIds === null || call.names === null || call.payloads === null) {
      row.at = row.name = row.payload = null;
      builder.add(row);
      continue;
    }
    const at = call.at.split(',').map(Number);
    const ids = call.eventIds.split(',').map(Number);
    const names = JSON.parse(call.names) as string[];
    const payloads = JSON.parse(call.payloads) as Array<string | null>;
    if (at.length !== names.length || ids.length !== names.length || payloads.length !== names.length) throw new Error(`call ${call.id}: its events came back garbled`);
    const order = names.map((_, i) => i);
    // Read from events_by_call, they are in order already; the aggregates promise no order, so check.
    if (order.some((i) => i > 0 && (at[i - 1]! > at[i]! || (at[i - 1] === at[i] && ids[i - 1]! > ids[i]!)))) {
      order.sort((a, b) => at[a]! - at[b]! || ids[a]! - ids[b]!);
    }
    for (const i of order) {
      row.at = at[i]!;
      row.name = names[i]!;
      row.payload = payloads[i]!;
      builder.add(row);
    }
  }
}

/**
 * The whole team's totals per operator and local day, split at local midnight. The calls by start time in pages
 * that follow each other by (start, PC, PC's id), so memory holds a page or two; each call with its events found
 * through events_by_call and folded into one row (times and ids as text, names and payloads as JSON arrays: cheaper
 * to make and to read than an array per event, and no sort per call on the server: the client puts them in order),
 * so there is no sort of all the events and one row per call crosses the wire. The next page is asked for before
 * this one is added up, so the server finds it while Node adds: one statement at a time on the one connection.
 */
export async function centralDailyTotals(sql: Sql, filter: LogFilter, timeZone: string, pageCalls = TOTALS_PAGE): Promise<DailyTotal[]> {
  const builder = new DailyTotalsBuilder(timeZone);
  const fetchPage = (after: Parameters<typeof totalsPageQuery>[1]): Promise<TotalsCallRow[]> => {
    const { text, params } = totalsPageQuery(filter, after, pageCalls);
    return sql.query<TotalsCallRow>(text, params);
  };
  let pending = fetchPage(null);
  for (;;) {
    const rows = await pending;
    const last = rows.length < pageCalls ? undefined : rows[rows.length - 1];
    if (last) {
      pending = fetchPage({ startedAt: last.startedAt, installId: last.installId, localId: last.localId });
      // Awaited on the next turn; a failure of this page's adding up must not leave it unhandled meanwhile.
      pending.catch(() => {});
      // The statement is written to the socket a few promise steps later (the connection is awaited first):
      // let those run before the adding up holds the thread.
      await new Promise((resolve) => setImmediate(resolve));
    }
    addPage(builder, rows);
    if (!last) break;
  }
  return builder.result();
}
