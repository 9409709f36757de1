// The on-screen "muted" badge: a small frameless, transparent window above everything, on the display the
// operator is working on (the one under the pointer), that the mouse goes through and that never takes focus.
// Operators look at the screen, not at the tray.
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions, Screen } from 'electron';
import { INDICATOR_VIEW } from '../../common/ipc-channels.ts';
import { appUrl } from './ipc.ts';

const WIDTH = 360;
const HEIGHT = 48;

export interface IndicatorDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindowType;
  screen: Pick<Screen, 'getCursorScreenPoint' | 'getDisplayNearestPoint'>;
  preloadPath: string;
}

export class MuteIndicator {
  private readonly deps: IndicatorDeps;
  private window: BrowserWindowType | null = null;
  private shown = false;

  constructor(deps: IndicatorDeps) {
    this.deps = deps;
  }

  /** Shows the badge while `muted`; cheap to call on every status change. */
  update(muted: boolean): void {
    if (muted === this.shown) return;
    this.shown = muted;
    if (!muted) {
      this.window?.hide();
      return;
    }
    const window = this.ensureWindow();
    // Top centre of the work area of the display under the pointer, recomputed each time it appears.
    const area = this.deps.screen.getDisplayNearestPoint(this.deps.screen.getCursorScreenPoint()).workArea;
    window.setBounds({ x: Math.round(area.x + (area.width - WIDTH) / 2), y: area.y + 8, width: WIDTH, height: HEIGHT });
    window.showInactive();
  }

  destroy(): void {
    if (this.window && !this.window.isDestroyed()) this.window.destroy();
    this.window = null;
  }

  private ensureWindow(): BrowserWindowType {
    if (this.window && !this.window.isDestroyed()) return this.window;
    const window = new this.deps.BrowserWindow({
      width: WIDTH,
      height: HEIGHT,
      show: false,
      frame: false,
      transparent: true,
      resizable: false,
      movable: false,
      minimizable: false,
      maximizable: false,
      fullscreenable: false,
      focusable: false,
      skipTaskbar: true,
      hasShadow: false,
      alwaysOnTop: true,
      webPreferences: { preload: this.deps.preloadPath, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false },
    });
    // Clicks go to whatever is underneath; above full-screen windows too.
    window.setIgnoreMouseEvents(true);
    window.setAlwaysOnTop(true, 'screen-saver');
    window.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
    const contents = window.webContents;
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event) => event.preventDefault());
    void window.loadURL(appUrl(`/index.html?view=${INDICATOR_VIEW}`));
    this.window = window;
    return window;
  }
}
