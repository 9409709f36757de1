// Who may open a socket to the relay, decided before the WebSocket upgrade.
// Any web page in the operator's browser can try to reach 127.0.0.1, so the `Origin` must be on the allow-list
// and the `Host` must be a loopback name (a public name pointing at 127.0.0.1 means DNS rebinding).

export interface UpgradePolicy {
  /** Exact HTTPS origins of the worker host, e.g. `https://companion.example.com`. */
  allowedOrigins: string[];
  /** Also accept `http(s)://127.0.0.1|localhost|[::1]` origins on any port: for development and the emulator. */
  allowLoopbackOrigins: boolean;
}

export type UpgradeVerdict = { ok: true; origin: string } | { ok: false; reason: string };

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Normalises an origin the way browsers send it: lower-case scheme and host, no default port, no path. */
export function normalizeOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return null;
  return url.origin;
}

export function isLoopbackOrigin(origin: string): boolean {
  try {
    return LOOPBACK_HOSTNAMES.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/** `Host` is `name[:port]`; only loopback names pass. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const match = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!match) return false;
  return LOOPBACK_HOSTNAMES.has((match[1] as string).toLowerCase());
}

export function checkUpgrade(headers: { origin?: string | undefined; host?: string | undefined }, policy: UpgradePolicy): UpgradeVerdict {
  if (!isLoopbackHost(headers.host)) return { ok: false, reason: `Host "${headers.host ?? ''}" is not a loopback name` };
  if (!headers.origin) return { ok: false, reason: 'missing Origin header' };
  const origin = normalizeOrigin(headers.origin);
  if (!origin) return { ok: false, reason: `Origin "${headers.origin}" is not a web origin` };
  if (policy.allowLoopbackOrigins && isLoopbackOrigin(origin)) return { ok: true, origin };
  if (!origin.startsWith('https://')) return { ok: false, reason: `Origin ${origin} is not HTTPS` };
  if (!policy.allowedOrigins.includes(origin)) return { ok: false, reason: `Origin ${origin} is not on the allow-list` };
  return { ok: true, origin };
}
