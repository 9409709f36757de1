// The desktop controller's view of the operating system, made of Electron's modules.
import { writeFile } from 'node:fs/promises';
import type { App, Dialog, GlobalShortcut, Notification as NotificationType, SafeStorage, Shell } from 'electron';
import type { WindowView } from '../../common/ipc-channels.ts';
import { setLinuxAutostart } from '../core/desktop/autostart.ts';
import type { DesktopPlatform } from '../core/desktop/desktop-controller.ts';
import { openMicrophonePort } from '../core/microphone/microphone.ts';
import type { SecretsPort } from '../core/desktop/secrets.ts';

export interface PlatformDeps {
  app: Pick<App, 'getLocale' | 'setLoginItemSettings' | 'isPackaged' | 'getAppPath'>;
  globalShortcut: Pick<GlobalShortcut, 'register' | 'unregister'>;
  Notification: { new (options: { title: string; body: string; silent?: boolean }): NotificationType; isSupported(): boolean };
  shell: Pick<Shell, 'beep'>;
  dialog: Pick<Dialog, 'showSaveDialog'>;
  safeStorage: Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'getSelectedStorageBackend' | 'encryptStringAsync' | 'decryptStringAsync'>;
  openWindow(view: WindowView): void;
}

export function isWayland(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.XDG_SESSION_TYPE === 'wayland' || Boolean(env.WAYLAND_DISPLAY);
}

/**
 * The central logins' passwords through Electron's safeStorage (DPAPI, the macOS Keychain, the Secret Service or
 * KWallet). The asynchronous API: its synchronous twin is deprecated in Electron 45. On Linux without a keyring
 * Electron quietly falls back to `basic_text`, a key built into Chromium: that is obfuscation, not protection, so
 * the app refuses to store the password there and says what to do instead.
 */
export function keychainSecrets(safeStorage: PlatformDeps['safeStorage'], platform: NodeJS.Platform = process.platform): SecretsPort {
  return {
    unavailable: async () => {
      if (!(await safeStorage.isAsyncEncryptionAvailable())) return 'the system keychain is not available, so the password cannot be kept safely; use PGPASSWORD or ~/.pgpass instead';
      if (platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') {
        return 'no keyring (GNOME Keyring or KWallet) is running on this desktop, so the password cannot be kept safely; start one, or use ~/.pgpass instead';
      }
      return null;
    },
    encrypt: (plain) => safeStorage.encryptStringAsync(plain),
    decrypt: async (blob) => (await safeStorage.decryptStringAsync(blob)).result,
  };
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
    secrets: keychainSecrets(deps.safeStorage),
    setStartAtLogin: (enabled) =>
      process.platform === 'linux'
        ? setLinuxAutostart(enabled, { args: deps.app.isPackaged ? [] : [deps.app.getAppPath()] })
        : deps.app.setLoginItemSettings({ openAtLogin: enabled }),
  };
}
