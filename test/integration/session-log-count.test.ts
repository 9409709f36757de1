// The session log's count of matching calls (the table's scroll height): unfiltered, SQLite's counting of an
// index's entries (no row is read); filtered, the same number as a plain count of the matching rows.
import { afterEach, describe, expect, it } from 'vitest';
import { countSql, queryCalls } from '../../main/core/log/session-log.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const stores: SessionStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function seeded(): SessionStore {
  const dir = tempDir();
  seedStore(dir, { calls: 300, events: 1_200, operators: 4 });
  const store = SessionStore.openInDir(dir);
  stores.push(store);
  return store;
}

describe('the session log\'s count', () => {
  it('unfiltered, is SQLite\'s count of an index (the Count opcode), not a scan that tests every row', () => {
    const store = seeded();
    const sql = countSql({});
    expect(sql).not.toMatch(/WHERE/);
    const opcodes = (store.db.prepare(`EXPLAIN ${sql}`).all() as Array<{ opcode: string }>).map((r) => r.opcode);
    expect(opcodes).toContain('Count');
    expect(opcodes).not.toContain('Next');
    expect(queryCalls(store.db, {}, { column: 'startedAt', descending: true }, { offset: 0, limit: 10 }).total).toBe(300);
  });

  it('filtered, equals a plain count of the matching calls', () => {
    const store = seeded();
    const first = store.db.prepare('SELECT min(started_at) FROM calls').pluck().get() as number;
    const cases = [
      { filter: { operator: '2' }, where: "operator_id IN (SELECT id FROM operators WHERE user_id = '2')" },
      { filter: { portal: 'acme.bitrix24.com' }, where: 'portal_id IN (SELECT id FROM portals WHERE domain = \'acme.bitrix24.com\')' },
      { filter: { portal: 'other.bitrix24.com' }, where: '0' },
      { filter: { phone: '00012' }, where: "phone_number LIKE '%00012%'" },
      { filter: { from: first + 60 * 60_000, to: first + 120 * 60_000 }, where: `started_at >= ${first + 60 * 60_000} AND started_at < ${first + 120 * 60_000}` },
      { filter: { minMutedPercent: 20 }, where: 'muted_ms * 1.0 / max(duration_ms, 1) > 0.2' },
    ];
    for (const { filter, where } of cases) {
      const expected = store.db.prepare(`SELECT count(*) FROM calls WHERE ${where}`).pluck().get() as number;
      expect(countSql(filter), JSON.stringify(filter)).toMatch(/WHERE/);
      expect(queryCalls(store.db, filter, { column: 'startedAt', descending: true }, { offset: 0, limit: 10 }).total, JSON.stringify(filter)).toBe(expected);
    }
  });
});
