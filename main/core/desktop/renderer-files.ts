// How the app windows' files are served: from the built renderer folder only, with a strict Content Security
// Policy. The Electron protocol handler and the window tests both serve through this.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Scripts and styles from the app itself only; no inline code, no network, no frames, no forms. */
export const RENDERER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface RendererFile {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function plain(status: number, text: string): RendererFile {
  return { status, headers: { 'content-type': 'text/plain' }, body: Buffer.from(text) };
}

export function rendererFile(dir: string, urlPath: string): RendererFile {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return plain(400, 'malformed percent-encoding in the path');
  }
  const root = path.resolve(dir);
  const file = path.resolve(root, `.${decoded}`);
  const type = TYPES[path.extname(file)];
  if (!file.startsWith(root + path.sep) || !type || !existsSync(file) || !statSync(file).isFile()) return plain(404, 'not found');
  return {
    status: 200,
    headers: { 'content-type': type, 'content-security-policy': RENDERER_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' },
    body: readFileSync(file),
  };
}
