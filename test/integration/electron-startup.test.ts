// The desktop app's real start-up (main/index.ts, unchanged) against a stand-in for `electron` that fails where
// Electron documents a failure (test/helpers/electron-stand-in.ts), on a machine where the app has never run.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IPC_PREFIX } from '../../common/ipc-channels.ts';
import { defaultDataDir, PRODUCT_NAME } from '../../main/core/paths.ts';
import { freePort } from '../helpers/cli.ts';
import { createElectronStandIn, type ElectronStandIn } from '../helpers/electron-stand-in.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
let running: ElectronStandIn | null = null;

afterEach(async () => {
  if (running?.app.ready) {
    running.app.emit('before-quit', { preventDefault: () => {} });
    await expect.poll(() => running!.exitCodes.length).toBeGreaterThan(0);
  }
  running = null;
  vi.doUnmock('electron');
  delete process.env.OPERATOR_COMPANION_DATA_DIR;
});

/** Runs main/index.ts afresh against a new stand-in; its relay gets a free port through settings.json. */
async function launch(dataDir: string): Promise<ElectronStandIn> {
  const port = await freePort();
  const standIn = createElectronStandIn({
    appData: path.dirname(dataDir),
    onUserDataSet: (dir) => writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ port })),
  });
  running = standIn;
  process.env.OPERATOR_COMPANION_DATA_DIR = dataDir;
  vi.resetModules();
  vi.doMock('electron', () => standIn.module);
  await import('../../main/index.ts');
  return standIn;
}

async function started(standIn: ElectronStandIn): Promise<void> {
  standIn.app.emitReady();
  await expect.poll(() => standIn.trays.length + standIn.errorBoxes.length).toBeGreaterThan(0);
  expect(standIn.errorBoxes).toEqual([]);
}

function menuItem(standIn: ElectronStandIn, label: RegExp): { click?: () => void } {
  const menu = standIn.trays[0]!.menus.at(-1)!;
  const item = menu.find((i) => typeof i.label === 'string' && label.test(i.label));
  if (!item) throw new Error(`no tray menu item ${label}; have ${menu.map((i) => i.label).join(', ')}`);
  return item as { click?: () => void };
}

describe('desktop start-up on a clean machine', () => {
  it('creates its data folder before setting the path, then locks, and registers the scheme before ready', async () => {
    const dataDir = path.join(tempDir(), 'never-used', PRODUCT_NAME);
    const standIn = await launch(dataDir);
    await started(standIn);
    expect(existsSync(dataDir)).toBe(true);
    const order = standIn.trace.filter((t) => !t.startsWith('protocol.handle'));
    expect(order.indexOf('setPath userData')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('setPath userData')).toBeLessThan(order.indexOf(`requestSingleInstanceLock in ${dataDir}`));
    expect(order.indexOf('registerSchemesAsPrivileged app')).toBeLessThan(order.indexOf('ready'));
    expect(standIn.trace).toContain('protocol.handle app');
    expect(standIn.trays).toHaveLength(1);
  });

  it('opens every window from the tray, and each window answers getStatus through the real IPC gate', async () => {
    const standIn = await launch(tempDir());
    await started(standIn);
    for (const label of [/^Status/, /^Settings/, /^Browser setup/, /^Session log/]) menuItem(standIn, label).click?.();
    expect(standIn.windows.map((w) => w.loaded[0])).toEqual([
      'app://companion/index.html?view=status',
      'app://companion/index.html?view=settings',
      'app://companion/index.html?view=assistant',
      'app://companion/index.html?view=log',
    ]);
    for (const window of standIn.windows) {
      expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      const answer = (await standIn.invoke(window, `${IPC_PREFIX}getStatus`)) as { ok: boolean; value?: { port: number } };
      expect(answer.ok, JSON.stringify(answer)).toBe(true);
    }
    // A frame that has gone (senderFrame null) is refused with a message, not thrown at.
    const handler = standIn.ipcHandlers.get(`${IPC_PREFIX}getStatus`)!;
    expect(await handler({ sender: standIn.windows[0]!.webContents, senderFrame: null })).toEqual({ ok: false, error: "calls are accepted from Operator Companion's own windows only" });
    // Another window's frame presented as this window's sender (a subframe, say) is refused too.
    expect(await handler({ sender: standIn.windows[0]!.webContents, senderFrame: standIn.windows[1]!.webContents.mainFrame })).toMatchObject({ ok: false });
  });

  it('a second start before the first is ready opens the status window once it is', async () => {
    const standIn = await launch(tempDir());
    standIn.app.emit('second-instance', {}, [], process.cwd());
    await started(standIn);
    await expect.poll(() => standIn.windows.map((w) => w.loaded[0])).toEqual(['app://companion/index.html?view=status']);
  });

  it('a second start with --mute or an operator-companion:// link acts on the call instead of opening a window', async () => {
    const standIn = await launch(tempDir());
    await started(standIn);
    standIn.app.emit('second-instance', {}, ['/opt/Operator Companion/operator-companion', '--mute'], process.cwd());
    // No call is going on: the operator is told so, as for a hotkey.
    await expect.poll(() => standIn.notifications).toEqual([expect.stringMatching(/no call/i)]);
    standIn.app.emit('open-url', { preventDefault: () => {} }, 'operator-companion://toggle');
    await expect.poll(() => standIn.notifications.length).toBe(2);
    expect(standIn.windows).toEqual([]);
  });

  it('uses the folder Electron would choose by itself, which is where the CLI looks', async () => {
    const standIn = createElectronStandIn({ appData: path.join('/home/olga', '.config') });
    expect(standIn.app.getPath('userData')).toBe(path.join('/home/olga/.config', PRODUCT_NAME));
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/home/olga/.config' })).toBe(standIn.app.getPath('userData'));
  });
});
