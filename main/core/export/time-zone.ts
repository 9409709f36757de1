// Time-zone arithmetic on top of Intl: the store keeps UTC milliseconds, people read local time.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(ms: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return parts as unknown as LocalParts;
}

/** Local time minus UTC at the instant `ms`, in milliseconds (e.g. +3 h for Europe/Moscow). */
export function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/**
 * Offsets change only at a zone's transitions, which fall on quarter hours: one Intl lookup per quarter hour
 * and zone serves every instant in it. (Intl is the slow part of writing a million timestamps.)
 */
const QUARTER_HOUR = 900_000;
const offsetCache = new Map<string, Map<number, number>>();

export function cachedOffset(ms: number, timeZone: string): number {
  let zone = offsetCache.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsetCache.set(timeZone, zone);
  }
  const bucket = Math.floor(ms / QUARTER_HOUR);
  let offset = zone.get(bucket);
  if (offset === undefined) {
    if (zone.size > 200_000) zone.clear();
    offset = offsetAt(bucket * QUARTER_HOUR, timeZone);
    zone.set(bucket, offset);
  }
  return offset;
}

/** Years 0001–9999: what ISO 8601 text, Intl and spreadsheets can all represent. */
const FIRST_INSTANT = -62_135_596_800_000;
const LAST_INSTANT = 253_402_300_799_999;

/**
 * Whether a stored value can be written as a date. The relay bounds every time it accepts, but a store may hold
 * anything an older version or a hand edit left there; such values are written as they are, never thrown on.
 */
export function isFormattableInstant(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= FIRST_INSTANT + 2 * 86_400_000 && ms <= LAST_INSTANT - 2 * 86_400_000;
}

/** ISO 8601 with the zone's offset at that instant, to the second: `2026-11-28T12:00:05+03:00`. */
export function formatInstant(ms: number, timeZone: string): string {
  const offset = cachedOffset(ms, timeZone);
  const local = new Date(Math.floor(ms / 1000) * 1000 + offset);
  const offsetMinutes = Math.round(offset / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.trunc(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${zone}`;
}

/**
 * The local calendar day an instant falls on: its date (YYYY-MM-DD), the minutes since its midnight, and the
 * instants of that midnight and the next. The offset may change between the instant and a midnight (a clock
 * change that night), so each midnight is corrected with the offset in force there.
 */
export function localDayOf(ms: number, timeZone: string): { day: string; minutes: number; start: number; next: number } {
  const offset = cachedOffset(ms, timeZone);
  const local = new Date(ms + offset);
  const instant = (localMidnight: number): number => localMidnight - cachedOffset(localMidnight - offset, timeZone);
  const [year, month, date] = [local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()];
  return {
    day: local.toISOString().slice(0, 10),
    minutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
    start: instant(Date.UTC(year, month, date)),
    next: instant(Date.UTC(year, month, date + 1)),
  };
}

/** The instant at which a local date and time happens in the zone (the earlier one when clocks go back). */
export function localToInstant(year: number, month: number, day: number, timeZone: string, hour = 0, minute = 0): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  return Math.min(first, second);
}

/**
 * Parses a `--from`/`--to` value: a full ISO timestamp with offset or `Z`, or a date `YYYY-MM-DD` meaning that
 * local midnight in the zone. `endOfDay` turns a bare date into the next midnight, so `--to 2026-11-28`
 * includes that whole day.
 */
export function parseBoundary(value: string, timeZone: string, endOfDay: boolean): number | null {
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const check = new Date(Date.UTC(year, month - 1, day));
    if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
    return localToInstant(year, month, day + (endOfDay ? 1 : 0), timeZone);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
