// The central CSV export's COPY path (main/core/central/central-csv.ts writes CSV from PostgreSQL's binary rows)
// against a real throwaway PostgreSQL: one PC's log, full of cells that exercise every rule of the shared CSV
// writer (formula starts, phone numbers, quotes, delimiters, line breaks, Unicode spaces and format characters,
// Cyrillic and other scripts, empty text, NULLs, times before 1900 and after 2090 and outside any calendar,
// seconds that round on .5), is synced, then exported from both stores: the two files must be the same bytes, in
// every zone (offsets with seconds, half hours, DST) and with both delimiters. Also: filters holding quotes and
// backslashes (they become literals inside COPY), the cursor path for columns the byte writer cannot take, and a
// cancelled COPY.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCopyCsv } from '../../main/core/central/central-csv.ts';
import { centralCopyStatement, centralExportQuery, centralSource, literal } from '../../main/core/central/central-export.ts';
import { connectCentral, resolveCentralUrl, type Sql } from '../../main/core/central/connection.ts';
import { addLogin, centralInit } from '../../main/core/central/schema.ts';
import { CentralSync } from '../../main/core/central/sync.ts';
import { CALL_COLUMNS, type Column } from '../../main/core/export/columns.ts';
import { formatInstant, offsetAt } from '../../main/core/export/time-zone.ts';
import { streamExport, type ExportOptions, type ExportSource } from '../../main/core/export/export-log.ts';
import type { LogFilter } from '../../main/core/log/log-filter.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { startPostgres, type PgServer } from '../helpers/postgres.ts';
import { seedStore } from '../helpers/seed.ts';

const DB = 'companion';
let pg: PgServer;
let dir: string;
let store: SessionStore;
let team: Sql;

