// What the supervisor's session-log window reads: calls filtered, sorted and paged in SQL (the window never
// holds the whole log), one call's timeline, and totals per operator and local day, with every interval that
// crosses midnight split between the two days.
import type Database from 'better-sqlite3';
import { LOG_SORT_COLUMNS, type LogCallView } from '../../../common/ipc.ts';
import { summarizeCall, type Interval, type TimelineEvent } from '../calls/timeline.ts';
import { cachedOffset, isFormattableInstant, localDayOf } from '../export/time-zone.ts';
import { callConditions, MUTED_SHARE, timeRange, type LogFilter } from './log-filter.ts';

export type { LogFilter };

export { LOG_SORT_COLUMNS };
export type LogSortColumn = (typeof LOG_SORT_COLUMNS)[number];

/** A row of the calls table: the same shape the window receives over IPC. */
export type LogCallRow = LogCallView;

/**
 * What each sort orders by; the call's id breaks ties. Each has an index that yields it in order (migrations 3 and
 * 6), so a page's ids come from an index scan, however deep the page. By operator: operators in name order (their id
 * telling apart two of the same name), each one's calls by start time (calls_by_operator_start).
 */
const SORT_SQL: Record<LogSortColumn, string[]> = {
  startedAt: ['c.started_at'],
  operator: ['o.name', 'o.id', 'c.started_at'],
  phone: ['c.phone_number'],
  duration: ['c.duration_ms'],
  muted: ['c.muted_ms'],
  mutedPercent: [MUTED_SHARE],
  held: ['c.held_ms'],
  gap: ['c.gap_ms'],
};

function where(filter: LogFilter): { sql: string; params: Record<string, unknown> } {
  const { clauses, params } = callConditions(filter);
  // Bounds only when given: without them SQLite may walk the index of the chosen sort instead of sorting.
  const bounds = [...(filter.from === undefined ? [] : ['c.started_at >= @from']), ...(filter.to === undefined ? [] : ['c.started_at < @to'])];
  const all = [...bounds, ...clauses];
  return { sql: all.length > 0 ? all.join(' AND ') : '1', params: { ...timeRange(filter), ...params } };
}

const CALL_SELECT = `c.id, c.call_id AS callId, p.domain AS portal, o.user_id AS operatorId, o.name AS operatorName,
  c.phone_number AS phoneNumber, c.direction, c.crm_entity_type AS crmEntityType, c.crm_entity_id AS crmEntityId,
  c.started_at AS startedAt, c.ended_at AS endedAt, c.end_reason AS endReason, c.duration_ms AS durationMs,
  c.muted_ms AS mutedMs, c.mute_count AS muteCount, c.longest_mute_ms AS longestMuteMs, c.held_ms AS heldMs,
  c.hold_count AS holdCount, c.gap_ms AS gapMs`;
const CALL_FROM = 'FROM calls c JOIN operators o ON o.id = c.operator_id JOIN portals p ON p.id = c.portal_id';

/**
 * How many calls match, counted on the calls table alone (and portals when filtered by one); exported for the
 * query-plan tests. Unfiltered, the statement has no WHERE at all: then SQLite counts an index's entries page by
 * page without reading them (1M calls: ~0.1 ms instead of ~5 ms for `WHERE 1`).
 */
export function countSql(filter: LogFilter): string {
  const { sql } = where(filter);
  return `SELECT count(*) FROM calls c${filter.portal ? ' JOIN portals p ON p.id = c.portal_id' : ''}${sql === '1' ? '' : ` WHERE ${sql}`}`;
}

/** The ids of a page of calls (parameters: the filter's, `limit`, `offset`); exported for the query-plan tests. */
export function pageIdsSql(filter: LogFilter, sort: { column: LogSortColumn; descending: boolean }): string {
  const direction = sort.descending ? 'DESC' : 'ASC';
  const order = [...SORT_SQL[sort.column], 'c.id'].map((term) => `${term} ${direction}`).join(', ');
  const from = `${sort.column === 'operator' ? 'FROM operators o JOIN calls c ON c.operator_id = o.id' : 'FROM calls c'}${filter.portal ? ' JOIN portals p ON p.id = c.portal_id' : ''}`;
  return `SELECT c.id ${from} WHERE ${where(filter).sql} ORDER BY ${order} LIMIT @limit OFFSET @offset`;
}

