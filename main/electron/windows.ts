// The app windows: one per view, secure by default (context isolation, sandbox, no Node, a strict CSP served
// with the pages, navigation and new windows denied, every permission request denied).
import path from 'node:path';
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions } from 'electron';
import type { WindowView } from '../../common/ipc-channels.ts';
import { appUrl } from './ipc.ts';

const SIZES: Record<WindowView, { width: number; height: number }> = {
  status: { width: 460, height: 620 },
  pairing: { width: 520, height: 460 },
  settings: { width: 600, height: 760 },
  assistant: { width: 640, height: 760 },
  log: { width: 1100, height: 760 },
};

export interface WindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindowType;
  preloadPath: string;
  icon?: string;
}

export class WindowManager {
  private readonly deps: WindowDeps;
  private readonly open = new Map<WindowView, BrowserWindowType>();

  constructor(deps: WindowDeps) {
    this.deps = deps;
  }

  show(view: WindowView): void {
    const existing = this.open.get(view);
    if (existing && !existing.isDestroyed()) {
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return;
    }
    const window = new this.deps.BrowserWindow({
      ...SIZES[view],
      show: false,
      title: 'Operator Companion',
      autoHideMenuBar: true,
      ...(this.deps.icon ? { icon: this.deps.icon } : {}),
      webPreferences: {
        preload: this.deps.preloadPath,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        spellcheck: false,
      },
    });
    const contents = window.webContents;
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    window.once('ready-to-show', () => window.show());
    window.on('closed', () => this.open.delete(view));
    this.open.set(view, window);
    void window.loadURL(appUrl(`/index.html?view=${view}`));
  }

  /** Pushes a message to every open window (the status updates). */
  broadcast(channel: string, payload: unknown): void {
    for (const window of this.open.values()) {
      if (!window.isDestroyed()) window.webContents.send(channel, payload);
    }
  }

  closeAll(): void {
    for (const window of this.open.values()) if (!window.isDestroyed()) window.destroy();
    this.open.clear();
  }
}

/** Where the built renderer lives next to the main bundle (out/main → out/renderer). */
export function rendererDir(mainDir: string): string {
  return path.join(mainDir, '..', 'renderer');
}
