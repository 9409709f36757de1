// The desktop app's main process, as a table of contents: each phase is a small named function. The work is
// done by the core (main/core/), which knows no Electron; the adapters in main/electron/ render its state.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { app, BrowserWindow, dialog, globalShortcut, ipcMain, Menu, nativeImage, Notification, powerMonitor, protocol, safeStorage, screen, shell, Tray } from 'electron';
import { IPC_EXPORT_PROGRESS_EVENT, IPC_STATUS_EVENT } from '../common/ipc-channels.ts';
import { DesktopController } from './core/desktop/desktop-controller.ts';
import { launchAction, URL_SCHEME } from './core/desktop/launch-actions.ts';
import { rendererFile } from './core/desktop/renderer-files.ts';
import { trayModel, type TrayCommand, type TrayIcon } from './core/desktop/tray-model.ts';
import { defaultDataDir } from './core/paths.ts';
import { isAppUrl, registerIpc } from './electron/ipc.ts';
import { MuteIndicator } from './electron/mute-indicator.ts';
import { electronPlatform, isWayland } from './electron/platform.ts';
import { TrayAdapter } from './electron/tray-adapter.ts';
import { rendererDir, WindowManager } from './electron/windows.ts';

const mainDir = import.meta.dirname;
// Kept for the app's lifetime: a tray that is garbage-collected disappears.
let tray: Tray | null = null;

/** The installer's appId: Windows groups notifications and the taskbar by it. */
const APP_USER_MODEL_ID = 'com.operatorcompanion.app';

function useDataDirectory(): string {
  // The same folder the CLI uses by default, so `operator-companion mute` finds the app. The smoke test
  // (`npm run test:electron`) points it elsewhere. setPath throws for a folder that does not exist yet, which
  // is every folder on a clean machine.
  const dataDir = process.env.OPERATOR_COMPANION_DATA_DIR || defaultDataDir();
  mkdirSync(dataDir, { recursive: true });
  app.setPath('userData', dataDir);
  return dataDir;
}

/** Resolves with the running core once it is up: what a second start or a link asks for waits for it. */
let resolveCore!: (controller: DesktopController) => void;
const coreStarted = new Promise<DesktopController>((resolve) => (resolveCore = resolve));

/**
 * A second start with an action (`--mute`, or an `operator-companion://mute` link, which Windows and Linux pass on
 * the command line) acts on the call, like `operator-companion mute`; a plain second start (a double-click on the
 * shortcut) opens the status window. Both wait for this instance to be up.
 */
function handleLaunch(argv: readonly string[], windows: WindowManager): void {
  const action = launchAction(argv);
  void coreStarted.then((controller) => (action ? void controller.command(action, 'cli') : windows.show('status')));
}

/** After the data path is set: the lock lives in the userData folder, so both copies must agree on it. */
function claimSingleInstance(windows: WindowManager): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', (_event, argv) => handleLaunch(argv, windows));
  // macOS hands links to the running app as an event, also the one that starts it (so, before ready).
  app.on('open-url', (event, url) => {
    event.preventDefault();
    handleLaunch([url], windows);
  });
  return true;
}

function prepareForPlatform(): void {
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);
  // On Wayland, global shortcuts reach an app only through the desktop portal; the switch must precede ready.
  if (process.platform === 'linux' && isWayland()) app.commandLine.appendSwitch('enable-features', 'GlobalShortcutsPortal');
}

function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: false } }]);
}

function serveRenderer(): void {
  const dir = rendererDir(mainDir);
  protocol.handle('app', (request) => {
    const file = isAppUrl(request.url) ? rendererFile(dir, new URL(request.url).pathname) : rendererFile(dir, '/missing');
    return new Response(file.body, { status: file.status, headers: file.headers });
  });
}

function preloadPath(): string {
  return path.join(mainDir, '..', 'preload', 'index.cjs');
}

function denyPermissions(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    contents.session.setPermissionCheckHandler(() => false);
  });
}

function trayImages(): (icon: TrayIcon) => Electron.NativeImage {
  const dir = app.isPackaged ? path.join(process.resourcesPath, 'tray') : path.join(app.getAppPath(), 'build', 'tray');
  const cache = new Map<TrayIcon, Electron.NativeImage>();
  return (icon) => {
    let image = cache.get(icon);
    if (!image) {
      const file = process.platform === 'darwin' ? `${icon}Template.png` : process.platform === 'win32' ? `${icon}.ico` : `${icon}.png`;
      image = nativeImage.createFromPath(path.join(dir, file));
      if (process.platform === 'darwin') image.setTemplateImage(true);
      cache.set(icon, image);
    }
    return image;
  };
}

