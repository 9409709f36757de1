import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportToFile, openForExport } from '../../main/core/export/export-log.ts';
import { ScheduledExports, SCHEDULE_FILE } from '../../main/core/desktop/scheduled-export.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import type Database from 'better-sqlite3';

const tempDir = useTempDirs();
const dbs: Database.Database[] = [];
afterEach(() => dbs.splice(0).forEach((db) => db.close()));

function scheduler(dataDir: string, now: { value: number }): ScheduledExports {
  const db = openForExport(dataDir);
  dbs.push(db);
  return new ScheduledExports({ dataDir, timeZone: 'Europe/Moscow', now: () => now.value, run: (file, options) => exportToFile(db, options, file) });
}

describe('the daily export', () => {
  it('exports the previous local day once, after the set time, and records it', async () => {
    const dataDir = tempDir();
    // Calls every 15 minutes from 2025-12-01 00:00 UTC (03:00 Moscow) on: 300 calls, 75 hours.
    seedStore(dataDir, { calls: 300, events: 900, start: Date.UTC(2025, 11, 1), spacingMs: 15 * 60_000 });
    const folder = path.join(dataDir, 'share');
    mkdirSync(folder);
    const settings = { enabled: true, time: '07:00', folder, format: 'csv' as const };
    const now = { value: Date.UTC(2025, 11, 3, 3, 59) }; // 06:59 Moscow on the 3rd: too early
    const daily = scheduler(dataDir, now);
    expect(await daily.tick(settings)).toBeNull();

    now.value = Date.UTC(2025, 11, 3, 4, 0); // 07:00 Moscow
    const run = await daily.tick(settings);
    expect(run).toMatchObject({ day: '2025-12-02', ok: true, path: path.join(folder, 'operator-companion-2025-12-02.csv') });
    // The 2nd in Moscow is 2025-12-01T21:00Z to 2025-12-02T21:00Z: 96 calls of 15 minutes.
    expect(run?.rows).toBe(96);
    const lines = readFileSync(run!.path!, 'utf8').trim().split('\r\n');
    expect(lines).toHaveLength(97);
    expect(lines[1]).toMatch(/,2025-12-02T00:00:00\+03:00,/);
    expect(lines.at(-1)).toMatch(/,2025-12-02T23:45:00\+03:00,/);

    now.value += 60_000;
    expect(await daily.tick(settings)).toBeNull();
    expect(JSON.parse(readFileSync(path.join(dataDir, SCHEDULE_FILE), 'utf8'))).toHaveLength(1);
  });

  it('a failure is recorded with its reason, shown as the last failure, and retried later', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 10, events: 30 });
    const settings = { enabled: true, time: '00:00', folder: path.join(dataDir, 'missing-share'), format: 'xlsx' as const };
    const now = { value: Date.UTC(2025, 11, 5, 9, 0) };
    const daily = scheduler(dataDir, now);
    const failed = await daily.tick(settings);
    expect(failed).toMatchObject({ ok: false, day: '2025-12-04', error: expect.stringMatching(/ENOENT/) });
    expect(daily.lastFailure()).toMatchObject({ day: '2025-12-04' });
    now.value += 5 * 60_000;
    expect(await daily.tick(settings)).toBeNull(); // waits before trying again
    mkdirSync(settings.folder);
    now.value += 15 * 60_000;
    expect(await daily.tick(settings)).toMatchObject({ ok: true, day: '2025-12-04' });
    expect(daily.lastFailure()).toBeNull();
    expect(existsSync(path.join(settings.folder, 'operator-companion-2025-12-04.xlsx'))).toBe(true);
  });

  it('does nothing while disabled', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 1, events: 1 });
    const daily = scheduler(dataDir, { value: Date.UTC(2025, 11, 5, 12) });
    expect(await daily.tick({ enabled: false, time: '00:00', folder: dataDir, format: 'csv' })).toBeNull();
  });
});
