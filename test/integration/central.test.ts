// The central PostgreSQL against a real, throwaway server (test/helpers/postgres.ts): schema and roles, companions
// syncing (2, then 50 at once), the server stopped mid-sync, an offline week catching up, figures that change
// after a call was sent, what a writer's login may not do, one-line errors, a newer schema, and the central
// export equal to the union of the local exports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEventPayload } from '../../common/card-events.ts';
import { centralSource } from '../../main/core/central/central-export.ts';
import { connectCentral, resolveCentralUrl, type Sql } from '../../main/core/central/connection.ts';
import { SCHEMA } from '../../main/core/central/migrations.ts';
import { addLogin, centralInit, KNOWN_CENTRAL_VERSION } from '../../main/core/central/schema.ts';
import { CentralSync } from '../../main/core/central/sync.ts';
import { streamExport, type ExportOptions } from '../../main/core/export/export-log.ts';
import type { LogFilter } from '../../main/core/log/log-filter.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { exited, freePort, runCli, startServe } from '../helpers/cli.ts';
import { startPostgres, type PgServer } from '../helpers/postgres.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
let pg: PgServer;
const open: Array<{ close(): void | Promise<void> }> = [];

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

const noEnv: NodeJS.ProcessEnv = {};
let databases = 0;
let logins = 0;

/** A new database with the central schema; answers its name. */
async function centralDatabase(): Promise<string> {
  const name = `central_${++databases}`;
  await pg.psql(`CREATE DATABASE ${name}`);
  const sql = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, name), noEnv));
  try {
    await centralInit(sql, 'test');
  } finally {
    await sql.end();
  }
  return name;
}

function adminSql(database: string): Sql {
  const sql = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, database), noEnv));
  open.push({ close: () => sql.end() });
  return sql;
}

/** A new login in the writer (or supervisor) group; answers its URL. */
async function login(database: string, role: 'writer' | 'supervisor' = 'writer'): Promise<{ name: string; url: string }> {
  const name = `${role}_${++logins}`;
  const sql = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, database), noEnv));
  try {
    const { password } = await addLogin(sql, name, role);
    return { name, url: pg.url(name, password, database) };
  } finally {
    await sql.end();
  }
}

/** A PC's store, seeded, with its operators renamed so each PC's operators are its own. */
function companionStore(pc: string, seed: Parameters<typeof seedStore>[1]): SessionStore {
  const dir = tempDir();
  seedStore(dir, seed);
  const store = SessionStore.openInDir(dir);
  store.db.prepare("UPDATE operators SET user_id = ? || '-' || user_id, name = name || ' ' || ?").run(pc, pc);
  open.push(store);
  return store;
}

