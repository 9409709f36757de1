// The desktop controller's view of the operating system, made of Electron's modules.
import { writeFile } from 'node:fs/promises';
import type { App, Dialog, GlobalShortcut, Notification as NotificationType, Shell } from 'electron';
import type { WindowView } from '../../common/ipc-channels.ts';
import { setLinuxAutostart } from '../core/desktop/autostart.ts';
import type { DesktopPlatform } from '../core/desktop/desktop-controller.ts';
import { openMicrophonePort } from '../core/microphone/microphone.ts';

export interface PlatformDeps {
  app: Pick<App, 'getLocale' | 'setLoginItemSettings' | 'isPackaged' | 'getAppPath'>;
  globalShortcut: Pick<GlobalShortcut, 'register' | 'unregister'>;
  Notification: { new (options: { title: string; body: string; silent?: boolean }): NotificationType; isSupported(): boolean };
  shell: Pick<Shell, 'beep'>;
  dialog: Pick<Dialog, 'showSaveDialog'>;
  openWindow(view: WindowView): void;
}

export function isWayland(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.XDG_SESSION_TYPE === 'wayland' || Boolean(env.WAYLAND_DISPLAY);
}

export function electronPlatform(deps: PlatformDeps): DesktopPlatform {
  return {
    shortcuts: deps.globalShortcut,
    systemLocale: deps.app.getLocale(),
    wayland: process.platform === 'linux' && isWayland(),
    notify: (title, body) => {
      if (deps.Notification.isSupported()) new deps.Notification({ title, body, silent: true }).show();
    },
    beep: () => deps.shell.beep(),
    openWindow: (view) => deps.openWindow(view),
    saveFile: async (suggestedName, data) => {
      const result = await deps.dialog.showSaveDialog({ defaultPath: suggestedName });
      if (result.canceled || !result.filePath) return null;
      await writeFile(result.filePath, data);
      return result.filePath;
    },
    chooseSavePath: async (suggestedName) => {
      const result = await deps.dialog.showSaveDialog({ defaultPath: suggestedName });
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    // setLoginItemSettings does nothing on Linux: there the desktop starts what ~/.config/autostart lists.
    microphone: () => openMicrophonePort(),
    setStartAtLogin: (enabled) =>
      process.platform === 'linux'
        ? setLinuxAutostart(enabled, { args: deps.app.isPackaged ? [] : [deps.app.getAppPath()] })
        : deps.app.setLoginItemSettings({ openAtLogin: enabled }),
  };
}
