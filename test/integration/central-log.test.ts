// The session log window's whole-team view (main/core/central/central-log.ts) against a real throwaway
// PostgreSQL: two PCs' real SQLite logs synced into it; the team's pages, sorts, filters, per-day totals (with
// calls crossing local midnight) and timelines equal the union of the two PCs' local views; each sort's page is
// served by an index; and through the desktop controller (the window's IPC handlers, `source: 'team'`) with the
// read-only login from the keychain, including the export and the one-line errors.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LogCallView } from '../../common/ipc.ts';
import { centralCallTimeline, centralDailyTotals, centralOperatorCountsQuery, centralPageQuery, centralQueryCalls } from '../../main/core/central/central-log.ts';
import { SCHEMA } from '../../main/core/central/migrations.ts';
import { connectCentral, resolveCentralUrl, type Sql } from '../../main/core/central/connection.ts';
import { addLogin, centralInit, KNOWN_CENTRAL_VERSION } from '../../main/core/central/schema.ts';
import { CentralSync } from '../../main/core/central/sync.ts';
import { callTimeline, dailyTotals, LOG_SORT_COLUMNS, queryCalls, type DailyTotal, type LogFilter } from '../../main/core/log/session-log.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { fakeSecrets, useDesktops } from '../helpers/desktop.ts';
import { startPostgres, type PgServer } from '../helpers/postgres.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const startDesktop = useDesktops(tempDir);
const DB = 'companion';
const ZONE = 'Europe/Moscow';
let pg: PgServer;
let supervisor: { name: string; password: string };
let team: Sql;
const stores: SessionStore[] = [];
const syncs: CentralSync[] = [];
const open: Array<{ close(): void | Promise<void> }> = [];

/** A PC's store: seeded from `start` (calls crossing Moscow's midnight), its operators and portal its own. */
function companionStore(pc: string, start: number, calls: number): SessionStore {
  const dir = tempDir();
  seedStore(dir, { calls, events: calls * 6, operators: 3, start, spacingMs: 4 * 60_000 });
  const store = SessionStore.openInDir(dir);
  store.db.prepare("UPDATE operators SET user_id = ? || '-' || user_id, name = name || ' ' || ?").run(pc, pc);
  store.db.prepare('UPDATE portals SET domain = ?').run(`${pc}.bitrix24.com`);
  // A few calls without a number, so the phone sort meets NULLs.
  store.db.prepare('UPDATE calls SET phone_number = NULL WHERE id % 7 = 0').run();
  return store;
}

