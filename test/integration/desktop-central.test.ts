// The desktop app's side of the central PostgreSQL (docs/central.md), on a real throwaway server: the settings
// and the password kept through the keychain port (never in settings.json), the sync started from them and
// restarted live when they change, its status, and the tray's attention once it has failed for half an hour.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCentral, resolveCentralUrl } from '../../main/core/central/connection.ts';
import { addLogin, centralInit } from '../../main/core/central/schema.ts';
import { CENTRAL_ATTENTION_AFTER_MS } from '../../main/core/desktop/desktop-controller.ts';
import { Secrets } from '../../main/core/desktop/secrets.ts';
import { fakeSecrets, startDesktop as startDesktopIn, useDesktops } from '../helpers/desktop.ts';
import { startPostgres, type PgServer } from '../helpers/postgres.ts';
import { seedStore } from '../helpers/seed.ts';
import { DATABASE_FILE, openDatabase } from '../../main/core/store/database.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const startDesktop = useDesktops(tempDir);
let pg: PgServer;
let writer: { name: string; password: string };
let supervisor: { name: string; password: string };
const DB = 'companion';

beforeAll(async () => {
  pg = await startPostgres();
  await pg.psql(`CREATE DATABASE ${DB}`);
  const sql = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, DB), {}));
  try {
    await centralInit(sql, 'test');
    writer = { name: 'pc_olga', password: (await addLogin(sql, 'pc_olga', 'writer')).password };
    supervisor = { name: 'boss', password: (await addLogin(sql, 'boss', 'supervisor')).password };
  } finally {
    await sql.end();
  }
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

/** A URL without its password, as the settings keep it. */
const urlOf = (user: string, port = pg.port): string => `postgres://${user}@127.0.0.1:${port}/${DB}`;
/** One number from the central database, read as its administrator. */
async function adminNumber(text: string): Promise<number> {
  const sql = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, DB), {}));
  try {
    const [row] = await sql.query<{ n: string | number | null }>(text);
    return Number(row?.n ?? Number.NaN);
  } finally {
    await sql.end();
  }
}
const mutedOfFirstCall = (): Promise<number> => adminNumber('SELECT muted_ms AS n FROM operator_companion.calls WHERE local_id = 1');
const centralCalls = (): Promise<number> => adminNumber('SELECT count(*) AS n FROM operator_companion.calls');