/** Text that the CSV rules treat differently: each one lands in every text column of some row. */
const HOSTILE = [
  '', ' ', 'plain', '=1+2', '+74951234567', '+7 495 123', '+', `+${'1'.repeat(30)}`, `+${'1'.repeat(31)}`, '-5', '@SUM(A1)',
  ' =x', '\t=x', '\tx', '\r', '\n=x', '\u00a0=x', '\u200b=x', '\ufeff+1', '\u2028@', '\u3000-', '\u0001=', 'x\u0085y',
  'a,b', 'a;b', 'a"b', '"', '""', 'line\nbreak', 'cr\rlf\n', 'Иван Петров', 'Иван, "Ваня"', '\u052fx', '\u0530x', 'Աշոտ',
  'é=', '日本語', '😀 smile', '\\', "'quoted", '=HYPERLINK("http://x")', '٠١٢', 'x'.repeat(300), `"${'y'.repeat(200)}"`,
];
/** Instants the time formatting must agree on: LMT with odd seconds, DST edges, half hours, far future, no calendar. */
const INSTANTS = [
  Date.UTC(1890, 5, 1, 12, 0, 7, 999), Date.UTC(1911, 0, 1, 0, 9, 20), Date.UTC(1937, 6, 1, 0, 0, 0, 500), Date.UTC(1960, 2, 3, 4, 5, 6),
  Date.UTC(1971, 11, 31, 23, 59, 59, 999), Date.UTC(2026, 2, 8, 6, 59, 59, 999), Date.UTC(2026, 2, 8, 7, 0, 0), Date.UTC(2026, 2, 29, 0, 59, 59),
  Date.UTC(2026, 2, 29, 1, 0, 1), Date.UTC(2026, 9, 25, 0, 30, 0), Date.UTC(2026, 10, 1, 5, 30, 0), Date.UTC(2026, 3, 5, 14, 45, 30),
  Date.UTC(2093, 6, 4, 12, 0, 0), -1, 0, 1_700_000_000_123,
];
/** Times no calendar can hold: written as the number they are. */
const NOT_INSTANTS = [-62_135_596_800_000, 253_402_300_799_999, 1e17, -1e16];
const ZONES = ['UTC', 'Europe/Moscow', 'America/New_York', 'Europe/Amsterdam', 'Africa/Monrovia', 'Asia/Kolkata', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham'];

class Collect extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    callback();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Exports to memory; `copied` tells whether the source wrote the CSV itself (the COPY path). */
async function exportBytes(source: Parameters<typeof streamExport>[0], options: ExportOptions): Promise<Buffer> {
  const out = new Collect();
  await streamExport(source, options, out);
  return out.bytes;
}

/** The central source, recording whether its COPY writer took the export. */
function watched(options: ExportOptions): { source: ExportSource; copied: () => boolean } {
  const source = centralSource(team, options);
  let copied = false;
  const writeCsv = source.writeCsv!.bind(source);
  source.writeCsv = (...args) => {
    const own = writeCsv(...args);
    copied = own !== null;
    return own;
  };
  return { source, copied: () => copied };
}

beforeAll(async () => {
  pg = await startPostgres();
  await pg.psql(`CREATE DATABASE ${DB}`);
  const admin = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, DB), {}));
  let writer: string;
  let supervisor: string;
  try {
    await centralInit(admin, 'test');
    writer = pg.url('pc1', (await addLogin(admin, 'pc1', 'writer')).password, DB);
    supervisor = pg.url('boss', (await addLogin(admin, 'boss', 'supervisor')).password, DB);
  } finally {
    await admin.end();
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-central-export-'));
  seedStore(dir, { calls: 2 * HOSTILE.length, events: 6 * HOSTILE.length, operators: 3 });
  store = SessionStore.openInDir(dir);
  const db = store.db;
  const h = (i: number): string => HOSTILE[i % HOSTILE.length] as string;
  db.prepare('UPDATE portals SET domain = ?').run('acme;"x",.bitrix24.com');
  for (const [i, id] of (db.prepare('SELECT id FROM operators ORDER BY id').pluck().all() as number[]).entries()) {
    db.prepare('UPDATE operators SET user_id = ?, name = ? WHERE id = ?').run(`${h(i + 3)}#${i}`, i === 2 ? null : h(i + 30), id);
  }
  for (const [i, id] of (db.prepare('SELECT id FROM frames ORDER BY id').pluck().all() as number[]).entries()) {
    db.prepare('UPDATE frames SET app_sid = ? WHERE id = ?').run(`${h(i + 9)}#${i}`, id);
  }
  const calls = db.prepare('SELECT id, started_at AS startedAt FROM calls ORDER BY id').all() as Array<{ id: number; startedAt: number }>;
  const updateCall = db.prepare(`UPDATE calls SET call_id = ?, phone_number = ?, direction = ?, line_number = ?, crm_entity_type = ?, crm_entity_id = ?,
    end_reason = ?, started_at = ?, ended_at = ?, duration_ms = ?, muted_ms = ?, longest_mute_ms = ?, held_ms = ?, gap_ms = ?, mic_muted_ms = ? WHERE id = ?`);
  for (const [i, call] of calls.entries()) {
    const startedAt = i % 3 === 0 ? (INSTANTS[i % INSTANTS.length] as number) : call.startedAt + (i % 1000);
    const endedAt = i % 11 === 0 ? (NOT_INSTANTS[i % NOT_INSTANTS.length] as number) : i % 13 === 0 ? null : startedAt + 1_050 * i;
    // Durations that round on .5 (150 ms → 0.2 s), muted shares on .5 of a per mille, negative figures.
    const duration = [150, 250, 1_049, 1_050, 2_000, 0, -150, 123_456_789][i % 8] as number;
    const muted = [1, 3, 0, 1_050, 2_000, 7, -50, 61_728_394][i % 8] as number;
    updateCall.run(i === 0 ? '' : `${h(i)}#${i}`, i % 9 === 4 ? null : h(i + 1), h(i + 2), h(i + 5), h(i + 7), i % 4 === 0 ? null : h(i + 11),
      h(i + 13), startedAt, endedAt, duration, muted, muted * 2, [0, 5, 149, 151][i % 4], [-1, 0, 50, 1_000_049][i % 4], i % 2 === 0 ? null : muted + 49, call.id);
  }
  const events = db.prepare('SELECT id FROM events ORDER BY id').pluck().all() as number[];
  const updateEvent = db.prepare('UPDATE events SET event_id = ?, seq = ?, name = ?, source = ?, payload = ?, client_at = ?, at = ?, received_at = ? WHERE id = ?');
  for (const [i, id] of events.entries()) {
    const at = INSTANTS[i % INSTANTS.length] as number;
    updateEvent.run(`${h(i)}#${i}`, i % 5 === 0 ? null : i * 7 - 20, h(i + 2) || 'name', h(i + 4) || 'card', i % 6 === 0 ? null : h(i + 6),
      i % 4 === 0 ? null : i % 9 === 0 ? (NOT_INSTANTS[i % NOT_INSTANTS.length] as number) : at + 333, at, at + (i % 7) * 499, id);
  }
  const sync = new CentralSync({ db, config: resolveCentralUrl(writer, {}), appVersion: 'test', batchRows: 40, idleMs: 100, backoff: { minMs: 100, maxMs: 1_000 } });
  sync.start();
  try {
    await sync.caughtUp();
  } finally {
    await sync.stop();
  }
  team = connectCentral(resolveCentralUrl(supervisor, {}));
}, 120_000);

