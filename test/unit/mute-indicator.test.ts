// The on-screen badge against the Electron stand-in: created once, click-through and above everything, placed on
// the display under the pointer, never taking focus, hidden when the call is no longer muted.
import type { BrowserWindow, BrowserWindowConstructorOptions, Screen } from 'electron';
import { describe, expect, it } from 'vitest';
import { MuteIndicator } from '../../main/electron/mute-indicator.ts';
import { createElectronStandIn } from '../helpers/electron-stand-in.ts';

function indicator() {
  const standIn = createElectronStandIn({ appData: '/tmp' });
  standIn.app.emitReady();
  const electron = standIn.module as { BrowserWindow: new (o: BrowserWindowConstructorOptions) => BrowserWindow; screen: Screen };
  return { standIn, badge: new MuteIndicator({ BrowserWindow: electron.BrowserWindow, screen: electron.screen, preloadPath: '/app/preload/index.cjs' }) };
}

describe('MuteIndicator', () => {
  it('appears without focus on the display under the pointer, click-through and above full-screen windows', () => {
    const { standIn, badge } = indicator();
    badge.update(true);
    expect(standIn.windows).toHaveLength(1);
    const [window] = standIn.windows;
    expect(window!.options).toMatchObject({ frame: false, transparent: true, focusable: false, skipTaskbar: true, alwaysOnTop: true, show: false });
    expect(window!.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(window!.loaded).toEqual(['app://companion/index.html?view=indicator']);
    expect(window!.calls).toEqual([
      ['setIgnoreMouseEvents', true],
      ['setAlwaysOnTop', true, 'screen-saver'],
      ['setVisibleOnAllWorkspaces', true, { visibleOnFullScreen: true }],
      // Centred at the top of the second display's work area, where the pointer is.
      ['setBounds', { x: 1920 + (1280 - 360) / 2, y: 8, width: 360, height: 48 }],
      ['showInactive'],
    ]);
  });

  it('hides when unmuted, reuses its window, and ignores repeated states', () => {
    const { standIn, badge } = indicator();
    badge.update(true);
    badge.update(true);
    badge.update(false);
    badge.update(false);
    badge.update(true);
    expect(standIn.windows).toHaveLength(1);
    expect(standIn.windows[0]!.calls.filter(([name]) => name === 'showInactive' || name === 'hide').map(([name]) => name)).toEqual(['showInactive', 'hide', 'showInactive']);
    expect(standIn.windows[0]!.visible).toBe(true);
  });
});