function startSync(store: SessionStore, url: string, batchRows = 2_000): CentralSync {
  const sync = new CentralSync({ db: store.db, config: resolveCentralUrl(url, noEnv), appVersion: 'test', batchRows, idleMs: 100, backoff: { minMs: 100, maxMs: 1_000 } });
  sync.start();
  // Stopped before its store closes (afterEach closes in reverse order).
  open.push({ close: () => sync.stop() });
  return sync;
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function exportText(source: Parameters<typeof streamExport>[0], options: ExportOptions): Promise<string> {
  const out = new Collect();
  await streamExport(source, options, out);
  return out.text;
}

/** Data lines of a CSV or JSONL export (header dropped), sorted: the union compares as a multiset. */
function lines(text: string, csv: boolean): string[] {
  const all = text.split(csv ? '\r\n' : '\n').filter((l) => l !== '');
  return (csv ? all.slice(1) : all).sort();
}

async function expectCentralEqualsUnion(database: string, stores: SessionStore[], filter: LogFilter = {}): Promise<number> {
  const sql = adminSql(database);
  let compared = 0;
  for (const kind of ['calls', 'events'] as const) {
    for (const format of ['csv', 'jsonl'] as const) {
      const options: ExportOptions = { kind, format, timeZone: 'Europe/Moscow', ...filter };
      const local: string[] = [];
      for (const store of stores) local.push(...lines(await exportText(store.db, options), format === 'csv'));
      local.sort();
      const central = lines(await exportText(centralSource(sql, options), options), format === 'csv');
      expect(central.length).toBe(local.length);
      expect(central).toEqual(local);
      compared += central.length;
    }
  }
  return compared;
}

async function count(sql: Sql, table: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.${table}`);
  return row!.n;
}

describe('central init', () => {
  it('creates the schema and roles once, again is a no-op, and a newer schema is refused by init, sync and export', async () => {
    const name = `central_${++databases}`;
    await pg.psql(`CREATE DATABASE ${name}`);
    const url = pg.url(undefined, undefined, name);
    const first = await runCli(['central', 'init', '--url', url], { env: { ...process.env, PGPASSWORD: '' } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`upgraded from version 0 to ${KNOWN_CENTRAL_VERSION}.*operator_companion_writer`));
    const again = await runCli(['central', 'init', '--url', url]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(`already at version ${KNOWN_CENTRAL_VERSION}`);

    // A companion syncs, then an administrator upgrades the schema beyond what this code knows.
    const writer = await login(name);
    const store = companionStore('pc1', { calls: 5, events: 10, operators: 1 });
    const sync = startSync(store, writer.url);
    await sync.caughtUp();
    await adminSql(name).query(`INSERT INTO ${SCHEMA}.schema_version (version) VALUES (${KNOWN_CENTRAL_VERSION + 1})`);
    const newer = await runCli(['central', 'init', '--url', url]);
    expect(newer.code).toBe(1);
    expect(newer.stderr).toMatch(new RegExp(`^operator-companion: the central database has schema version ${KNOWN_CENTRAL_VERSION + 1}, newer than .*update Operator Companion.*\\n$`));
    expect(newer.stderr.split('\n')).toHaveLength(2);

    const later = companionStore('pc2', { calls: 5, events: 10, operators: 1 });
    const stopped = startSync(later, writer.url);
    await expect.poll(() => stopped.status().running, { timeout: 10_000 }).toBe(false);
    expect(stopped.status().lastError).toMatch(/newer than this Operator Companion knows/);
    const exported = await runCli(['export', '--central', url, '--format', 'csv', '--out', '-']);
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/schema version \d+, newer/);
  });

  it('gives one clear line for a wrong password, an unreachable server and TLS required by the client', async () => {
    const closedPort = await freePort();
    const cases: Array<[string, RegExp]> = [
      [pg.url('postgres', 'wrong-password'), /refused the password for "postgres"/],
      [`postgres://postgres:x@127.0.0.1:${closedPort}/postgres`, /cannot reach PostgreSQL at postgres@127\.0\.0\.1:\d+\/postgres: connection refused/],
      [`${pg.url()}?sslmode=require`, /does not accept TLS connections, but sslmode=require requires TLS/],
      [pg.url(undefined, undefined, 'no_such_db'), /database "no_such_db" does not exist/],
    ];
    for (const [url, expected] of cases) {
      const result = await runCli(['central', 'init', '--url', url]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr.trimEnd().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr).not.toContain('wrong-password');
    }
    // PGSSLMODE is honoured as libpq does.
    const viaEnv = await runCli(['central', 'init', '--url', pg.url()], { env: { ...process.env, PGSSLMODE: 'require' } });
    expect(viaEnv.stderr).toMatch(/does not accept TLS/);
    // A malformed URL is a usage error naming the argument.
    const bad = await runCli(['central', 'init', '--url', 'http://x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--url: the central URL must start with postgres:\/\//);
  }, 60_000);
});

