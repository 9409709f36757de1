// Where the worker keeps what must outlive a page load: the pairing token, unacknowledged events, its status.
// The worker is a third-party frame inside the portal, and browsers that block third-party cookies (current
// Chromium does by default) also deny it localStorage and IndexedDB. Partitioned cookies (CHIPS) are still
// allowed there, keyed to the portal's site, so they are the fallback; their budget is small (about 10 KB per
// portal), which callers respect by keeping values short. Keys must be cookie-safe: [A-Za-z0-9_-].

export interface Persistence {
  readonly kind: 'localStorage' | 'partitioned-cookie' | 'memory';
  get(key: string): string | null;
  /** False when the value could not be kept (too large for a cookie, storage full). */
  set(key: string, value: string): boolean;
  remove(key: string): void;
  keys(prefix: string): string[];
}

/** Largest encoded cookie value written; browsers cap name plus value at 4096 bytes. */
export const MAX_COOKIE_VALUE = 3_500;
const COOKIE_MAX_AGE_S = 30 * 24 * 3600;

const SAFE_KEY = /^[A-Za-z0-9_-]+$/;

export function safeKey(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, '-')).join('_');
}

function checkKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new Error(`storage key "${key}" is not cookie-safe`);
}

function localStorageIfUsable(): Storage | null {
  try {
    const storage = window.localStorage;
    storage.setItem('oc_probe', '1');
    storage.removeItem('oc_probe');
    return storage;
  } catch {
    return null;
  }
}

class LocalStoragePersistence implements Persistence {
  readonly kind = 'localStorage' as const;
  private readonly storage: Storage;

  constructor(storage: Storage) {
    this.storage = storage;
  }

  get(key: string): string | null {
    return this.storage.getItem(key);
  }

  set(key: string, value: string): boolean {
    checkKey(key);
    try {
      this.storage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  }

  remove(key: string): void {
    this.storage.removeItem(key);
  }

  keys(prefix: string): string[] {
    return Array.from({ length: this.storage.length }, (_, i) => this.storage.key(i)).filter((k): k is string => k?.startsWith(prefix) ?? false);
  }
}

class PartitionedCookiePersistence implements Persistence {
  readonly kind = 'partitioned-cookie' as const;

  private all(): Map<string, string> {
    const jar = new Map<string, string>();
    for (const pair of document.cookie.split('; ')) {
      const eq = pair.indexOf('=');
      if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return jar;
  }

  get(key: string): string | null {
    const raw = this.all().get(key);
    if (raw === undefined) return null;
    try {
      return decodeURIComponent(raw);
    } catch {
      return null;
    }
  }

  set(key: string, value: string): boolean {
    checkKey(key);
    const encoded = encodeURIComponent(value);
    if (encoded.length > MAX_COOKIE_VALUE) return false;
    document.cookie = `${key}=${encoded}; Max-Age=${COOKIE_MAX_AGE_S}; Path=/; Secure; SameSite=None; Partitioned`;
    return this.all().get(key) === encoded;
  }

  remove(key: string): void {
    document.cookie = `${key}=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned`;
  }

  keys(prefix: string): string[] {
    return [...this.all().keys()].filter((k) => k.startsWith(prefix));
  }
}

class MemoryPersistence implements Persistence {
  readonly kind = 'memory' as const;
  private readonly values = new Map<string, string>();
  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  set(key: string, value: string): boolean {
    this.values.set(key, value);
    return true;
  }
  remove(key: string): void {
    this.values.delete(key);
  }
  keys(prefix: string): string[] {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix));
  }
}

function cookiesUsable(): boolean {
  try {
    document.cookie = 'oc_probe=1; Max-Age=60; Path=/; Secure; SameSite=None; Partitioned';
    const ok = document.cookie.includes('oc_probe=1');
    document.cookie = 'oc_probe=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned';
    return ok;
  } catch {
    return false;
  }
}

let opened: Persistence | undefined;

export function persistence(): Persistence {
  if (opened) return opened;
  const storage = localStorageIfUsable();
  opened = storage ? new LocalStoragePersistence(storage) : cookiesUsable() ? new PartitionedCookiePersistence() : new MemoryPersistence();
  return opened;
}
