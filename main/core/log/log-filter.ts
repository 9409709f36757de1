// The supervisor's filters as SQL, shared by the session-log window and the exports, so a file holds exactly
// the calls the window shows. Expects the calls table as `c` and the portals table as `p`.

export interface LogFilter {
  /** Inclusive, ms since the epoch. */
  from?: number;
  /** Exclusive. */
  to?: number;
  /** Bitrix24 user id of the operator. */
  operator?: string;
  /** Part of the phone number. */
  phone?: string;
  portal?: string;
  /** Only calls muted for more than this share of their duration (0–100). */
  minMutedPercent?: number;
}

/** The muted share of a call, written exactly as its index (migration 3) is, so SQLite can use it. */
export const MUTED_SHARE = '(c.muted_ms * 1.0 / max(c.duration_ms, 1))';

/** Conditions on the call (all but the time range, whose column differs between calls and events). */
export function callConditions(filter: LogFilter): { clauses: string[]; params: Record<string, unknown> } {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.operator) {
    clauses.push('c.operator_id IN (SELECT id FROM operators WHERE user_id = @operator)');
    params.operator = filter.operator;
  }
  if (filter.phone) {
    clauses.push("c.phone_number LIKE @phone ESCAPE '\\'");
    params.phone = `%${filter.phone.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
  }
  if (filter.portal) {
    clauses.push('p.domain = @portal');
    params.portal = filter.portal;
  }
  if (filter.minMutedPercent !== undefined && filter.minMutedPercent > 0) {
    clauses.push(`${MUTED_SHARE} > @minMutedShare`);
    params.minMutedShare = filter.minMutedPercent / 100;
  }
  return { clauses, params };
}

export function timeRange(filter: LogFilter): Record<string, number> {
  return { from: filter.from ?? Number.MIN_SAFE_INTEGER, to: filter.to ?? Number.MAX_SAFE_INTEGER };
}
