// The keychain port over Electron's safeStorage (main/electron/platform.ts), with stand-ins of the shapes
// electron.d.ts declares: where Linux has no keyring Electron selects `basic_text` (a key built into Chromium),
// and the app refuses to store a password there rather than pretend it is protected.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Secrets } from '../../main/core/desktop/secrets.ts';
import { keychainSecrets, type PlatformDeps } from '../../main/electron/platform.ts';

type Backend = ReturnType<PlatformDeps['safeStorage']['getSelectedStorageBackend']>;

function safeStorage(available: boolean, backend: Backend): PlatformDeps['safeStorage'] {
  return {
    isAsyncEncryptionAvailable: async () => available,
    getSelectedStorageBackend: () => backend,
    encryptStringAsync: async (plain) => Buffer.from(`v11${Buffer.from(plain).toString('hex')}`),
    decryptStringAsync: async (blob) => ({ shouldReEncrypt: false, result: Buffer.from(blob.subarray(3).toString(), 'hex').toString() }),
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-secrets-'));
  dirs.push(dir);
  return dir;
};

describe('passwords through safeStorage', () => {
  it('stores and reads back with a real keyring (libsecret)', async () => {
    const secrets = new Secrets(dataDir(), keychainSecrets(safeStorage(true, 'gnome_libsecret'), 'linux'));
    await secrets.save('centralSync', 'pässword');
    expect(secrets.has('centralSync')).toBe(true);
    expect(await secrets.load('centralSync')).toBe('pässword');
    await secrets.save('centralSync', '');
    expect(secrets.has('centralSync')).toBe(false);
    expect(await secrets.load('centralSync')).toBeNull();
  });

  it('refuses Linux\'s basic_text fallback and an unavailable keychain, writing nothing', async () => {
    const linux = new Secrets(dataDir(), keychainSecrets(safeStorage(true, 'basic_text'), 'linux'));
    await expect(linux.save('centralSync', 'x')).rejects.toThrow(/no keyring \(GNOME Keyring or KWallet\)/);
    expect(linux.has('centralSync')).toBe(false);
    const none = new Secrets(dataDir(), keychainSecrets(safeStorage(false, 'unknown'), 'win32'));
    await expect(none.save('centralRead', 'x')).rejects.toThrow(/system keychain is not available/);
  });

  it('the backend name matters on Linux only (elsewhere Electron reports none)', async () => {
    const windows = new Secrets(dataDir(), keychainSecrets(safeStorage(true, 'basic_text'), 'win32'));
    await windows.save('centralSync', 'x');
    expect(await windows.load('centralSync')).toBe('x');
  });
});
