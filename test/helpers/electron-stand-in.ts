// A stand-in for the `electron` module that main/index.ts imports, for running the app's real start-up under
// Node. It fails where Electron documents a failure, so a start-up that only works in a lenient fake fails here
// too (docs/desktop.md lists each behaviour and where Electron documents it):
// - app.setPath throws for a folder that does not exist (electron.d.ts, App.setPath);
// - protocol.registerSchemesAsPrivileged only before ready, and only once (electron.d.ts, Protocol);
// - app.getLocale only after ready (electron.d.ts, App.getLocale);
// - BrowserWindow, Tray, globalShortcut, powerMonitor, screen and protocol.handle only after ready (docs/api/*.md:
//   "cannot be used until the ready event of the app module is emitted");
// - ipcMain.handle refuses a second handler for the same channel;
// - app.getName() is package.json's productName, else its name, which is what userData defaults to;
// - a frame's `url` is the URL string it loaded; IPC events carry `sender` (the window's webContents) and
//   `senderFrame` (its main frame, or null once the frame is gone).
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions } from 'electron';

const ROOT = path.join(import.meta.dirname, '..', '..');

export interface StandInFrame {
  url: string;
}

export class StandInWebContents extends EventEmitter {
  readonly mainFrame: StandInFrame = { url: '' };
  readonly sent: Array<{ channel: string; payload: unknown }> = [];
  readonly session = { setPermissionRequestHandler: () => {}, setPermissionCheckHandler: () => {} };
  setWindowOpenHandler(): void {}
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
}

type Handler = (event: unknown, ...args: unknown[]) => unknown;

export interface ElectronStandIn {
  module: Record<string, unknown>;
  /** Every call that matters for the order of start-up, in order. */
  trace: string[];
  windows: StandInWindow[];
  trays: StandInTray[];
  ipcHandlers: Map<string, Handler>;
  errorBoxes: Array<{ title: string; content: string }>;
  exitCodes: number[];
  /** Bodies of the notifications shown. */
  notifications: string[];
  app: EventEmitter & { ready: boolean; emitReady(): void; userData: string | null; getPath(name: string): string };
  /** Calls an IPC channel the way a window's renderer would: the event names that window as sender. */
  invoke(window: StandInWindow, channel: string, ...args: unknown[]): Promise<unknown>;
}

export interface StandInWindow {
  options: BrowserWindowConstructorOptions;
  webContents: StandInWebContents;
  loaded: string[];
  /** Calls that change how the window behaves on screen, in order (setBounds, showInactive, hide, …). */
  calls: Array<[string, ...unknown[]]>;
  visible: boolean;
}

export interface StandInTray {
  menus: MenuItemConstructorOptions[][];
  destroyed: boolean;
}

function notBeforeReady(ready: () => boolean, what: string): void {
  if (!ready()) throw new Error(`${what} cannot be used before the app is ready`);
}