afterAll(async () => {
  await team?.end();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await pg?.stop();
});

describe('central CSV export through COPY', () => {
  it('writes the same bytes as the local export of the same PC: hostile cells, every zone, both delimiters, calls and events', async () => {
    let compared = 0;
    for (const kind of ['calls', 'events'] as const) {
      for (const timeZone of ZONES) {
        for (const csvDelimiter of [',', ';'] as const) {
          const options: ExportOptions = { kind, format: 'csv', timeZone, csvDelimiter };
          const local = await exportBytes(store.db, options);
          const { source, copied } = watched(options);
          const central = await exportBytes(source, options);
          expect(copied(), `${kind} ${timeZone}`).toBe(true);
          // Where they differ, the first differing line is what the failure shows.
          const at = local.findIndex((byte, i) => byte !== central[i]);
          if (at >= 0 || local.length !== central.length) {
            const line = (b: Buffer): string => b.toString('utf8', b.lastIndexOf(10, Math.max(0, at)) + 1, b.indexOf(10, Math.max(0, at)));
            expect(line(central), `${kind} ${timeZone} ${csvDelimiter}`).toBe(line(local));
          }
          expect(central.equals(local), `${kind} ${timeZone} ${csvDelimiter}`).toBe(true);
          compared += 1;
        }
      }
    }
    expect(compared).toBe(2 * ZONES.length * 2);
    // The data really holds what the rules are about.
    const text = (await exportBytes(store.db, { kind: 'calls', format: 'csv', timeZone: 'Africa/Monrovia' })).toString('utf8');
    expect(text).toContain('"=""+74951234567"""');
    expect(text).toContain("'=1+2");
    // Monrovia was 44 min 30 s behind UTC until 1972: local seconds move, the offset shows rounded.
    const lmt = Date.UTC(1960, 2, 3, 4, 5, 6);
    expect(offsetAt(lmt, 'Africa/Monrovia') % 60_000).not.toBe(0);
    expect(text).toContain(`,${formatInstant(lmt, 'Africa/Monrovia')},`);
    expect(text).toContain(',100000000000000000,');
    expect(text).toContain('"Иван, ""Ваня"""');
  });

  it('filters with quotes, backslashes and LIKE wildcards select the same calls as locally', async () => {
    const filters: LogFilter[] = [
      { phone: "'" }, { phone: '\\' }, { phone: '%' }, { phone: '_' }, { phone: '"' }, { operator: `${HOSTILE[3]}#0` }, { operator: "x' OR '1'='1" },
      { portal: 'acme;"x",.bitrix24.com' }, { minMutedPercent: 49.999 }, { from: Date.UTC(2000, 0, 1), to: Date.UTC(2030, 0, 1) }, { from: -5, to: 1 },
    ];
    for (const filter of filters) {
      for (const kind of ['calls', 'events'] as const) {
        const options: ExportOptions = { kind, format: 'csv', timeZone: 'Europe/Moscow', ...filter };
        const { source, copied } = watched(options);
        const central = await exportBytes(source, options);
        expect(copied()).toBe(true);
        expect(central.toString('utf8'), JSON.stringify(filter)).toBe((await exportBytes(store.db, options)).toString('utf8'));
        expect(await source.count(kind), JSON.stringify(filter)).toBe(central.toString('utf8').split('\r\n').length - 2);
      }
    }
    // Some of them match rows, so the comparison above was not of empty files only.
    const some = await exportBytes(centralSource(team, { kind: 'calls', format: 'csv', timeZone: 'UTC', phone: '"' }), { kind: 'calls', format: 'csv', timeZone: 'UTC', phone: '"' });
    expect(some.toString('utf8').split('\r\n').length).toBeGreaterThan(3);
    expect(() => literal('a\u0000b')).toThrow(/NUL/);
    expect(literal("it's \\ fine")).toBe("E'it''s \\\\ fine'");
  });

  it('falls back to the cursor and the shared writer where a column does not suit the byte writer', async () => {
    const fields = centralExportQuery('calls', {}, literal).fields;
    const calls = CALL_COLUMNS as ReadonlyArray<Column<unknown>>;
    expect(compileCopyCsv(fields, calls, ',', 'UTC')).not.toBeNull();
    type Row = Record<string, string | number | null>;
    const joined: Column<Row> = { name: 'who', kind: 'text', value: (r) => `${r.operatorName} (${r.operatorUserId})` };
    const fromText: Column<Row> = { name: 'phone_length', kind: 'number', value: (r) => String(r.phoneNumber ?? '').length };
    const fallback: Column<Row> = { name: 'name_or_id', kind: 'text', value: (r) => r.operatorName ?? r.operatorUserId ?? null };
    for (const column of [joined, fromText, fallback]) {
      expect(compileCopyCsv(fields, [...calls, column as Column<unknown>], ',', 'UTC'), column.name).toBeNull();
    }
  });

  it('a cancelled COPY stops on the server and closes its connection', async () => {
    // Every event a million times over (generate_series is read once, then rescanned): rows come at once, for long.
    const HUGE_COPY = 'COPY (SELECT e.event_id, g FROM operator_companion.events e CROSS JOIN generate_series(1, 1000000) g) TO STDOUT';
    const cancel = new AbortController();
    let messages = 0;
    const copying = team.copyOut(
      HUGE_COPY,
      () => {
        messages += 1;
        if (messages === 1_000) cancel.abort(new Error('cancelled by the test'));
        return null;
      },
      () => null,
      cancel.signal,
    );
    await expect(copying).rejects.toThrow(/cancelled by the test/);
    expect(messages).toBeLessThan(1_000_000);
    const copies = async (): Promise<number> => Number(await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT e.event_id%' AND pid <> pg_backend_pid()"));
    const until = Date.now() + 10_000;
    while ((await copies()) > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await copies()).toBe(0);
    // And an error from the writer does the same, with its own message.
    await expect(team.copyOut(HUGE_COPY, () => {
      throw new Error('the writer failed');
    }, () => null)).rejects.toThrow(/the writer failed/);
    expect(centralCopyStatement('calls', { phone: "'" })).toMatch(/^COPY \(SELECT .* TO STDOUT \(FORMAT binary\)$/s);
  });
});
