// Central PostgreSQL benchmark, against a throwaway server started here (as the tests do):
// 1. catch-up sync rate: one companion's backlog pushed by CentralSync (upserts, row-level security, one
//    transaction per batch) against a plain multi-row INSERT loop of the same rows (superuser, no keys checked,
//    no RLS, 1 000 rows a statement), measured in the same run;
// 2. a team's log generated in SQL (generate_series: 50 PCs, 1M calls a minute apart, 5 events each; not timed),
//    on which: `operator-companion export --central … --format csv` against `psql -c "\copy (same query) to
//    stdout csv"` (time and peak memory of each process, best of two alternating runs); the session log's
//    whole-team view: the first page and a page at offset 900 000 in every sort, both ways, and a month of
//    per-day totals (median of three after a warm-up), each against its target (issue 13).
// BENCH_CENTRAL_CALLS sets the sync's size (default 1 000 000 calls, one event each); BENCH_TEAM_CALLS the team's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { centralExportQuery, literal } from '../main/core/central/central-export.ts';
import { centralDailyTotals, centralQueryCalls } from '../main/core/central/central-log.ts';
import { SCHEMA } from '../main/core/central/migrations.ts';
import { LOG_SORT_COLUMNS } from '../main/core/log/session-log.ts';
import { connectCentral, resolveCentralUrl } from '../main/core/central/connection.ts';
import { addLogin, centralInit } from '../main/core/central/schema.ts';
import { CentralSync } from '../main/core/central/sync.ts';
import { SessionStore } from '../main/core/store/session-store.ts';
import { PG_BIN, PG_SUPERPASSWORD, startPostgres } from '../test/helpers/postgres.ts';
import { seedStore } from '../test/helpers/seed.ts';

const CLI = path.join(import.meta.dirname, '..', 'out', 'main', 'cli.js');
const CALLS = Number(process.env.BENCH_CENTRAL_CALLS ?? 1_000_000);
const TEAM_CALLS = Number(process.env.BENCH_TEAM_CALLS ?? 1_000_000);
const TEAM_PCS = 50;
const EVENTS_PER_CALL = 5;
const PAGE = 200;
const DEEP = Math.floor(TEAM_CALLS * 0.9);
const noEnv: NodeJS.ProcessEnv = {};

interface Run {
  seconds: number;
  peakMb: number;
  bytes: number;
}