beforeAll(async () => {
  pg = await startPostgres();
  await pg.psql(`CREATE DATABASE ${DB}`);
  const admin = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, DB), {}));
  const writers: string[] = [];
  try {
    await centralInit(admin, 'test');
    for (const pc of ['pc1', 'pc2']) writers.push(pg.url(pc, (await addLogin(admin, pc, 'writer')).password, DB));
    supervisor = { name: 'boss', password: (await addLogin(admin, 'boss', 'supervisor')).password };
  } finally {
    await admin.end();
  }
  // Starting 20:30 UTC (23:30 in Moscow): calls run past midnight and over the next hours.
  stores.push(companionStore('pc1', Date.UTC(2025, 11, 1, 20, 30), 60), companionStore('pc2', Date.UTC(2025, 11, 1, 20, 33), 45));
  stores.forEach((store, i) => {
    const sync = new CentralSync({ db: store.db, config: resolveCentralUrl(writers[i]!, {}), appVersion: 'test', batchRows: 50, idleMs: 100, backoff: { minMs: 100, maxMs: 1_000 } });
    sync.start();
    syncs.push(sync);
  });
  // Until both PCs have sent everything (expect.poll is for tests only).
  for (const sync of syncs) {
    const until = Date.now() + 30_000;
    while (!(sync.status().lastSyncAt !== null && sync.status().rowsWaiting === 0)) {
      if (Date.now() > until) throw new Error(`sync did not catch up: ${JSON.stringify(sync.status())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  team = connectCentral(resolveCentralUrl(pg.url(supervisor.name, supervisor.password, DB), {}));
}, 120_000);
afterAll(async () => {
  await team?.end();
  for (const sync of syncs) await sync.stop();
  for (const store of stores) store.close();
  await pg?.stop();
});
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** A call without its row id (a PC's id locally, the central id in the team's view). */
const withoutId = ({ id: _id, ...call }: LogCallView): Omit<LogCallView, 'id'> => call;
const key = (c: Omit<LogCallView, 'id'>): string => JSON.stringify(c);

function localAll(filter: LogFilter, sort: { column: (typeof LOG_SORT_COLUMNS)[number]; descending: boolean }): LogCallView[] {
  return stores.flatMap((s) => queryCalls(s.db, filter, sort, { offset: 0, limit: 1000 }).rows);
}

/** Every page of the team's view, `limit` at a time. */
async function teamAll(filter: LogFilter, sort: { column: (typeof LOG_SORT_COLUMNS)[number]; descending: boolean }, limit: number): Promise<{ rows: LogCallView[]; total: number | null }> {
  const first = await centralQueryCalls(team, filter, sort, { offset: 0, limit });
  const rows = [...first.rows];
  for (let offset = limit; ; offset += limit) {
    const page = await centralQueryCalls(team, filter, sort, { offset, limit });
    expect(page.total).toBeNull();
    if (page.rows.length === 0) break;
    rows.push(...page.rows);
  }
  return { rows, total: first.total };
}

/** The value a sort orders by, as the local log computes it. */
function sortValue(c: LogCallView, column: (typeof LOG_SORT_COLUMNS)[number]): string | number | null {
  switch (column) {
    case 'startedAt': return c.startedAt;
    case 'operator': return c.operatorName;
    case 'phone': return c.phoneNumber;
    case 'duration': return c.durationMs;
    case 'muted': return c.mutedMs;
    case 'mutedPercent': return c.mutedMs / Math.max(c.durationMs, 1);
    case 'held': return c.heldMs;
    case 'gap': return c.gapMs;
  }
}

/** The union of two PCs' per-day totals: their operators differ, so it is the two lists together, sorted. */
function unionTotals(filter: LogFilter): DailyTotal[] {
  return stores.flatMap((s) => dailyTotals(s.db, filter, ZONE)).sort((a, b) => a.day.localeCompare(b.day) || a.operatorId.localeCompare(b.operatorId));
}

const FILTERS: LogFilter[] = [
  {},
  { operator: 'pc2-1' },
  { phone: '00012' },
  { portal: 'pc1.bitrix24.com' },
  { minMutedPercent: 10 },
  { from: Date.UTC(2025, 11, 1, 21, 0), to: Date.UTC(2025, 11, 2, 0, 0) },
];

describe('the whole team in the session log (central PostgreSQL)', () => {
  it('pages, sorts and filters the union of the two PCs\' logs', async () => {
    for (const filter of FILTERS) {
      const local = localAll(filter, { column: 'startedAt', descending: true });
      const { rows, total } = await teamAll(filter, { column: 'startedAt', descending: true }, 17);
      expect(total).toBe(local.length);
      expect(rows.map(withoutId).map(key).sort()).toEqual(local.map(withoutId).map(key).sort());
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    }
    expect(localAll({}, { column: 'startedAt', descending: false })).toHaveLength(105);
    // Every sort, both ways: the team's order is the two local orders merged (ties aside).
    for (const column of LOG_SORT_COLUMNS) {
      for (const descending of [false, true]) {
        const sort = { column, descending };
        const local = localAll({}, sort).map((c) => sortValue(c, column));
        // SQLite's order: NULLs first ascending, and text by code point (as PostgreSQL's C collation here).
        const cmp = (a: string | number | null, b: string | number | null): number => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
        local.sort((a, b) => (descending ? cmp(b, a) : cmp(a, b)));
        const { rows, total } = await teamAll({}, sort, 40);
        expect(rows.map((c) => sortValue(c, column)), `${column} ${descending ? 'desc' : 'asc'}`).toEqual(local);
        // Every call once (pages neither overlap nor skip), and the first page's count is exact.
        expect(new Set(rows.map((r) => r.id)).size).toBe(105);
        expect(total).toBe(105);
      }
    }
  });

  it('gives per-day totals, split at local midnight, equal to the union of the local totals', async () => {
    for (const filter of FILTERS) {
      const central = await centralDailyTotals(team, filter, ZONE);
      expect(central).toEqual(unionTotals(filter));
      // Read in pages of a few calls (the next page after the last call's start, PC and PC's id): the same.
      expect(await centralDailyTotals(team, filter, ZONE, 7)).toEqual(central);
    }
    const all = await centralDailyTotals(team, {}, ZONE);
    // The calls run from 23:30 in Moscow into the next day: both days are there, for both PCs' operators.
    expect(new Set(all.map((t) => t.day))).toEqual(new Set(['2025-12-01', '2025-12-02']));
    expect(new Set(all.map((t) => t.operatorId.slice(0, 3)))).toEqual(new Set(['pc1', 'pc2']));
    expect(all.reduce((n, t) => n + t.calls, 0)).toBe(105);
    expect(all.some((t) => t.mutedMs > 0 && t.heldMs > 0)).toBe(true);
  });

  it('puts each call\'s events in order itself for the per-day totals, whatever order the server reads them in', async () => {
    const admin = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, DB), {}));
    open.push({ close: () => admin.end() });
    // Half the events get new row versions at the end of the table, and the plan may only scan the table: each
    // call's events then come to the aggregates out of time order (the first check shows it does happen).
    await admin.execute(`UPDATE ${SCHEMA}.events SET received_at = received_at WHERE local_id % 2 = 0`);
    await admin.query('SET enable_indexscan = off');
    await admin.query('SET enable_bitmapscan = off');
    const read = await admin.query<{ at: string }>(`SELECT string_agg(e.at::text, ',') AS at FROM ${SCHEMA}.calls c
      JOIN LATERAL (SELECT e.at FROM ${SCHEMA}.events e WHERE e.install_id = c.install_id AND e.member_id = c.member_id AND e.call_id = c.call_id) e ON true GROUP BY c.id`);
    expect(read.some(({ at }) => at.split(',').map(Number).some((t, i, all) => i > 0 && t < all[i - 1]!))).toBe(true);
    for (const filter of FILTERS) expect(await centralDailyTotals(admin, filter, ZONE, 7)).toEqual(unionTotals(filter));
  });

  it('shows a call\'s timeline as the PC that recorded it does', async () => {
    for (const [index, store] of stores.entries()) {
      const localCall = queryCalls(store.db, {}, { column: 'muted', descending: true }, { offset: 0, limit: 1 }).rows[0]!;
      const local = callTimeline(store.db, localCall.id)!;
      const teamRow = (await teamAll({ operator: localCall.operatorId }, { column: 'startedAt', descending: false }, 100)).rows.find((r) => r.callId === localCall.callId);
      expect(teamRow, `pc${index + 1}`).toBeDefined();
      const central = (await centralCallTimeline(team, teamRow!.id))!;
      expect(withoutId(central.call)).toEqual(withoutId(local.call));
      expect(central.events).toEqual(local.events);
      expect(central.intervals).toEqual(local.intervals);
      expect(central.intervals.some((i) => i.kind === 'muted')).toBe(true);
    }
    expect(await centralCallTimeline(team, 999_999)).toBeNull();
  });

  it('reads every sort\'s page from an index (no sort of the table), operator by name aside', async () => {
    const plans = connectCentral(resolveCentralUrl(pg.url(supervisor.name, supervisor.password, DB), {}));
    open.push({ close: () => plans.end() });
    // The tables are small here, so the planner is told scans and sorts are dear: a Sort remains only where no index yields the order.
    await plans.query('SET enable_seqscan = off');
    await plans.query('SET enable_sort = off');
    const explain = async (text: string, params: unknown[]): Promise<string> => (await plans.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).map((r) => r['QUERY PLAN']).join('\n');
    for (const column of LOG_SORT_COLUMNS) {
      if (column === 'operator') continue;
      for (const descending of [false, true]) {
        const { text, params } = centralPageQuery({}, { column, descending }, { offset: 200, limit: 200 });
        const plan = await explain(text, params);
        // The page's ids from the sort's index alone (migration 3), however deep: no Sort, no read of the table.
        expect(plan, `${column} ${descending}`).not.toMatch(/\bSort\b/);
        expect(plan, `${column} ${descending}`).toMatch(/Index Only Scan (Backward )?using calls_by_\w+ on calls/);
      }
    }
    // By operator: each operator's count and its part of a page from calls_by_operator alone.
    for (const descending of [false, true]) {
      const counts = centralOperatorCountsQuery({}, descending);
      expect(await explain(counts.text, counts.params)).toMatch(/Index Only Scan (Backward )?using calls_by_operator on calls/);
    }
  });

  it('central init upgrades a version 2 database to 3: data and central ids kept, the page indexes made', async () => {
    await pg.psql('CREATE DATABASE upgrade_from_2');
    const admin = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, 'upgrade_from_2'), {}));
    open.push({ close: () => admin.end() });
    expect(await centralInit(admin, 'old', 2)).toEqual({ from: 0, to: 2 });
    const install = '00000000-0000-4000-8000-000000000001';
    await admin.query(`INSERT INTO ${SCHEMA}.portals VALUES ($1, 'm', 'acme.bitrix24.com', 0)`, [install]);
    await admin.query(`INSERT INTO ${SCHEMA}.operators VALUES ($1, 'm', 'u1', 'Olga'), ($1, 'm', 'u2', 'Anna')`, [install]);
    await admin.query(`INSERT INTO ${SCHEMA}.calls (install_id, member_id, call_id, local_id, user_id, started_at, duration_ms, muted_ms, mute_count,
        longest_mute_ms, held_ms, hold_count, gap_ms)
      SELECT $1, 'm', 'c' || i, i, CASE WHEN i % 2 = 0 THEN 'u1' ELSE 'u2' END, 1764568800000 + i * 60000, 60000, i * 1000, 1, i * 1000, 0, 0, 0
      FROM generate_series(1, 30) i`, [install]);
    const before = await admin.query<{ id: number; callId: string }>(`SELECT id, call_id AS "callId" FROM ${SCHEMA}.calls ORDER BY id`);
    expect(await centralInit(admin, 'new')).toEqual({ from: 2, to: KNOWN_CENTRAL_VERSION });
    expect(await admin.query(`SELECT id, call_id AS "callId" FROM ${SCHEMA}.calls ORDER BY id`)).toEqual(before);
    const indexes = (await admin.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = '${SCHEMA}' AND tablename = 'calls'`)).map((r) => r.indexdef);
    expect(indexes).toEqual(expect.arrayContaining([
      expect.stringMatching(/calls_by_start .*\(started_at, install_id, local_id\) INCLUDE \(id\)/),
      expect.stringMatching(/calls_by_muted_share .* INCLUDE \(muted_ms, duration_ms\)/),
      expect.stringMatching(/calls_by_operator .*\(install_id, member_id, user_id, started_at, id\)/),
    ]));
    // The upgraded database answers the view: by operator, Anna's 15 calls, then Olga's.
    expect((await centralQueryCalls(admin, {}, { column: 'operator', descending: false }, { offset: 0, limit: 10 })).total).toBe(30);
    const page = await centralQueryCalls(admin, {}, { column: 'operator', descending: false }, { offset: 10, limit: 10 });
    expect(page.total).toBeNull();
    expect(page.rows.map((r) => r.operatorName)).toEqual([...Array(5).fill('Anna'), ...Array(5).fill('Olga')]);
    expect(await centralInit(admin, 'again')).toEqual({ from: KNOWN_CENTRAL_VERSION, to: KNOWN_CENTRAL_VERSION });
  });

  it('answers the window\'s calls with source "team" through the read-only login from the keychain, and exports the team', async () => {
    const secrets = fakeSecrets();
    const readUrl = `postgres://${supervisor.name}@127.0.0.1:${pg.port}/${DB}`;
    const { controller } = await startDesktop({ central: { url: '', tls: 'disable', caFile: '', readUrl } }, { secrets });
    const h = controller.handlers;
    // Without the password yet: one line, no crash.
    await expect(h.logCalls({}, { column: 'startedAt', descending: true }, { offset: 0, limit: 50 }, 'team')).rejects.toThrow(/^[^\n]*password[^\n]*$/i);
    await h.setCentralPassword('centralRead', supervisor.password);
    const page = await h.logCalls({}, { column: 'startedAt', descending: true }, { offset: 0, limit: 50 }, 'team');
    expect(page.total).toBe(105);
    expect(new Set(page.rows.map((r) => r.portal))).toEqual(new Set(['pc1.bitrix24.com', 'pc2.bitrix24.com']));
    // This PC's own log is still the default: empty here.
    expect((await h.logCalls({}, { column: 'startedAt', descending: true }, { offset: 0, limit: 50 })).total).toBe(0);
    expect(await h.logTotals({}, ZONE, 'team')).toEqual(unionTotals({}));
    expect((await h.logTimeline(page.rows[0]!.id, 'team'))?.call.callId).toBe(page.rows[0]!.callId);

    // The export follows the switch: the team's calls, one file.
    const done = new Promise<{ ok: boolean; path?: string; rows?: number; error?: string }>((resolve) => {
      const off = controller.sessionLog.onProgress((p) => {
        if (!p.running && p.result) {
          off();
          resolve(p.result);
        }
      });
    });
    expect(await h.exportLog('csv', { portal: 'pc2.bitrix24.com' }, ZONE, 'team')).toEqual({ started: true });
    const result = await done;
    expect(result).toMatchObject({ ok: true, rows: 45 });
    expect(result.path).toMatch(/operator-companion-team-calls\.csv$/);
    expect(readFileSync(result.path!, 'utf8').split('\r\n').filter((l) => l !== '')).toHaveLength(46);

    // A wrong password, then the server away: one line each, and the local view unaffected.
    await h.setCentralPassword('centralRead', 'wrong-password');
    await expect(h.logCalls({}, { column: 'startedAt', descending: true }, { offset: 0, limit: 50 }, 'team')).rejects.toThrow(/^[^\n]*refused the password[^\n]*$/);
    await expect(h.exportLog('csv', {}, ZONE, 'team')).rejects.toThrow(/refused the password/);
    await h.updateSettings({ central: { url: '', tls: 'disable', caFile: '', readUrl: `postgres://${supervisor.name}@127.0.0.1:1/${DB}` } });
    await expect(h.logTotals({}, ZONE, 'team')).rejects.toThrow(/^[^\n]*cannot reach PostgreSQL[^\n]*$/);
    expect((await h.logCalls({}, { column: 'startedAt', descending: true }, { offset: 0, limit: 50 }, 'local')).total).toBe(0);
    await h.updateSettings({ central: { url: '', tls: 'disable', caFile: '', readUrl: '' } });
    await expect(h.logCalls({}, { column: 'startedAt', descending: true }, { offset: 0, limit: 50 }, 'team')).rejects.toThrow(/read-only URL/);
  });
});