describe('sync', () => {
  it('two companions: central export equals the union of the local exports, row for row, with every filter', async () => {
    const db = await centralDatabase();
    const stores = [companionStore('pc1', { calls: 300, events: 900, operators: 3 }), companionStore('pc2', { calls: 250, events: 700, operators: 2, start: Date.UTC(2025, 11, 1, 7, 30) })];
    const syncs = await Promise.all(stores.map(async (store) => startSync(store, (await login(db)).url, 200)));
    await Promise.all(syncs.map((s) => s.caughtUp()));
    const sql = adminSql(db);
    expect(await count(sql, 'calls')).toBe(550);
    expect(await count(sql, 'events')).toBe(1600);
    expect(await count(sql, 'operators')).toBe(5);
    expect(await count(sql, 'installs')).toBe(2);
    expect(await expectCentralEqualsUnion(db, stores)).toBe(2 * (550 + 1600));
    for (const filter of [
      { operator: 'pc1-2' },
      { minMutedPercent: 10 },
      { phone: '00012' },
      { portal: 'acme.bitrix24.com' },
      { from: Date.UTC(2025, 11, 1, 8, 0), to: Date.UTC(2025, 11, 1, 9, 0) },
    ] satisfies LogFilter[]) {
      await expectCentralEqualsUnion(db, stores, filter);
    }
    expect(syncs.map((s) => s.status())).toEqual(syncs.map(() => expect.objectContaining({ rowsWaiting: 0, lastError: null, running: true })));
  }, 60_000);

  it('50 companions syncing at once: every row arrives once', async () => {
    const db = await centralDatabase();
    const n = 50;
    const writers = await Promise.all(Array.from({ length: n }, () => login(db)));
    const stores = writers.map((_, i) => companionStore(`pc${i}`, { calls: 40, events: 120, operators: 2 }));
    const started = performance.now();
    const syncs = stores.map((store, i) => startSync(store, writers[i]!.url, 25));
    await Promise.all(syncs.map((s) => s.caughtUp(60_000)));
    const seconds = (performance.now() - started) / 1000;
    const sql = adminSql(db);
    expect(await count(sql, 'installs')).toBe(n);
    expect(await count(sql, 'calls')).toBe(n * 40);
    expect(await count(sql, 'events')).toBe(n * 120);
    const perInstall = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.calls GROUP BY install_id`);
    expect(perInstall.every((r) => r.n === 40)).toBe(true);
    console.log(`50 companions: ${n * 160} rows in ${seconds.toFixed(1)} s (batches of 25 calls + 25 events per companion)`);
    expect(seconds).toBeLessThan(60);
  }, 120_000);

  it('PostgreSQL stopped mid-sync and started again: nothing missing, nothing twice', async () => {
    const db = await centralDatabase();
    const writer = await login(db);
    const store = companionStore('pc1', { calls: 20_000, events: 60_000, operators: 5 });
    const sync = startSync(store, writer.url, 500);
    const sql = adminSql(db);
    await expect.poll(() => count(sql, 'events').catch(() => 0), { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
    await pg.halt();
    try {
      await expect.poll(() => sync.status().lastError, { timeout: 15_000 }).toMatch(/connection refused|lost|shutting down/);
      expect(sync.status().rowsWaiting).toBeGreaterThan(0);
    } finally {
      await pg.resume();
    }
    await sync.caughtUp(120_000);
    expect(await count(sql, 'calls')).toBe(20_000);
    expect(await count(sql, 'events')).toBe(60_000);
    await expectCentralEqualsUnion(db, [store], { operator: 'pc1-3' });
  }, 180_000);

  it('an offline week catches up at full speed once the server answers', async () => {
    const db = await centralDatabase();
    const writer = await login(db);
    // A week of one PC's calls, one a minute around the clock, recorded while the server was unreachable.
    const store = companionStore('pc1', { calls: 7 * 24 * 60, events: 7 * 24 * 60 * 3, operators: 1 });
    await pg.halt();
    let sync: CentralSync;
    try {
      sync = startSync(store, writer.url, 2_000);
      await expect.poll(() => sync.status().lastError, { timeout: 15_000 }).toMatch(/connection refused/);
      expect(sync.status().rowsWaiting).toBe(7 * 24 * 60 * 4);
    } finally {
      await pg.resume();
    }
    const started = performance.now();
    sync.nudge();
    await sync.caughtUp(120_000);
    const seconds = (performance.now() - started) / 1000;
    const sql = adminSql(db);
    expect(await count(sql, 'calls')).toBe(7 * 24 * 60);
    expect(await count(sql, 'events')).toBe(7 * 24 * 60 * 3);
    console.log(`offline week: ${7 * 24 * 60 * 4} rows caught up in ${seconds.toFixed(1)} s after the backoff (${Math.round((7 * 24 * 60 * 4) / seconds)} rows/s)`);
  }, 180_000);

  it('a call whose figures change after it was sent is sent again and replaced', async () => {
    const db = await centralDatabase();
    const writer = await login(db);
    const dir = tempDir();
    const store = SessionStore.openInDir(dir);
    open.push(store);
    const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
    const ids = store.resolveOperator({ memberId: 'm1', domain: 'acme.bitrix24.com', userId: '7', userName: 'Olga' }, T0);
    const frame = store.resolveFrame(ids, { appSid: 'sid-1', origin: 'https://w.test', uri: '/' }, T0)!.frame;
    let seq = 0;
    const ingest = (name: string, payload: unknown, seconds: number): void => {
      const event = normalizeEventPayload(name, payload);
      if (!event.ok) throw new Error(event.error);
      seq += 1;
      store.ingest(frame.id, { eventId: `e${seq}`, seq, clientAt: T0 + seconds * 1000, at: T0 + seconds * 1000, receivedAt: T0 + 60_000, event: event.event });
      store.writeFigures(); // as the ingest queue does just after the ack
    };
    ingest('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+4930', CALL_DIRECTION: 'incoming' }, 0);
    ingest('muteButtonClick', true, 10);
    ingest('hangupButtonClick', [], 60);
    const sync = startSync(store, writer.url);
    await sync.caughtUp();
    const sql = adminSql(db);
    const muted = async (): Promise<number[]> => (await sql.query<{ m: number }>(`SELECT muted_ms AS m FROM ${SCHEMA}.calls`)).map((r) => r.m);
    expect(await muted()).toEqual([50_000]);
    // A replayed event from before the hang-up: the unmute at 30 s arrives late and changes the figures.
    ingest('muteButtonClick', false, 30);
    await sync.caughtUp();
    expect(await muted()).toEqual([20_000]);
    expect(await count(sql, 'events')).toBe(4);
    await expectCentralEqualsUnion(db, [store]);
  }, 60_000);
});

describe('roles', () => {
  it('a writer login cannot read, change or delete another install\'s rows; a supervisor reads all and writes nothing', async () => {
    const db = await centralDatabase();
    const [a, b] = [await login(db), await login(db)];
    const storeA = companionStore('pcA', { calls: 10, events: 20, operators: 1 });
    const storeB = companionStore('pcB', { calls: 12, events: 24, operators: 1 });
    const syncA = startSync(storeA, a.url);
    const syncB = startSync(storeB, b.url);
    await Promise.all([syncA.caughtUp(), syncB.caughtUp()]);
    const asA = connectCentral(resolveCentralUrl(a.url, noEnv));
    open.push({ close: () => asA.end() });
    const installB = syncB.installId;

    // Reading: only its own rows exist for it.
    expect(await count(asA, 'calls')).toBe(10);
    expect(await asA.query(`SELECT * FROM ${SCHEMA}.calls WHERE install_id = $1`, [installB])).toHaveLength(0);
    expect(await asA.query(`SELECT * FROM ${SCHEMA}.events WHERE install_id = $1`, [installB])).toHaveLength(0);
    expect(await asA.query(`SELECT * FROM ${SCHEMA}.installs`)).toHaveLength(1);
    // Deleting: refused outright, its own rows included.
    await expect(asA.query(`DELETE FROM ${SCHEMA}.calls WHERE install_id = $1`, [installB])).rejects.toMatchObject({ code: '42501' });
    await expect(asA.query(`DELETE FROM ${SCHEMA}.events`)).rejects.toMatchObject({ code: '42501' });
    await expect(asA.query(`TRUNCATE ${SCHEMA}.calls`)).rejects.toMatchObject({ code: '42501' });
    // Changing: another install's rows are out of reach, and cannot be added to.
    expect(await asA.execute(`UPDATE ${SCHEMA}.calls SET muted_ms = 0 WHERE install_id = $1`, [installB])).toBe(0);
    await expect(
      asA.query(`INSERT INTO ${SCHEMA}.calls (install_id, member_id, call_id, local_id, user_id, started_at, duration_ms, muted_ms, mute_count, longest_mute_ms, held_ms, hold_count, gap_ms)
                  VALUES ($1, 'seed', 'forged', 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0)`, [installB]),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(asA.query(`INSERT INTO ${SCHEMA}.installs (install_id) VALUES ($1) ON CONFLICT (install_id) DO UPDATE SET hostname = 'x'`, [installB])).rejects.toMatchObject({ code: '42501' });
    await expect(asA.query(`UPDATE ${SCHEMA}.installs SET hostname = 'x'`)).resolves.toBeDefined();
    // A PC that presents another PC's install id (a copied data folder) is told so, and writes nothing.
    storeA.db.prepare('UPDATE install_identity SET install_id = ?').run(installB);
    const copied = new CentralSync({ db: storeA.db, config: resolveCentralUrl(a.url, noEnv), appVersion: 'test', idleMs: 100, backoff: { minMs: 100, maxMs: 500 } });
    copied.start();
    open.push({ close: () => copied.stop() });
    await expect.poll(() => copied.status().lastError, { timeout: 10_000 }).toMatch(/registered to another PostgreSQL login/);

    const supervisor = await login(db, 'supervisor');
    const asSupervisor = connectCentral(resolveCentralUrl(supervisor.url, noEnv));
    open.push({ close: () => asSupervisor.end() });
    expect(await count(asSupervisor, 'calls')).toBe(22);
    expect(await count(asSupervisor, 'installs')).toBe(2);
    await expect(asSupervisor.query(`DELETE FROM ${SCHEMA}.calls`)).rejects.toMatchObject({ code: '42501' });
    await expect(asSupervisor.query(`UPDATE ${SCHEMA}.calls SET muted_ms = 0`)).rejects.toMatchObject({ code: '42501' });
  }, 60_000);
});

describe('command line', () => {
  it('serve --central syncs in the background and status --json reports it; export --central writes the team\'s file', async () => {
    const db = await centralDatabase();
    const writers = [await login(db), await login(db)];
    const supervisor = await login(db, 'supervisor');
    const dirs = [tempDir(), tempDir()];
    seedStore(dirs[0]!, { calls: 30, events: 60, operators: 1 });
    seedStore(dirs[1]!, { calls: 20, events: 40, operators: 1, start: Date.UTC(2025, 11, 2, 6, 0) });
    const serves = await Promise.all(dirs.map(async (dir, i) => startServe(['--data-dir', dir, '--port', String(await freePort()), '--central', writers[i]!.url])));
    try {
      for (const dir of dirs) {
        await expect
          .poll(async () => {
            const status = await runCli(['status', '--data-dir', dir, '--json']);
            return (JSON.parse(status.stdout) as { central?: { rowsWaiting: number; lastError: string | null; lastSyncAt: number | null } }).central;
          }, { timeout: 20_000, interval: 200 })
          .toMatchObject({ rowsWaiting: 0, lastError: null, lastSyncAt: expect.any(Number) });
      }
      const text = await runCli(['status', '--data-dir', dirs[0]!]);
      expect(text.stdout).toMatch(/central: writer_\d+@127\.0\.0\.1:\d+\/central_\d+, last sync .*, 0 rows waiting/);
    } finally {
      for (const serve of serves) {
        serve.child.kill('SIGTERM');
        await exited(serve.child);
      }
    }
    // The logs never show a password.
    for (const [i, serve] of serves.entries()) expect(serve.stderr()).not.toContain(new URL(writers[i]!.url).password);

    const out = path.join(tempDir(), 'team.csv');
    const result = await runCli(['export', '--central', supervisor.url, '--format', 'csv', '--tz', 'UTC', '--out', out]);
    expect(result.stderr).toMatch(/exported 50 rows \(calls\) from supervisor_\d+@/);
    const localA = await runCli(['export', '--data-dir', dirs[0]!, '--format', 'csv', '--tz', 'UTC', '--out', '-']);
    const localB = await runCli(['export', '--data-dir', dirs[1]!, '--format', 'csv', '--tz', 'UTC', '--out', '-']);
    const team = readFileSync(out, 'utf8');
    expect(team.split('\r\n')[0]).toBe(localA.stdout.split('\r\n')[0]);
    expect(lines(team, true)).toEqual([...lines(localA.stdout, true), ...lines(localB.stdout, true)].sort());
    const xlsx = path.join(tempDir(), 'team.xlsx');
    const workbook = await runCli(['export', '--central', supervisor.url, '--format', 'xlsx', '--tz', 'UTC', '--out', xlsx]);
    expect(workbook.stderr).toMatch(/exported 150 rows \(calls and events\)/);
  }, 90_000);
});

describe('local change numbers (store migration 5)', () => {
  it('a call gets a new change number when an exported value changes, and only then', () => {
    const store = companionStore('pc1', { calls: 3, events: 6, operators: 1 });
    const seqOf = (id: number): number => (store.db.prepare('SELECT changed_seq AS s FROM calls WHERE id = ?').get(id) as { s: number }).s;
    expect([1, 2, 3].map(seqOf)).toEqual([1, 2, 3]);
    store.db.prepare('UPDATE calls SET muted_ms = muted_ms WHERE id = 1').run();
    expect(seqOf(1)).toBe(1);
    store.db.prepare('UPDATE calls SET muted_ms = muted_ms + 1 WHERE id = 1').run();
    expect(seqOf(1)).toBe(4);
    store.db.prepare('UPDATE calls SET mic_muted_ms = 5 WHERE id = 2').run();
    expect(seqOf(2)).toBe(5);
    store.db.prepare('UPDATE calls SET owner_frame_id = owner_frame_id WHERE id = 3').run();
    expect(seqOf(3)).toBe(3);
  });
});