/** Runs a command with stdout to a file, sampling its peak resident memory from /proc until it exits. */
function measure(command: string, args: string[], outFile: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out = createWriteStream(outFile);
    const written = new Promise<void>((done) => out.on('close', () => done()));
    child.stdout.pipe(out);
    let peakKb = 0;
    let stderr = '';
    const timer = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // Gone already.
      }
    }, 10);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${stderr}`));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      void written.then(() => resolve({ seconds, peakMb: peakKb / 1024, bytes: statSync(outFile).size }));
    });
  });
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits).padStart(9);

const pg = await startPostgres();
const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-central-bench-'));
try {
  await pg.psql('CREATE DATABASE bench');
  const adminUrl = pg.url(undefined, undefined, 'bench');
  const admin = connectCentral(resolveCentralUrl(adminUrl, noEnv));
  await centralInit(admin, 'bench');
  const writer = await addLogin(admin, 'bench_pc', 'writer');

  console.log(`Central PostgreSQL benchmark: ${CALLS} calls and ${CALLS} events from one companion, PostgreSQL 15 on this machine\n`);
  seedStore(dir, { calls: CALLS, events: CALLS, operators: 20 });
  const store = SessionStore.openInDir(dir);
  const rows = CALLS * 2;

  // 1a. The sync, as shipped (batches of 1 000 calls and 1 000 events).
  const sync = new CentralSync({ db: store.db, config: resolveCentralUrl(pg.url('bench_pc', writer.password, 'bench'), noEnv), appVersion: 'bench', idleMs: 50 });
  let started = performance.now();
  sync.start();
  await sync.caughtUp(30 * 60_000);
  const syncSeconds = (performance.now() - started) / 1000;
  await sync.stop();

  // 1b. The same rows, read the same way, by a plain multi-row INSERT loop into tables of the same shape.
  await admin.query('CREATE TABLE public.plain_calls (LIKE operator_companion.calls INCLUDING DEFAULTS INCLUDING IDENTITY)');
  await admin.query('CREATE TABLE public.plain_events (LIKE operator_companion.events INCLUDING DEFAULTS)');
  const install = sync.installId;
  const insertAll = async (table: string, columns: string[], source: IterableIterator<Record<string, unknown>>): Promise<void> => {
    const perStatement = 1_000;
    let batch: unknown[][] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const params: unknown[] = [];
      const values = batch.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
      await admin.query(`INSERT INTO public.${table} (install_id, ${columns.join(', ')}) VALUES ${values.join(', ')}`, params);
      batch = [];
    };
    for (const row of source) {
      batch.push([install, ...columns.map((c) => row[c])]);
      if (batch.length === perStatement) await flush();
    }
    await flush();
  };
  const callColumns = ['member_id', 'call_id', 'local_id', 'user_id', 'phone_number', 'direction', 'line_number', 'crm_entity_type', 'crm_entity_id', 'started_at', 'ended_at', 'end_reason', 'duration_ms', 'muted_ms', 'mute_count', 'longest_mute_ms', 'held_ms', 'hold_count', 'gap_ms', 'mic_muted_ms'];
  const eventColumns = ['event_id', 'local_id', 'member_id', 'user_id', 'app_sid', 'call_id', 'seq', 'name', 'source', 'payload', 'client_at', 'at', 'received_at'];
  started = performance.now();
  await insertAll('plain_calls', callColumns, store.db.prepare(
    `SELECT c.id AS local_id, p.member_id, c.call_id, o.user_id, c.phone_number, c.direction, c.line_number, c.crm_entity_type, c.crm_entity_id,
            c.started_at, c.ended_at, c.end_reason, c.duration_ms, c.muted_ms, c.mute_count, c.longest_mute_ms, c.held_ms, c.hold_count, c.gap_ms, c.mic_muted_ms
     FROM calls c JOIN portals p ON p.id = c.portal_id JOIN operators o ON o.id = c.operator_id ORDER BY c.changed_seq`).iterate() as IterableIterator<Record<string, unknown>>);
  await insertAll('plain_events', eventColumns, store.db.prepare(
    `SELECT e.id AS local_id, e.event_id, p.member_id, o.user_id, f.app_sid, c.call_id, e.seq, e.name, e.source, e.payload, e.client_at, e.at, e.received_at
     FROM events e JOIN frames f ON f.id = e.frame_id JOIN portals p ON p.id = f.portal_id JOIN operators o ON o.id = f.operator_id
     LEFT JOIN calls c ON c.id = e.call_id ORDER BY e.id`).iterate() as IterableIterator<Record<string, unknown>>);
  const plainSeconds = (performance.now() - started) / 1000;
  store.close();

  console.log('catch-up sync                          seconds     rows/s    ratio');
  console.log(`  CentralSync (upsert, RLS, batches)  ${fmt(syncSeconds)} ${fmt(rows / syncSeconds, 0)}  ${fmt(syncSeconds / plainSeconds)}x`);
  console.log(`  plain multi-row INSERT loop         ${fmt(plainSeconds)} ${fmt(rows / plainSeconds, 0)}  ${fmt(1)}x\n`);

  // 2. The team's log, generated in SQL.
  await pg.psql('CREATE DATABASE team');
  const teamAdmin = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, 'team'), noEnv));
  await centralInit(teamAdmin, 'bench');
  const boss = await addLogin(teamAdmin, 'bench_boss', 'supervisor');
  started = performance.now();
  await generateTeam(teamAdmin);
  const [{ mb }] = (await teamAdmin.query<{ mb: number }>("SELECT (pg_database_size('team') / 1e6)::int AS mb")) as [{ mb: number }];
  console.log(`\nThe team's log: ${TEAM_PCS} PCs, ${TEAM_CALLS} calls a minute apart, ${TEAM_CALLS * EVENTS_PER_CALL} events (generated in ${((performance.now() - started) / 1000).toFixed(0)} s, not timed; ${mb} MB)\n`);
  const bossUrl = pg.url('bench_boss', boss.password, 'team');

  // 2a. Central CSV export against psql's \copy of the same query (best of two alternating runs each).
  const csv = path.join(dir, 'team.csv');
  const copied = path.join(dir, 'copy.csv');
  const env = { ...process.env, PGPASSWORD: PG_SUPERPASSWORD };
  const { text } = centralExportQuery('calls', {}, literal);
  const exports: Run[] = [];
  const copies: Run[] = [];
  for (let round = 0; round < 2; round += 1) {
    exports.push(await measure(process.execPath, [CLI, 'export', '--central', bossUrl, '--format', 'csv', '--tz', 'Europe/Moscow', '--out', '-'], csv, process.env));
    copies.push(await measure(path.join(PG_BIN, 'psql'), ['-X', '-q', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'team', '-c', `\\copy (${text.replace(/\s+/g, ' ').trim()}) to stdout csv`], copied, env));
  }
  const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const exported = best(exports);
  const copy = best(copies);
  const ratio = exported.seconds / copy.seconds;
  console.log(`central CSV export of ${TEAM_CALLS} calls           seconds   peak MB      MB out    ratio`);
  console.log(`  export --central --format csv        ${fmt(exported.seconds)} ${fmt(exported.peakMb, 0)} ${fmt(exported.bytes / 1e6, 0)}  ${fmt(ratio)}x   (runs ${exports.map((r) => r.seconds.toFixed(2)).join(', ')} s)`);
  console.log(`  psql \\copy (same query) to csv       ${fmt(copy.seconds)} ${fmt(copy.peakMb, 0)} ${fmt(copy.bytes / 1e6, 0)}  ${fmt(1)}x   (runs ${copies.map((r) => r.seconds.toFixed(2)).join(', ')} s)`);
  console.log(`  target ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'}\n`);

  // 2b. The session log's whole-team view, as the window asks for it (the supervisor's login).
  const team = connectCentral(resolveCentralUrl(bossUrl, noEnv));
  await team.query('SELECT 1');
  const median = async (run: () => Promise<unknown>): Promise<number> => {
    await run();
    const times: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    return times.sort((a, b) => a - b)[1] as number;
  };
  let worst = 0;
  console.log(`whole-team view (${PAGE} calls a page)   first page ms (asc / desc)   page at ${DEEP} ms (asc / desc)`);
  for (const column of LOG_SORT_COLUMNS) {
    const times: number[] = [];
    for (const descending of [false, true]) {
      times.push(await median(() => centralQueryCalls(team, {}, { column, descending }, { offset: 0, limit: PAGE })));
      times.push(await median(() => centralQueryCalls(team, {}, { column, descending }, { offset: DEEP, limit: PAGE })));
    }
    worst = Math.max(worst, ...times);
    const [firstAsc, deepAsc, firstDesc, deepDesc] = times.map((t) => t.toFixed(1).padStart(7)) as [string, string, string, string];
    console.log(`  ${column.padEnd(16)}                ${firstAsc} / ${firstDesc}                ${deepAsc} / ${deepDesc}`);
  }
  const from = Date.UTC(2026, 0, 1);
  const to = Date.UTC(2026, 1, 1);
  const filtered: Array<[string, Parameters<typeof centralQueryCalls>[1]]> = [['one operator', { operator: '7' }], ['January 2026', { from, to }], ['phone contains 12345', { phone: '12345' }]];
  for (const [label, filter] of filtered) {
    const first = await median(() => centralQueryCalls(team, filter, { column: 'duration', descending: true }, { offset: 0, limit: PAGE }));
    const { total } = await centralQueryCalls(team, filter, { column: 'duration', descending: true }, { offset: 0, limit: PAGE });
    console.log(`  filtered: ${label.padEnd(22)} first page by duration ${first.toFixed(1).padStart(7)} ms (${total} calls; not in the target)`);
  }
  const month = await median(() => centralDailyTotals(team, { from, to }, 'Europe/Moscow'));
  const { total: monthCalls } = await centralQueryCalls(team, { from, to }, { column: 'startedAt', descending: false }, { offset: 0, limit: 1 });
  console.log(`  per-day totals, January 2026 (${monthCalls} calls, Europe/Moscow)    ${month.toFixed(0)} ms`);
  console.log(`  targets: slowest page ${worst.toFixed(1)} ms (≤ 200: ${worst <= 200 ? 'met' : 'MISSED'}, ${(worst / 200).toFixed(2)}x of it); ` +
    `month of totals ${month.toFixed(0)} ms (≤ 500: ${month <= 500 ? 'met' : 'MISSED'}, ${(month / 500).toFixed(2)}x of it); load average ${os.loadavg()[0]!.toFixed(1)}`);
  await team.end();
  await teamAdmin.end();
  await admin.end();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pg.stop();
}