/**
 * One page of calls; `total` (how many match, for the table's scroll height) comes with the first page only. The
 * page's ids are picked first, from the index of the sort (only ids: the scan never reads a call's row), then
 * those calls are read with their operator and portal.
 */
export function queryCalls(
  db: Database.Database,
  filter: LogFilter,
  sort: { column: LogSortColumn; descending: boolean },
  page: { offset: number; limit: number },
): { rows: LogCallRow[]; total: number | null } {
  const { params } = where(filter);
  const total = page.offset === 0 ? (db.prepare(countSql(filter)).pluck().get(params) as number) : null;
  const ids = db.prepare(pageIdsSql(filter, sort)).pluck().all({ ...params, limit: page.limit, offset: page.offset }) as number[];
  if (ids.length === 0) return { rows: [], total };
  const byId = new Map((db.prepare(`SELECT ${CALL_SELECT} ${CALL_FROM} WHERE c.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as LogCallRow[]).map((row) => [row.id, row]));
  return { rows: ids.map((id) => byId.get(id)).filter((row) => row !== undefined), total };
}

export interface TimelineEventView {
  at: number;
  name: string;
  source: string;
  payload: string | null;
}

export interface CallTimelineView {
  call: LogCallRow;
  events: TimelineEventView[];
  intervals: Interval[];
}

export function callTimeline(db: Database.Database, id: number): CallTimelineView | null {
  const call = db.prepare(`SELECT ${CALL_SELECT} ${CALL_FROM} WHERE c.id = ?`).get(id) as LogCallRow | undefined;
  if (!call) return null;
  const events = db.prepare('SELECT at, name, source, payload FROM events WHERE call_id = ? ORDER BY at, id').all(id) as TimelineEventView[];
  const summary = summarizeCall(events.map((e) => ({ name: e.name, at: e.at, payload: e.payload === null ? null : (JSON.parse(e.payload) as unknown) })));
  return { call, events, intervals: summary.intervals };
}

export interface DailyTotal {
  /** Local date in the chosen zone, YYYY-MM-DD. */
  day: string;
  operatorId: string;
  operatorName: string | null;
  calls: number;
  durationMs: number;
  mutedMs: number;
  heldMs: number;
  gapMs: number;
}

const DAY_MS = 86_400_000;

/**
 * `localDayOf`'s date and next midnight, the last answer kept: both follow from the instant's local date and the
 * zone's offset then (nothing else of the instant), so an instant with the same two gets the same answer. The
 * totals ask for the days of calls in start order, so nearly every lookup is the day before (localDayOf builds a
 * Date and its text each time: most of the totals' time before).
 */
export class LocalDays {
  private readonly timeZone: string;
  private date = Number.NaN;
  private offset = Number.NaN;
  private last = { day: '', next: 0 };

  constructor(timeZone: string) {
    this.timeZone = timeZone;
  }

  of(ms: number): { day: string; next: number } {
    const offset = cachedOffset(ms, this.timeZone);
    const date = Math.floor((ms + offset) / DAY_MS);
    if (date !== this.date || offset !== this.offset) {
      const { day, next } = localDayOf(ms, this.timeZone);
      this.last = { day, next };
      this.date = date;
      this.offset = offset;
    }
    return this.last;
  }
}

/** Splits [from, to) at local midnights: how much of it falls on each day. */
export function splitByDay(from: number, to: number, timeZone: string, days = new LocalDays(timeZone)): Array<{ day: string; ms: number }> {
  const parts: Array<{ day: string; ms: number }> = [];
  // Times no calendar can place (left in the store by an older version) count on no day.
  if (!isFormattableInstant(from) || !isFormattableInstant(to)) return parts;
  let start = from;
  while (start < to) {
    const { day, next } = days.of(start);
    const end = Math.min(to, next);
    parts.push({ day, ms: end - start });
    start = end;
  }
  return parts;
}

/** A call's row joined with one of its events (none: `at` and `name` null), as the per-day totals read them. */
export interface TotalsRow {
  id: number;
  startedAt: number;
  durationMs: number;
  operatorId: string;
  operatorName: string | null;
  at: number | null;
  name: string | null;
  payload: string | null;
}

/**
 * Totals per operator and local day, from rows that come call by call (each call's events in order). A call
 * counts on the day it started; its duration, muted, held and gap time count on the days they happened, split at
 * midnight. Shared by the local log and the whole team's (central/central-log.ts), so the two cannot differ.
 */
export class DailyTotalsBuilder {
  private readonly totals = new Map<string, DailyTotal>();
  private current: Omit<TotalsRow, 'at' | 'name' | 'payload'> | null = null;
  private events: TimelineEvent[] = [];
  private readonly timeZone: string;
  private readonly days: LocalDays;

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.days = new LocalDays(timeZone);
  }

  add(row: TotalsRow): void {
    if (this.current?.id !== row.id) {
      this.flush();
      this.current = { id: row.id, startedAt: row.startedAt, durationMs: row.durationMs, operatorId: row.operatorId, operatorName: row.operatorName };
      this.events = [];
    }
    if (row.at !== null && row.name !== null) this.events.push({ name: row.name, at: row.at, payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown) });
  }

  result(): DailyTotal[] {
    this.flush();
    return [...this.totals.values()].sort((a, b) => a.day.localeCompare(b.day) || a.operatorId.localeCompare(b.operatorId));
  }

  private total(day: string, operatorId: string, operatorName: string | null): DailyTotal {
    const key = `${day}\u0000${operatorId}`;
    let entry = this.totals.get(key);
    if (!entry) {
      entry = { day, operatorId, operatorName, calls: 0, durationMs: 0, mutedMs: 0, heldMs: 0, gapMs: 0 };
      this.totals.set(key, entry);
    }
    return entry;
  }

  private flush(): void {
    const call = this.current;
    this.current = null;
    if (!call || !isFormattableInstant(call.startedAt)) return;
    const { timeZone, days } = this;
    this.total(days.of(call.startedAt).day, call.operatorId, call.operatorName).calls += 1;
    for (const part of splitByDay(call.startedAt, call.startedAt + call.durationMs, timeZone, days)) {
      this.total(part.day, call.operatorId, call.operatorName).durationMs += part.ms;
    }
    if (this.events.length === 0) return;
    const field = { muted: 'mutedMs', held: 'heldMs', gap: 'gapMs' } as const;
    for (const interval of summarizeCall(this.events).intervals) {
      // The per-day totals report the card's figures; the microphone's are in the calls table and exports.
      if (interval.kind === 'mic_muted') continue;
      for (const part of splitByDay(interval.from, interval.to, timeZone, days)) {
        this.total(part.day, call.operatorId, call.operatorName)[field[interval.kind]] += part.ms;
      }
    }
  }
}

/** Totals per operator and local day (`DailyTotalsBuilder`) of the calls the filter selects. */
export function dailyTotals(db: Database.Database, filter: LogFilter, timeZone: string): DailyTotal[] {
  const { sql, params } = where(filter);
  // One ordered scan: the calls by start time, each followed by its events in order (events_by_call), so every
  // call's timeline is computed from rows already at hand, with no query per call.
  const rows = db.prepare(`SELECT c.id, c.started_at AS startedAt, c.duration_ms AS durationMs, o.user_id AS operatorId, o.name AS operatorName,
      e.at, e.name, e.payload ${CALL_FROM} LEFT JOIN events e ON e.call_id = c.id
      WHERE ${sql} ORDER BY c.started_at, c.id, e.at, e.id`).iterate(params) as IterableIterator<TotalsRow>;
  const builder = new DailyTotalsBuilder(timeZone);
  for (const row of rows) builder.add(row);
  return builder.result();
}
