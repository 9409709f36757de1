// Tray → "Save diagnostics…" against the real core: the desktop app's log file receives the core's events
// (refused sockets, pairing), and the archive, read back by Debian's `unzip`, holds the logs, status, versions,
// settings and store counts, and no phone number anywhere.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../main/core/companion.ts';
import { approveInPairingWindow, useDesktops } from '../helpers/desktop.ts';
import { useWorkers } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const ORIGIN = 'https://worker.test';
const PHONE = '+74951234567';
const tempDir = useTempDirs();
const desktop = useDesktops(tempDir);
const newWorker = useWorkers();

const unzip = (...args: string[]): string => execFileSync('unzip', args, { encoding: 'utf8' });

describe('diagnostics', () => {
  it('logs the core to DATA_DIR/logs and saves one archive with logs, status, versions, settings and counts', async () => {
    const { controller, platform } = await desktop({ allowedOrigins: [ORIGIN] });
    const port = controller.status().port;
    // A socket from an origin nobody allowed: refused before the upgrade, and logged (this used to vanish).
    await expect(newWorker({ port, origin: 'https://evil.test' }).open()).rejects.toThrow(/HTTP 403/);
    const w = await approveInPairingWindow(controller, newWorker({ port, origin: ORIGIN }));
    await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: PHONE, CALL_DIRECTION: 'incoming' });
    await expect.poll(() => controller.status().state).toBe('live');

    const logFile = path.join(controller.dataDir, 'logs', 'companion.log');
    const logLines = (): Array<Record<string, unknown>> => readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    await expect.poll(() => logLines().map((l) => `${String(l.module)}.${String(l.event)}`)).toEqual(
      expect.arrayContaining(['Desktop.started', 'Relay.upgradeRejected', 'Pairing.pairingRequested']),
    );
    expect(logLines().find((l) => l.event === 'upgradeRejected')).toMatchObject({ level: 'warn' });
    if (process.platform !== 'win32') expect(statSync(logFile).mode & 0o777).toBe(0o600);

    const result = await controller.saveDiagnostics();
    if (!result.saved) throw new Error('not saved');
    const archive = result.path;
    expect(path.dirname(archive)).toBe(controller.dataDir);
    expect(path.basename(archive)).toMatch(/^operator-companion-diagnostics-\d{4}-\d{2}-\d{2}-\d{4}\.zip$/);
    expect(platform.notifications.at(-1)).toBe(`Diagnostics saved to ${archive}. Send this file to IT; it holds no phone numbers.`);

    // An independent reader: names, CRCs, and each entry's content.
    expect(unzip('-tq', archive)).toMatch(/No errors detected/);
    expect(unzip('-Z1', archive).trim().split('\n')).toEqual(['README.txt', 'status.json', 'versions.json', 'settings.json', 'store.json', 'logs/companion.log']);
    const entry = (name: string): unknown => JSON.parse(unzip('-p', archive, name));
    expect(entry('status.json')).toMatchObject({ state: 'live', connectedTabs: 1, port, call: { callId: 'c1', phoneNumber: '[phone]', direction: 'incoming' } });
    expect(entry('versions.json')).toMatchObject({ app: APP_VERSION, node: process.versions.node, electron: null, chromium: null, os: { platform: process.platform, arch: process.arch } });
    expect(entry('settings.json')).toEqual(JSON.parse(JSON.stringify(controller.currentSettings)));
    expect(entry('store.json')).toMatchObject({ portals: 1, operators: 1, calls: 1, openCalls: 1 });
    expect(unzip('-p', archive, 'logs/companion.log')).toContain('"event":"upgradeRejected"');
    // No phone number in any entry, in any form the store or the card knows it.
    expect(unzip('-p', archive)).not.toMatch(/4951234567/);
  });

  it('saves nothing when the operator cancels, and leaves no partial file when writing fails', async () => {
    const { controller, platform } = await desktop();
    platform.chooseSavePath = async () => null;
    expect(await controller.saveDiagnostics()).toEqual({ saved: false });

    const missing = path.join(controller.dataDir, 'no-such-folder', 'diagnostics.zip');
    platform.chooseSavePath = async () => missing;
    await expect(controller.saveDiagnostics()).rejects.toThrow(/ENOENT/);
    expect(platform.notifications.at(-1)).toMatch(/^Diagnostics could not be saved: ENOENT/);
    expect(existsSync(path.dirname(missing))).toBe(false);
    expect(readdirSync(controller.dataDir).filter((f) => f.endsWith('.zip') || f.endsWith('.part'))).toEqual([]);
    expect(readFileSync(path.join(controller.dataDir, 'logs', 'companion.log'), 'utf8')).toMatch(/"module":"Diagnostics","event":"saveFailed"/);
  });
});
