// Passwords the desktop app must keep (the central PostgreSQL logins), never in settings.json: the platform's
// keychain encrypts them (Electron's safeStorage: DPAPI on Windows, the Keychain on macOS, the Secret Service or
// KWallet on Linux) and only the encrypted blob is written, to a 0600 file in the data folder. Where the platform
// cannot encrypt for real (Linux without a keyring, where Electron falls back to a fixed key), nothing is stored
// and the caller gets the reason.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The platform's keychain. A fake in tests; `main/electron/platform.ts` is the real one. */
export interface SecretsPort {
  /** Why secrets cannot be kept safely on this system (one line), or null when they can. */
  unavailable(): Promise<string | null>;
  encrypt(plain: string): Promise<Buffer>;
  decrypt(blob: Buffer): Promise<string>;
}

/** The secrets the app keeps: the central sync login's password and the read-only (supervisor) one's. */
export const SECRET_NAMES = ['centralSync', 'centralRead'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

const FILES: Record<SecretName, string> = { centralSync: 'central-sync.secret', centralRead: 'central-read.secret' };

export class SecretUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
}

export class Secrets {
  private readonly dataDir: string;
  private readonly port: SecretsPort;

  constructor(dataDir: string, port: SecretsPort) {
    this.dataDir = dataDir;
    this.port = port;
  }

  private file(name: SecretName): string {
    return path.join(this.dataDir, FILES[name]);
  }

  has(name: SecretName): boolean {
    return existsSync(this.file(name));
  }

  /** Encrypts and stores `plain`; '' forgets it. Throws SecretUnavailableError (nothing written) without a keychain. */
  async save(name: SecretName, plain: string): Promise<void> {
    if (plain === '') {
      rmSync(this.file(name), { force: true });
      return;
    }
    const why = await this.port.unavailable();
    if (why !== null) throw new SecretUnavailableError(why);
    const blob = await this.port.encrypt(plain);
    const file = this.file(name);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, blob, { mode: 0o600 });
    renameSync(temp, file);
  }

  /** The stored secret, null when none is stored; throws with the reason when it cannot be decrypted. */
  async load(name: SecretName): Promise<string | null> {
    const file = this.file(name);
    if (!existsSync(file)) return null;
    const why = await this.port.unavailable();
    if (why !== null) throw new SecretUnavailableError(why);
    try {
      return await this.port.decrypt(readFileSync(file));
    } catch (error) {
      throw new SecretUnavailableError(`the saved password could not be decrypted (${error instanceof Error ? error.message : String(error)}); enter it again in the settings`);
    }
  }
}
