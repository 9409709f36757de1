// A desktop controller on a temporary data directory with a fake platform typed against the real interface:
// hotkey registrations, notifications, opened windows and saved files are recorded for the tests.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WindowView } from '../../common/ipc-channels.ts';
import type { Settings } from '../../common/settings.ts';
import { DesktopController, type DesktopPlatform } from '../../main/core/desktop/desktop-controller.ts';
import type { MicrophonePort } from '../../main/core/microphone/microphone-port.ts';
import type { SecretsPort } from '../../main/core/desktop/secrets.ts';
import { afterEach, expect } from 'vitest';
import { freePort } from './cli.ts';
import type { TestWorker } from './test-worker.ts';

export interface FakePlatform extends DesktopPlatform {
  registered: Map<string, () => void>;
  /** Accelerators the "system" refuses, as if another program held them. */
  taken: Set<string>;
  notifications: string[];
  windows: WindowView[];
  saved: Array<{ name: string; data: Buffer; path: string }>;
  loginItem: boolean[];
  beeps: number;
  secrets: FakeSecrets;
}

/** A keychain: `refuse` set = none on this system (the reason); blobs are reversible but never the plain text. */
export interface FakeSecrets extends SecretsPort {
  refuse: string | null;
  encrypted: number;
}

export function fakeSecrets(): FakeSecrets {
  const secrets: FakeSecrets = {
    refuse: null,
    encrypted: 0,
    unavailable: async () => secrets.refuse,
    encrypt: async (plain) => {
      secrets.encrypted += 1;
      return Buffer.from(`fake-keychain:${Buffer.from(plain, 'utf8').reverse().toString('base64')}`);
    },
    decrypt: async (blob) => {
      const text = blob.toString('utf8');
      if (!text.startsWith('fake-keychain:')) throw new Error('not ours');
      return Buffer.from(text.slice('fake-keychain:'.length), 'base64').reverse().toString('utf8');
    },
  };
  return secrets;
}

export interface FakePlatformOptions {
  locale?: string;
  wayland?: boolean;
  microphone?: () => MicrophonePort;
  /** A keychain kept between two starts (a restart of the app on the same data folder). */
  secrets?: FakeSecrets;
  /** The controller's clock (a test moves it forward). */
  now?: () => number;
}

export function fakePlatform(dataDir: string, options: FakePlatformOptions = {}): FakePlatform {
  const platform: FakePlatform = {
    registered: new Map(),
    taken: new Set(),
    notifications: [],
    windows: [],
    saved: [],
    loginItem: [],
    beeps: 0,
    shortcuts: {
      register: (accelerator, callback) => {
        if (platform.taken.has(accelerator)) return false;
        platform.registered.set(accelerator, callback);
        return true;
      },
      unregister: (accelerator) => void platform.registered.delete(accelerator),
    },
    systemLocale: options.locale ?? 'en-US',
    wayland: options.wayland ?? false,
    notify: (_title, body) => void platform.notifications.push(body),
    beep: () => void (platform.beeps += 1),
    openWindow: (view) => void platform.windows.push(view),
    saveFile: async (name, data) => {
      const file = path.join(dataDir, name);
      writeFileSync(file, data);
      platform.saved.push({ name, data, path: file });
      return file;
    },
    chooseSavePath: async (name) => path.join(dataDir, name),
    setStartAtLogin: (enabled) => void platform.loginItem.push(enabled),
    // A test that needs a real microphone passes a port on a private PulseAudio server.
    microphone: () => options.microphone?.() ?? null,
    secrets: options.secrets ?? fakeSecrets(),
  };
  return platform;
}

/** Starts a controller whose relay listens on a free port and trusts `origins`. */
export async function startDesktop(dataDir: string, settings: Partial<Settings> = {}, platformOptions: FakePlatformOptions = {}): Promise<{ controller: DesktopController; platform: FakePlatform }> {
  writeFileSync(path.join(dataDir, 'settings.json'), JSON.stringify({ port: await freePort(), ...settings }));
  const platform = fakePlatform(dataDir, platformOptions);
  const controller = new DesktopController(dataDir, platform, platformOptions.now);
  await controller.start();
  return { controller, platform };
}

/** Desktop controllers started in a test, stopped after it. */
export function useDesktops(tempDir: () => string): (settings?: Partial<Settings>, platformOptions?: FakePlatformOptions) => Promise<{ controller: DesktopController; platform: FakePlatform }> {
  const controllers: DesktopController[] = [];
  afterEach(async () => {
    for (const c of controllers.splice(0)) await c.stop();
  });
  return async (settings = {}, platformOptions = {}) => {
    const result = await startDesktop(tempDir(), settings, platformOptions);
    controllers.push(result.controller);
    return result;
  };
}

/** Lets a worker in the way the operator would: it asks, the pairing window's Allow answers. */
export async function approveInPairingWindow(controller: DesktopController, w: TestWorker): Promise<TestWorker> {
  await w.open();
  w.identify();
  await expect.poll(() => controller.prompts.list().length).toBeGreaterThan(0);
  controller.prompts.decide(controller.prompts.list()[0]!.id, true);
  w.afterIdentified(await w.next('identified'));
  return w;
}
