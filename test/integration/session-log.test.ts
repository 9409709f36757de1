import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEventPayload, type NormalizedEvent } from '../../common/card-events.ts';
import { callTimeline, dailyTotals, queryCalls, splitByDay } from '../../main/core/log/session-log.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const stores: SessionStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

const normalized = (name: string, payload: unknown): NormalizedEvent => {
  const result = normalizeEventPayload(name, payload);
  if (!result.ok) throw new Error(result.error);
  return result.event;
};

describe('splitting at local midnight', () => {
  it('splits an interval across midnight in the chosen zone', () => {
    // 23:30 to 00:45 Moscow time (UTC+3).
    const from = Date.UTC(2026, 10, 27, 20, 30);
    expect(splitByDay(from, from + 75 * 60_000, 'Europe/Moscow')).toEqual([
      { day: '2026-11-27', ms: 30 * 60_000 },
      { day: '2026-11-28', ms: 45 * 60_000 },
    ]);
    expect(splitByDay(from, from + 75 * 60_000, 'UTC')).toEqual([{ day: '2026-11-27', ms: 75 * 60_000 }]);
  });

  it('knows a day with a clock change has 23 hours', () => {
    const start = Date.UTC(2026, 2, 28, 23, 0); // Berlin midnight, 2026-03-29
    const parts = splitByDay(start, start + 24 * 3_600_000, 'Europe/Berlin');
    expect(parts).toEqual([{ day: '2026-03-29', ms: 23 * 3_600_000 }, { day: '2026-03-30', ms: 3_600_000 }]);
  });
});

describe('the session log', () => {
  it('filters, sorts and pages in SQL', () => {
    const dir = tempDir();
    seedStore(dir, { calls: 500, events: 1_500, operators: 5 });
    const store = SessionStore.openInDir(dir);
    stores.push(store);
    const all = queryCalls(store.db, {}, { column: 'startedAt', descending: false }, { offset: 0, limit: 50 });
    expect(all.total).toBe(500);
    expect(all.rows).toHaveLength(50);
    expect(all.rows[0]!.callId).toBe('externalCall.seed.1');
    const page = queryCalls(store.db, {}, { column: 'startedAt', descending: false }, { offset: 450, limit: 100 });
    expect(page.rows).toHaveLength(50);
    const op = queryCalls(store.db, { operator: '3' }, { column: 'startedAt', descending: false }, { offset: 0, limit: 1_000 });
    expect(op.total).toBe(100);
    expect(op.rows.every((r) => r.operatorId === '3')).toBe(true);
    const phone = queryCalls(store.db, { phone: '000042' }, { column: 'startedAt', descending: false }, { offset: 0, limit: 10 });
    expect(phone.rows.map((r) => r.phoneNumber)).toEqual(['+74951000042']);
    const muted = queryCalls(store.db, { minMutedPercent: 20 }, { column: 'mutedPercent', descending: true }, { offset: 0, limit: 1_000 });
    expect(muted.total).toBeGreaterThan(0);
    expect(muted.rows.every((r) => r.mutedMs * 100 > 20 * r.durationMs)).toBe(true);
    for (let i = 1; i < muted.rows.length; i += 1) {
      const [a, b] = [muted.rows[i - 1]!, muted.rows[i]!];
      expect(a.mutedMs / a.durationMs).toBeGreaterThanOrEqual(b.mutedMs / b.durationMs);
    }
    expect(queryCalls(store.db, { phone: '%' }, { column: 'startedAt', descending: false }, { offset: 0, limit: 10 }).total).toBe(0);
  });

  it('per-day totals split a call and its mute across midnight, and add up to the call', () => {
    const store = SessionStore.openInDir(tempDir());
    stores.push(store);
    const ids = store.resolveOperator({ memberId: 'm', domain: 'acme.bitrix24.com', userId: '7', userName: 'Olga' }, 0);
    const frame = store.resolveFrame(ids, { appSid: 's', origin: 'https://w.test', uri: null }, 0)!.frame;
    const t = Date.UTC(2026, 10, 27, 20, 50); // 23:50 Moscow
    let seq = 0;
    const add = (name: string, payload: unknown, minutes: number): void => {
      seq += 1;
      const at = t + minutes * 60_000;
      store.ingest(frame.id, { eventId: `e${seq}`, seq, clientAt: at, at, receivedAt: at, event: normalized(name, payload) });
    };
    add('initialized', { CALL_ID: 'midnight' }, 0);
    add('muteButtonClick', true, 5); // 23:55
    add('muteButtonClick', false, 15); // 00:05
    add('hangupButtonClick', [], 20); // 00:10
    store.writeFigures();
    const totals = dailyTotals(store.db, {}, 'Europe/Moscow');
    expect(totals).toEqual([
      { day: '2026-11-27', operatorId: '7', operatorName: 'Olga', calls: 1, durationMs: 10 * 60_000, mutedMs: 5 * 60_000, heldMs: 0, gapMs: 0 },
      { day: '2026-11-28', operatorId: '7', operatorName: 'Olga', calls: 0, durationMs: 10 * 60_000, mutedMs: 5 * 60_000, heldMs: 0, gapMs: 0 },
    ]);
    const timeline = callTimeline(store.db, 1)!;
    expect(timeline.call).toMatchObject({ callId: 'midnight', mutedMs: 10 * 60_000, durationMs: 20 * 60_000 });
    expect(timeline.intervals).toEqual([{ kind: 'muted', from: t + 5 * 60_000, to: t + 15 * 60_000 }]);
    expect(timeline.events.map((e) => e.name)).toEqual(['initialized', 'muteButtonClick', 'muteButtonClick', 'hangupButtonClick']);
  });
});