async function startCore(dataDir: string, windows: WindowManager): Promise<DesktopController> {
  const controller = new DesktopController(
    dataDir,
    electronPlatform({ app, globalShortcut, Notification, shell, dialog, safeStorage, openWindow: (view) => windows.show(view) }),
  );
  await controller.start();
  return controller;
}

function showTray(controller: DesktopController, windows: WindowManager): void {
  const images = trayImages();
  tray = new Tray(images('not_connected'));
  const run: Record<TrayCommand, () => void> = {
    toggleMute: () => void controller.command('toggle', 'tray'),
    hold: () => void controller.command('hold', 'tray'),
    unhold: () => void controller.command('unhold', 'tray'),
    openStatus: () => windows.show('status'),
    openLog: () => windows.show('log'),
    openSettings: () => windows.show('settings'),
    openAssistant: () => windows.show('assistant'),
    openPairing: () => windows.show('pairing'),
    toggleHotkeysPaused: () => void controller.setHotkeysPaused(!controller.currentSettings.hotkeysPaused),
    // The controller tells the operator where it went, or why it failed (a notification, and the log).
    saveDiagnostics: () => void controller.saveDiagnostics().catch(() => {}),
    quit: () => app.quit(),
  };
  const adapter = new TrayAdapter({ tray, buildMenu: (t) => Menu.buildFromTemplate(t), image: images, onCommand: (c) => run[c]() });
  const render = (): void => adapter.render(trayModel(controller.status(), controller.language));
  render();
  const indicator = new MuteIndicator({ BrowserWindow, screen, preloadPath: preloadPath() });
  app.on('before-quit', () => indicator.destroy());
  controller.onStatus((status) => {
    adapter.render(trayModel(status, controller.language));
    indicator.update(status.state === 'muted' && controller.currentSettings.microphone.indicator);
    windows.broadcast(IPC_STATUS_EVENT, status);
  });
  controller.onExportProgress((progress) => windows.broadcast(IPC_EXPORT_PROGRESS_EVENT, progress));
  tray.on('click', () => windows.show('status'));
}

function followPower(controller: DesktopController): void {
  // Nobody is at the microphone: mute the call. Unlocking and resuming unmute nothing (the operator decides).
  const away = (): void => void controller.screenLockedOrSleeping();
  powerMonitor.on('lock-screen', away);
  powerMonitor.on('suspend', away);
  // After sleep the tabs reconnect by themselves; re-render at once so the tray is not stale meanwhile.
  const refresh = (): void => controller.publishStatus();
  powerMonitor.on('resume', refresh);
  powerMonitor.on('unlock-screen', refresh);
}

function quitCleanly(controller: DesktopController, windows: WindowManager): void {
  let stopping = false;
  app.on('before-quit', (event) => {
    if (stopping) return;
    stopping = true;
    event.preventDefault();
    windows.closeAll();
    globalShortcut.unregisterAll();
    void controller.stop().finally(() => {
      tray?.destroy();
      app.exit(0);
    });
  });
  // A tray app keeps running with every window closed.
  app.on('window-all-closed', () => {});
}

async function main(): Promise<void> {
  const dataDir = useDataDirectory();
  const windows = new WindowManager({ BrowserWindow, preloadPath: preloadPath() });
  if (!claimSingleInstance(windows)) return;
  prepareForPlatform();
  registerAppScheme();
  denyPermissions();
  await app.whenReady();
  serveRenderer();
  const controller = await startCore(dataDir, windows);
  resolveCore(controller);
  // The installers register the link scheme (electron-builder's `protocols`); a portable run (an AppImage) does it here.
  if (app.isPackaged && !app.isDefaultProtocolClient(URL_SCHEME)) app.setAsDefaultProtocolClient(URL_SCHEME);
  registerIpc(ipcMain, controller.handlers);
  showTray(controller, windows);
  followPower(controller);
  quitCleanly(controller, windows);
  if (process.env.OPERATOR_COMPANION_SMOKE_TEST === '1') {
    process.stdout.write(`${JSON.stringify({ event: 'ready', port: controller.status().port })}\n`);
    app.quit();
  }
}

main().catch((error: unknown) => {
  dialog.showErrorBox('Operator Companion could not start', error instanceof Error ? error.message : String(error));
  app.exit(1);
});
