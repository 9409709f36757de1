// Central PostgreSQL benchmark, against a throwaway server started here (as the tests do):
// 1. catch-up sync rate: one companion's backlog pushed by CentralSync (upserts, row-level security, one
//    transaction per batch) against a plain multi-row INSERT loop of the same rows (superuser, no keys checked,
//    no RLS, 1 000 rows a statement), measured in the same run;
// 2. `operator-companion export --central … --format csv` against `psql -c "\copy (same query) to stdout csv"`,
//    time and peak memory (VmHWM) of each process.
// BENCH_CENTRAL_CALLS sets the size (default 1 000 000 calls, one event each).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { centralExportQuery, literal } from '../main/core/central/central-export.ts';
import { connectCentral, resolveCentralUrl } from '../main/core/central/connection.ts';
import { addLogin, centralInit } from '../main/core/central/schema.ts';
import { CentralSync } from '../main/core/central/sync.ts';
import { SessionStore } from '../main/core/store/session-store.ts';
import { PG_BIN, PG_SUPERPASSWORD, startPostgres } from '../test/helpers/postgres.ts';
import { seedStore } from '../test/helpers/seed.ts';

const CLI = path.join(import.meta.dirname, '..', 'out', 'main', 'cli.js');
const CALLS = Number(process.env.BENCH_CENTRAL_CALLS ?? 1_000_000);
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
  const supervisor = await addLogin(admin, 'bench_supervisor', 'supervisor');

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
  await admin.query('CREATE TABLE public.plain_calls (LIKE operator_companion.calls INCLUDING DEFAULTS)');
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

  // 2. Central CSV export against psql's \copy of the same query.
  const csv = path.join(dir, 'team.csv');
  const copied = path.join(dir, 'copy.csv');
  const env = { ...process.env, PGPASSWORD: PG_SUPERPASSWORD };
  const exported = await measure(process.execPath, [CLI, 'export', '--central', pg.url('bench_supervisor', supervisor.password, 'bench'), '--format', 'csv', '--tz', 'UTC', '--out', '-'], csv, process.env);
  const { text } = centralExportQuery('calls', {}, literal);
  const copy = await measure(path.join(PG_BIN, 'psql'), ['-X', '-q', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'bench', '-c', `\\copy (${text.replace(/\s+/g, ' ').trim()}) to stdout csv`], copied, env);
  console.log(`central CSV export of ${CALLS} calls       seconds   peak MB      MB out    ratio`);
  console.log(`  export --central --format csv        ${fmt(exported.seconds)} ${fmt(exported.peakMb, 0)} ${fmt(exported.bytes / 1e6, 0)}  ${fmt(exported.seconds / copy.seconds)}x`);
  console.log(`  psql \\copy (same query) to csv       ${fmt(copy.seconds)} ${fmt(copy.peakMb, 0)} ${fmt(copy.bytes / 1e6, 0)}  ${fmt(1)}x`);
  await admin.end();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pg.stop();
}
