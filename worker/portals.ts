// Which Bitrix24 portals this deployment serves: `portals.json` beside the worker pages, written by the Bitrix24
// administrator (a JSON array of origins such as "https://acme.bitrix24.ru" or "https://*.bitrix24.ru"; lines
// starting with // are comments). The worker only starts inside a page whose origin is listed: the embedding page
// answers the frame protocol, so a page that is not the portal could feed it forged calls and receive the app's
// commands. The parent's origin comes from the browser (`location.ancestorOrigins`), not from `window.name`, which
// the embedding page sets. A missing or unreadable list means: no portal is served.
import type { FrameContext } from './bx24-frame.ts';

export type PortalCheck = { ok: true; parentOrigin: string } | { ok: false; reason: string };

/** `https://host[:port]` or `https://*.domain[:port]`; nothing else is a valid entry. */
const ENTRY = /^https:\/\/(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*)(:\d{1,5})?$/;

export function parsePortalList(text: string): string[] | null {
  const json = text.split('\n').filter((line) => !line.trim().startsWith('//')).join('\n');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return null;
  return (value as string[]).map((v) => v.trim().toLowerCase().replace(/\/+$/, '')).filter((v) => ENTRY.test(v));
}

/** Whether `origin` is one of the entries; `*.` matches one or more labels, never the bare domain. */
export function portalAllowed(origin: string, entries: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.origin !== origin.toLowerCase()) return false;
  const port = url.port;
  return entries.some((entry) => {
    const match = ENTRY.exec(entry);
    if (!match) return false;
    const [, wildcard, host, , entryPort] = match;
    if ((entryPort ?? '').slice(1) !== port) return false;
    return wildcard ? url.hostname.endsWith(`.${host}`) : url.hostname === host;
  });
}

/** The embedding page's origin as the browser knows it, or null where the browser does not say (older Firefox). */
export function browserParentOrigin(): string | null {
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  if (!ancestors || ancestors.length === 0) return null;
  return ancestors.item(0);
}

/**
 * Decides whether this page may serve the portal that embeds it. Where the browser does not tell the parent's
 * origin, the `Content-Security-Policy: frame-ancestors` header of the worker's host is what keeps other pages
 * from framing it (README, administrator section).
 */
export async function checkPortal(context: FrameContext): Promise<PortalCheck> {
  const listUrl = new URL('portals.json', location.href).toString();
  const actual = browserParentOrigin();
  if (actual !== null && actual !== context.parentOrigin) {
    return { ok: false, reason: `the page embedding this worker is ${actual}, but it claims to be ${context.parentOrigin}: refused` };
  }
  const parentOrigin = actual ?? context.parentOrigin;
  let text: string;
  try {
    const response = await fetch(listUrl, { cache: 'no-cache', credentials: 'omit' });
    if (!response.ok) {
      return { ok: false, reason: `${listUrl} is missing (HTTP ${response.status}), so this worker serves no portal: the administrator lists the portals there` };
    }
    text = await response.text();
  } catch (error) {
    return { ok: false, reason: `${listUrl} could not be read (${error instanceof Error ? error.message : String(error)}), so this worker serves no portal` };
  }
  const entries = parsePortalList(text);
  if (!entries) return { ok: false, reason: `${listUrl} is not a JSON array of origins, so this worker serves no portal` };
  if (!portalAllowed(parentOrigin, entries)) {
    return { ok: false, reason: `${parentOrigin} is not listed in ${listUrl}: this worker does not serve it` };
  }
  return { ok: true, parentOrigin };
}