/**
 * The team's log in SQL, as 50 PCs' syncs would have left it: each PC's portal and operator, calls a minute apart
 * round the PCs (each with figures that vary from call to call, some without a number), and each call's events in
 * order (opened, muted, unmuted, held, hung up; inserted call after call, as syncs insert them). Then VACUUM
 * ANALYZE, as autovacuum would have done by then.
 */
async function generateTeam(sql: ReturnType<typeof connectCentral>): Promise<void> {
  const install = (k: string): string => `md5('pc' || ${k})::uuid`;
  const start = Date.UTC(2025, 11, 1, 6, 0, 0);
  const calls = `SELECT i, ${start}::int8 + i * 60000 AS t, 30000 + (i % 600) * 1000 AS d, (i % 7) * 5000 AS m, (i % 5) * 3000 AS h
    FROM generate_series(1::int8, ${TEAM_CALLS}) i`;
  await sql.query(`INSERT INTO ${SCHEMA}.installs (install_id, login, hostname, app_version)
    SELECT ${install('k')}, 'bench_pc_' || k, 'pc-' || k, 'bench' FROM generate_series(0, ${TEAM_PCS - 1}) k`);
  await sql.query(`INSERT INTO ${SCHEMA}.portals (install_id, member_id, domain, first_seen_at)
    SELECT ${install('k')}, 'bench', CASE WHEN k % 10 = 0 THEN 'branch.bitrix24.ru' ELSE 'acme.bitrix24.com' END, ${start} FROM generate_series(0, ${TEAM_PCS - 1}) k`);
  await sql.query(`INSERT INTO ${SCHEMA}.operators (install_id, member_id, user_id, name)
    SELECT ${install('k')}, 'bench', (k + 1)::text, 'Оператор ' || (k + 1) FROM generate_series(0, ${TEAM_PCS - 1}) k`);
  await sql.query(`INSERT INTO ${SCHEMA}.calls (install_id, member_id, call_id, local_id, user_id, phone_number, direction, line_number,
      crm_entity_type, crm_entity_id, started_at, ended_at, end_reason, duration_ms, muted_ms, mute_count, longest_mute_ms,
      held_ms, hold_count, gap_ms, mic_muted_ms)
    SELECT ${install(`(i % ${TEAM_PCS})`)}, 'bench', 'externalCall.bench.' || i, i / ${TEAM_PCS} + 1, (i % ${TEAM_PCS} + 1)::text,
           CASE WHEN i % 20 = 0 THEN NULL ELSE '+7495' || lpad((i % 10000000)::text, 7, '0') END,
           CASE WHEN i % 3 = 0 THEN 'outgoing' ELSE 'incoming' END, CASE WHEN i % 2 = 0 THEN '101' END,
           CASE WHEN i % 4 = 0 THEN 'CONTACT' END, CASE WHEN i % 4 = 0 THEN (i % 5000)::text END,
           t, t + d, 'hangup', d, m, (m > 0)::int, m, h, (h > 0)::int, CASE WHEN i % 11 = 0 THEN 2000 ELSE 0 END,
           CASE WHEN i % 2 = 0 THEN m END
    FROM (${calls}) g`);
  await sql.query(`INSERT INTO ${SCHEMA}.events (install_id, event_id, local_id, member_id, user_id, app_sid, call_id, seq, name, source, payload, client_at, at, received_at)
    SELECT ${install(`(i % ${TEAM_PCS})`)}, 'bench-' || i || '-' || e, (i / ${TEAM_PCS}) * ${EVENTS_PER_CALL} + e, 'bench', (i % ${TEAM_PCS} + 1)::text,
           'tab-' || (i % ${TEAM_PCS}), 'externalCall.bench.' || i, (i / ${TEAM_PCS}) * ${EVENTS_PER_CALL} + e,
           (ARRAY['initialized', 'muteButtonClick', 'muteButtonClick', 'holdButtonClick', 'hangupButtonClick'])[e], 'card',
           CASE e WHEN 1 THEN '{"callId":"externalCall.bench.' || i || '"}' WHEN 2 THEN '{"muted":true}' WHEN 3 THEN '{"muted":false}' WHEN 4 THEN '{"held":true}' END,
           a, a, a + 5
    FROM (SELECT i, e, CASE e WHEN 1 THEN t WHEN 2 THEN t + 1000 WHEN 3 THEN t + 1000 + m WHEN 4 THEN t + d - h ELSE t + d END AS a
          FROM (${calls}) g CROSS JOIN LATERAL generate_series(1, ${EVENTS_PER_CALL}) e) x`);
  await sql.query('VACUUM ANALYZE');
}