export function createElectronStandIn(options: { appData: string; onUserDataSet?: (dir: string) => void; locale?: string }): ElectronStandIn {
  const trace: string[] = [];
  const windows: StandInWindow[] = [];
  const trays: StandInTray[] = [];
  const ipcHandlers = new Map<string, Handler>();
  const errorBoxes: Array<{ title: string; content: string }> = [];
  const exitCodes: number[] = [];
  const notifications: string[] = [];
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; productName?: string };
  let schemesRegistered = false;
  let readyResolve!: () => void;
  const readyPromise = new Promise<void>((resolve) => (readyResolve = resolve));
  const isReady = (): boolean => app.ready;
  const paths = new Map<string, string>();

  const app = Object.assign(new EventEmitter(), {
    ready: false,
    userData: null as string | null,
    isPackaged: false,
    commandLine: { appendSwitch: (name: string, value?: string) => void trace.push(`appendSwitch ${name}${value ? `=${value}` : ''}`) },
    emitReady(): void {
      app.ready = true;
      trace.push('ready');
      app.emit('ready');
      readyResolve();
    },
    whenReady: () => readyPromise,
    isReady,
    getName: () => pkg.productName ?? pkg.name,
    getAppPath: () => ROOT,
    getPath(name: string): string {
      if (name === 'appData') return options.appData;
      if (name === 'userData') return paths.get('userData') ?? path.join(options.appData, app.getName());
      return paths.get(name) ?? os.tmpdir();
    },
    setPath(name: string, dir: string): void {
      if (!existsSync(dir)) throw new Error(`Failed to set path: ${dir} does not exist`);
      trace.push(`setPath ${name}`);
      paths.set(name, dir);
      if (name === 'userData') {
        app.userData = dir;
        options.onUserDataSet?.(dir);
      }
    },
    requestSingleInstanceLock(): boolean {
      trace.push(`requestSingleInstanceLock in ${app.getPath('userData')}`);
      return true;
    },
    setAppUserModelId: (id: string) => void trace.push(`setAppUserModelId ${id}`),
    getLocale(): string {
      notBeforeReady(isReady, 'app.getLocale()');
      return options.locale ?? 'en-US';
    },
    setLoginItemSettings: () => {},
    quit: () => void trace.push('quit'),
    exit: (code = 0) => void exitCodes.push(code),
  });

  const protocol = {
    registerSchemesAsPrivileged(schemes: Array<{ scheme: string }>): void {
      if (app.ready) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
      if (schemesRegistered) throw new Error('protocol.registerSchemesAsPrivileged can be called only once');
      schemesRegistered = true;
      trace.push(`registerSchemesAsPrivileged ${schemes.map((s) => s.scheme).join(',')}`);
    },
    handle(scheme: string): void {
      notBeforeReady(isReady, 'protocol.handle');
      trace.push(`protocol.handle ${scheme}`);
    },
  };

  class BrowserWindow extends EventEmitter {
    readonly webContents = new StandInWebContents();
    readonly record: StandInWindow;
    private destroyed = false;
    constructor(windowOptions: BrowserWindowConstructorOptions) {
      super();
      notBeforeReady(isReady, 'BrowserWindow');
      this.record = { options: windowOptions, webContents: this.webContents, loaded: [], calls: [], visible: false };
      windows.push(this.record);
    }
    async loadURL(url: string): Promise<void> {
      this.record.loaded.push(url);
      this.webContents.mainFrame.url = url;
      this.emit('ready-to-show');
    }
    isDestroyed = (): boolean => this.destroyed;
    isMinimized = (): boolean => false;
    private call(name: string, ...args: unknown[]): void {
      this.record.calls.push([name, ...args]);
    }
    restore(): void {}
    show(): void {
      this.record.visible = true;
    }
    showInactive(): void {
      this.call('showInactive');
      this.record.visible = true;
    }
    hide(): void {
      this.call('hide');
      this.record.visible = false;
    }
    focus(): void {}
    setBounds(bounds: unknown): void {
      this.call('setBounds', bounds);
    }
    setIgnoreMouseEvents(ignore: boolean): void {
      this.call('setIgnoreMouseEvents', ignore);
    }
    setAlwaysOnTop(flag: boolean, level?: string): void {
      this.call('setAlwaysOnTop', flag, level);
    }
    setVisibleOnAllWorkspaces(visible: boolean, options?: unknown): void {
      this.call('setVisibleOnAllWorkspaces', visible, options);
    }
    destroy(): void {
      this.destroyed = true;
      this.emit('closed');
    }
  }

  class Tray extends EventEmitter {
    readonly record: StandInTray = { menus: [], destroyed: false };
    constructor() {
      super();
      notBeforeReady(isReady, 'Tray');
      trays.push(this.record);
    }
    setImage(): void {}
    setToolTip(): void {}
    setContextMenu(menu: { template: MenuItemConstructorOptions[] }): void {
      this.record.menus.push(menu.template);
    }
    destroy(): void {
      this.record.destroyed = true;
    }
  }

  class Notification {
    static isSupported = (): boolean => true;
    private readonly body: string;
    constructor(options: { body: string }) {
      this.body = options.body;
    }
    show(): void {
      notifications.push(this.body);
    }
  }

  const globalShortcut = {
    register(): boolean {
      notBeforeReady(isReady, 'globalShortcut');
      return true;
    },
    unregister(): void {},
    unregisterAll(): void {},
  };

  const powerMonitor = new Proxy(new EventEmitter(), {
    get(target, key, receiver) {
      notBeforeReady(isReady, 'powerMonitor');
      return Reflect.get(target, key, receiver);
    },
  });

  /** Two side-by-side displays; the pointer is on the second. */
  const screen = {
    getCursorScreenPoint() {
      notBeforeReady(isReady, 'screen');
      return { x: 2500, y: 300 };
    },
    getDisplayNearestPoint(point: { x: number; y: number }) {
      notBeforeReady(isReady, 'screen');
      return point.x >= 1920 ? { workArea: { x: 1920, y: 0, width: 1280, height: 984 } } : { workArea: { x: 0, y: 0, width: 1920, height: 1040 } };
    },
  };

  const ipcMain = {
    handle(channel: string, handler: Handler): void {
      if (ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      ipcHandlers.set(channel, handler);
    },
  };

  /**
   * A Linux desktop without a keyring, as on these machines: Electron falls back to its `basic_text` backend
   * (electron.d.ts, SafeStorage.getSelectedStorageBackend: `unknown` before ready); encryption "works" with a key
   * built into Chromium, which is why the app refuses to keep a password there.
   */
  const safeStorage = {
    isAsyncEncryptionAvailable: async (): Promise<boolean> => isReady(),
    getSelectedStorageBackend: (): string => (isReady() ? 'basic_text' : 'unknown'),
    encryptStringAsync: async (plain: string): Promise<Buffer> => Buffer.concat([Buffer.from('v11'), Buffer.from(plain, 'utf8')]),
    decryptStringAsync: async (blob: Buffer) => ({ shouldReEncrypt: false, result: blob.subarray(3).toString('utf8') }),
  };

  const module = {
    app,
    protocol,
    safeStorage,
    BrowserWindow,
    Tray,
    Notification,
    globalShortcut,
    powerMonitor,
    ipcMain,
    screen,
    Menu: { buildFromTemplate: (template: MenuItemConstructorOptions[]) => ({ template }) },
    nativeImage: { createFromPath: () => ({ setTemplateImage: () => {} }) },
    shell: { beep: () => {} },
    dialog: {
      showErrorBox: (title: string, content: string) => void errorBoxes.push({ title, content }),
      showSaveDialog: async () => ({ canceled: true }),
    },
  };

  return {
    module,
    trace,
    windows,
    trays,
    ipcHandlers,
    errorBoxes,
    exitCodes,
    notifications,
    app,
    async invoke(window, channel, ...args) {
      const handler = ipcHandlers.get(channel);
      if (!handler) throw new Error(`no handler for ${channel}`);
      return handler({ sender: window.webContents, senderFrame: window.webContents.mainFrame }, ...args);
    },
  };
}
