// Exports read back by independent readers (exceljs and LibreOffice for XLSX, the sqlite3 tool for CSV), totals
// checked against the store; progress on stderr; a cancelled export leaves no file behind.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { openForExport, streamExport } from '../../main/core/export/export-log.ts';
import { queryCalls } from '../../main/core/log/session-log.ts';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();

describe('XLSX export', () => {
  it("has a Calls and an Events sheet with typed cells, and its totals equal the store's", async () => {
    const dataDir = tempDir();
    const seeded = seedStore(dataDir, { calls: 300, events: 3_000, operators: 3 });
    const file = path.join(dataDir, 'log.xlsx');
    const result = await runCli(['export', '--data-dir', dataDir, '--format', 'xlsx', '--tz', 'Europe/Moscow', '--out', file]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stderr).toMatch(/exported 3300 rows \(calls and events\)/);

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file);
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['Calls', 'Events']);
    const calls = workbook.getWorksheet('Calls')!;
    const header = (calls.getRow(1).values as unknown[]).slice(1);
    expect(header.slice(0, 3)).toEqual(['call_id', 'portal', 'operator_id']);
    expect(calls.rowCount).toBe(301);
    const column = (name: string): number => header.indexOf(name) + 1;
    let muted = 0;
    let held = 0;
    calls.eachRow((row, n) => {
      if (n === 1) return;
      muted += row.getCell(column('muted_s')).value as number;
      held += row.getCell(column('held_s')).value as number;
    });
    expect(muted).toBeCloseTo(seeded.mutedMs / 1000, 6);
    expect(held).toBeCloseTo(seeded.heldMs / 1000, 6);
    // Times are real date cells, shown in the chosen zone (Moscow is UTC+3 all year).
    const started = calls.getRow(2).getCell(column('started_at')).value as Date;
    expect(started).toBeInstanceOf(Date);
    expect(started.toISOString()).toBe(new Date(Date.UTC(2025, 11, 1, 6, 1, 0) + 3 * 3_600_000).toISOString());
    expect(calls.getRow(2).getCell(column('operator_name')).value).toBe('Оператор 1');
    expect(calls.getRow(2).getCell(column('phone_number')).value).toBe('+74951000001');
    expect(workbook.getWorksheet('Events')!.rowCount).toBe(seeded.events + 1);
  });
});

const soffice = ['/usr/bin/soffice', '/usr/bin/libreoffice'].find((p) => existsSync(p));

describe('XLSX in an office suite', () => {
  it.skipIf(!soffice)('LibreOffice opens the workbook: both sheets, dates in the chosen zone, totals equal the store\'s', async () => {
    const dataDir = tempDir();
    const seeded = seedStore(dataDir, { calls: 120, events: 600, operators: 3 });
    const file = path.join(dataDir, 'log.xlsx');
    expect((await runCli(['export', '--data-dir', dataDir, '--format', 'xlsx', '--tz', 'Europe/Moscow', '--out', file])).code).toBe(0);
    const out = path.join(dataDir, 'converted');
    // Every sheet to CSV (UTF-8), the way a person opening the file in Calc would see it.
    execFileSync(soffice!, ['--headless', '--convert-to', 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1', file, '--outdir', out], {
      env: { ...process.env, HOME: dataDir },
      stdio: 'ignore',
      timeout: 60_000,
    });
    const calls = readFileSync(path.join(out, 'log-Calls.csv'), 'utf8').trim().split('\n').map((line) => line.split(','));
    const header = calls[0]!;
    expect(calls).toHaveLength(121);
    const column = (name: string): number => header.indexOf(name);
    const sum = (name: string): number => calls.slice(1).reduce((total, row) => total + Number(row[column(name)]), 0);
    expect(sum('muted_s')).toBeCloseTo(seeded.mutedMs / 1000, 6);
    expect(sum('held_s')).toBeCloseTo(seeded.heldMs / 1000, 6);
    expect(calls[1]![column('started_at')]).toBe('2025-12-01 09:01:00'); // 06:01 UTC in Moscow
    expect(calls[1]![column('operator_name')]).toBe('Оператор 1');
    expect(readFileSync(path.join(out, 'log-Events.csv'), 'utf8').trim().split('\n')).toHaveLength(seeded.events + 1);
  }, 90_000);
});

describe('filters', () => {
  it('an export holds exactly the calls the session-log filters select, with their events', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 200, events: 1_000, operators: 4 });
    const db = openForExport(dataDir);
    try {
      const filter = { phone: '00004', minMutedPercent: 10 };
      const { rows } = queryCalls(db, filter, { column: 'startedAt', descending: false }, { offset: 0, limit: 1_000 });
      const out = new PassThrough();
      let text = '';
      out.on('data', (d: Buffer) => (text += d.toString()));
      await streamExport(db, { kind: 'calls', format: 'jsonl', timeZone: 'UTC', ...filter }, out);
      const exported = text.trim().split('\n').map((l) => (JSON.parse(l) as { call_id: string }).call_id);
      expect(rows.length).toBeGreaterThan(0);
      expect(exported).toEqual(rows.map((r) => r.callId));
      text = '';
      await streamExport(db, { kind: 'events', format: 'jsonl', timeZone: 'UTC', ...filter }, out);
      const eventCalls = new Set(text.trim().split('\n').map((l) => (JSON.parse(l) as { call_id: string }).call_id));
      expect([...eventCalls].sort()).toEqual(rows.map((r) => r.callId).sort());
    } finally {
      db.close();
    }
  });
});

describe('long exports', () => {
  it('report progress on stderr, and a cancelled one leaves no file', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 40_000, events: 600_000 });
    const file = path.join(dataDir, 'events.csv');
    const child = spawn(process.execPath, [CLI, 'export', '--data-dir', dataDir, '--format', 'csv', '--kind', 'events', '--out', file], { stdio: 'pipe' });
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!interrupted && /exporting: \d+%/.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toMatch(/exporting: \d+% \(\d+ of 600000 rows\)/);
    expect(code).toBe(130);
    expect(stderr).toMatch(/export cancelled; no file was written/);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dataDir).filter((f) => f.includes('.partial'))).toEqual([]);
  }, 60_000);

  it.each(['csv', 'xlsx'] as const)('a cancelled %s export does not wait for an output that stopped taking data (a hung share)', async (format) => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 2_000, events: 20_000 });
    const db = openForExport(dataDir);
    const cancel = new AbortController();
    // An output whose writes never complete, as a file on a network share that went away: once its buffer is
    // full, it never drains. The cancel comes once the export is waiting on it.
    const stalled = new Writable({ highWaterMark: 16 * 1024, write: () => setImmediate(() => cancel.abort(new Error('cancelled by the supervisor'))) });
    try {
      await expect(streamExport(db, { format, kind: 'events', timeZone: 'UTC', signal: cancel.signal }, stalled)).rejects.toThrow('cancelled by the supervisor');
    } finally {
      db.close();
    }
  });
});