describe('central sync settings', () => {
  it('keeps the password in the keychain only, syncs with it, and survives a restart of the app', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 40, events: 200, operators: 2 });
    const secrets = fakeSecrets();
    const settings = { central: { url: urlOf(writer.name), tls: 'disable' as const, caFile: '', readUrl: '' } };
    const { controller } = await startDesktopIn(dataDir, settings, { secrets });
    // No password yet (none in the URL, no PGPASSWORD): the sync says so in the status, one line.
    await expect.poll(() => controller.status().central?.lastError ?? '', { timeout: 15_000 }).toMatch(/password/i);

    await controller.handlers.setCentralPassword('centralSync', writer.password);
    await expect.poll(() => controller.status().central?.lastSyncAt ?? null, { timeout: 20_000 }).not.toBeNull();
    await expect.poll(() => controller.status().central?.rowsWaiting, { timeout: 20_000 }).toBe(0);
    expect(await centralCalls()).toBeGreaterThanOrEqual(40);
    expect(controller.status().central).toMatchObject({ target: `${writer.name}@127.0.0.1:${pg.port}/${DB}`, lastError: null, running: true });

    // Only the keychain's blob is on disk, private; settings.json names no password.
    const blob = path.join(controller.dataDir, 'central-sync.secret');
    expect(readFileSync(blob, 'utf8')).not.toContain(writer.password);
    if (process.platform !== 'win32') expect(statSync(blob).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(controller.dataDir, 'settings.json'), 'utf8')).not.toContain(writer.password);
    expect((await controller.handlers.getSettings()).centralPasswords).toEqual({ centralSync: true, centralRead: false });
    const before = await mutedOfFirstCall();
    await controller.stop();

    // The app starts again on the same folder and keychain: it syncs with the saved password, new rows included.
    const db = openDatabase(path.join(dataDir, DATABASE_FILE));
    db.prepare('UPDATE calls SET muted_ms = muted_ms + 1 WHERE id = 1').run();
    db.close();
    const { controller: again } = await startDesktopIn(dataDir, settings, { secrets });
    try {
      await expect.poll(() => again.status().central?.rowsWaiting, { timeout: 20_000 }).toBe(0);
      expect(again.status().central?.lastError).toBeNull();
      await expect.poll(mutedOfFirstCall, { timeout: 20_000 }).toBe(before + 1);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('refuses to keep a password without a real keychain, and writes nothing', async () => {
    const secrets = fakeSecrets();
    secrets.refuse = 'no keyring (GNOME Keyring or KWallet) is running on this desktop';
    const { controller } = await startDesktop({}, { secrets });
    await expect(controller.handlers.setCentralPassword('centralSync', 'secret')).rejects.toThrow(/no keyring/);
    expect(existsSync(path.join(controller.dataDir, 'central-sync.secret'))).toBe(false);
    expect(secrets.encrypted).toBe(0);
  });

  it('refuses a password in the URL', async () => {
    const { controller } = await startDesktop();
    expect(() => controller.applySettings({ central: { url: `postgres://${writer.name}:${writer.password}@127.0.0.1:${pg.port}/${DB}` } })).toThrow(/leave the password out of the URL/);
    expect(readFileSync(path.join(controller.dataDir, 'settings.json'), 'utf8')).not.toContain(writer.password);
  });

  it('applies a changed URL live, and puts the tray in attention after half an hour of failures', async () => {
    let shift = 0;
    const { controller } = await startDesktop({}, { now: () => Date.now() + shift });
    expect(controller.status().central).toBeNull();
    await controller.handlers.setCentralPassword('centralSync', writer.password);
    // Nothing listens on port 1: the sync fails, but for now only the status window says so.
    controller.applySettings({ central: { url: urlOf(writer.name, 1), tls: 'disable' } });
    await expect.poll(() => controller.status().central?.lastError ?? '', { timeout: 15_000 }).toMatch(/cannot reach PostgreSQL/);
    expect(controller.status().problems.map((p) => p.kind)).not.toContain('central_failed');

    shift = CENTRAL_ATTENTION_AFTER_MS + 60_000;
    const late = controller.status();
    expect(late.problem).toBe(true);
    expect(late.problems.find((p) => p.kind === 'central_failed')?.detail).toMatch(/^Syncing to the team log has failed for 31:\d\d: cannot reach PostgreSQL/);

    // The right port, applied live: the sync recovers and the problem goes.
    controller.applySettings({ central: { url: urlOf(writer.name), tls: 'disable' } });
    await expect.poll(() => controller.status().central?.lastError, { timeout: 20_000 }).toBeNull();
    expect(controller.status().problems.map((p) => p.kind)).not.toContain('central_failed');

    // Cleared: no sync, no status line.
    controller.applySettings({ central: { url: '' } });
    await expect.poll(() => controller.status().central).toBeNull();
  }, 60_000);

  it('a URL the sync cannot use is a problem at once, with the reason', async () => {
    const { controller } = await startDesktop({ central: { url: `postgres://${writer.name}@127.0.0.1:${pg.port}/${DB}?sslmod=require`, tls: 'prefer', caFile: '', readUrl: '' } });
    const status = controller.status();
    expect(status.central).toMatchObject({ running: false, lastError: expect.stringMatching(/parameter this app does not know: "sslmod"/) });
    expect(status.problems.find((p) => p.kind === 'central_failed')?.detail).toMatch(/^Syncing to the team log is stopped: /);
    void supervisor;
  });

  it('the daily export can write the whole team\'s file from the team log, with the read-only login', async () => {
    // A PC with a day of calls syncs them.
    const pcDir = tempDir();
    seedStore(pcDir, { calls: 30, events: 90, operators: 3, start: Date.UTC(2025, 10, 3, 12, 0, 0) });
    const pcSecrets = fakeSecrets();
    await new Secrets(pcDir, pcSecrets).save('centralSync', writer.password);
    const { controller: pc } = await startDesktopIn(pcDir, { central: { url: urlOf(writer.name), tls: 'disable', caFile: '', readUrl: '' } }, { secrets: pcSecrets });
    try {
      await expect.poll(() => pc.status().central?.rowsWaiting, { timeout: 20_000 }).toBe(0);
      expect(pc.status().central?.lastError).toBeNull();
    } finally {
      await pc.stop();
    }

    // The supervisor's app, the next morning: one file for the team, named apart from a PC's own.
    const folder = tempDir();
    const bossDir = tempDir();
    const bossSecrets = fakeSecrets();
    await new Secrets(bossDir, bossSecrets).save('centralRead', supervisor.password);
    const { controller: boss } = await startDesktopIn(
      bossDir,
      { central: { url: '', tls: 'disable', caFile: '', readUrl: urlOf(supervisor.name) }, scheduledExport: { enabled: true, time: '07:00', folder, format: 'csv', source: 'central' } },
      { secrets: bossSecrets, now: () => Date.UTC(2025, 10, 4, 12, 0, 0) },
    );
    try {
      await expect.poll(() => boss.settingsView().scheduledRuns.at(-1), { timeout: 20_000 }).toMatchObject({ day: '2025-11-03', ok: true, rows: 30 });
      const file = path.join(folder, 'operator-companion-team-2025-11-03.csv');
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(31);
      // The sync is off on the supervisor's PC (no sync URL).
      expect(boss.status().central).toBeNull();
    } finally {
      await boss.stop();
    }
  }, 60_000);

  it('a team daily export needs the read-only URL', async () => {
    const { controller } = await startDesktop();
    expect(() => controller.applySettings({ scheduledExport: { enabled: true, folder: tempDir(), source: 'central' } })).toThrow(/scheduledExport\.source: the whole team's daily export needs the read-only URL/);
  });
});
