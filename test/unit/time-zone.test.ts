import { describe, expect, it } from 'vitest';
import { formatInstant, isValidTimeZone, parseBoundary } from '../../main/core/export/time-zone.ts';

describe('time zones', () => {
  it('formats with the offset in force at that instant', () => {
    expect(formatInstant(Date.UTC(2026, 0, 15, 12, 0, 0), 'Europe/Berlin')).toBe('2026-01-15T13:00:00+01:00');
    expect(formatInstant(Date.UTC(2026, 6, 15, 12, 0, 0), 'Europe/Berlin')).toBe('2026-07-15T14:00:00+02:00');
    expect(formatInstant(Date.UTC(2026, 6, 15, 12, 0, 0), 'America/St_Johns')).toBe('2026-07-15T09:30:00-02:30');
    expect(formatInstant(Date.UTC(2026, 10, 28, 23, 59, 59, 999), 'UTC')).toBe('2026-11-28T23:59:59+00:00');
  });

  it('reads a date as local midnight, and --to as the end of that day', () => {
    expect(parseBoundary('2026-11-28', 'Europe/Moscow', false)).toBe(Date.UTC(2026, 10, 27, 21, 0, 0));
    expect(parseBoundary('2026-11-28', 'Europe/Moscow', true)).toBe(Date.UTC(2026, 10, 28, 21, 0, 0));
    expect(parseBoundary('2026-12-31', 'UTC', true)).toBe(Date.UTC(2027, 0, 1));
  });

  it('gets days with a clock change right', () => {
    // Berlin switches to summer time on 2026-03-29: that day has 23 hours.
    const start = parseBoundary('2026-03-29', 'Europe/Berlin', false) as number;
    const end = parseBoundary('2026-03-29', 'Europe/Berlin', true) as number;
    expect(end - start).toBe(23 * 3600_000);
    expect(formatInstant(start, 'Europe/Berlin')).toBe('2026-03-29T00:00:00+01:00');
    expect(formatInstant(end, 'Europe/Berlin')).toBe('2026-03-30T00:00:00+02:00');
  });

  it('takes ISO times with an offset and refuses the rest', () => {
    expect(parseBoundary('2026-11-28T10:00:00+03:00', 'UTC', false)).toBe(Date.UTC(2026, 10, 28, 7));
    expect(parseBoundary('2026-11-28T10:00:00', 'UTC', false)).toBeNull();
    expect(parseBoundary('2026-02-30', 'UTC', false)).toBeNull();
    expect(isValidTimeZone('Europe/Moscow')).toBe(true);
    expect(isValidTimeZone('Nowhere/Special')).toBe(false);
  });
});
