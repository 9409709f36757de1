// The local control channel: how `operator-companion mute|unmute|toggle|hold|unhold|status`, hotkey tools and
// hardware buttons reach the running instance. An HTTP endpoint on 127.0.0.1 with a random port, guarded by a
// secret written to the data directory with owner-only permissions: only the same OS user can read it, so only
// that user's programs can drive the app. Browsers are refused outright (they send `Origin`).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { isLoopbackHost } from '../relay/upgrade-policy.ts';

export const CONTROL_FILE = 'control.json';
const MAX_BODY_BYTES = 4096;

export interface ControlFile {
  port: number;
  secret: string;
  pid: number;
  relayPort: number;
  startedAt: number;
}

const isInteger = (value: unknown, min: number): value is number => Number.isInteger(value) && (value as number) >= min;

/**
 * Checked by hand rather than with zod: the control commands run from hotkeys, and loading zod would triple
 * their start-up time for a five-field file.
 */
function parseControlFile(value: unknown): ControlFile {
  const v = (value ?? {}) as Record<string, unknown>;
  if (!isInteger(v.port, 1)) throw new Error('port must be a positive integer');
  if (typeof v.secret !== 'string' || v.secret.length < 32) throw new Error('secret must be a string of at least 32 characters');
  if (!isInteger(v.pid, 1)) throw new Error('pid must be a positive integer');
  if (!isInteger(v.relayPort, 0)) throw new Error('relayPort must be a non-negative integer');
  if (typeof v.startedAt !== 'number' || !Number.isFinite(v.startedAt)) throw new Error('startedAt must be a number');
  return { port: v.port, secret: v.secret, pid: v.pid, relayPort: v.relayPort, startedAt: v.startedAt };
}

export interface ControlHandlers {
  status(): unknown;
  /** Returns an HTTP status and a JSON body. */
  action(name: string): Promise<{ status: number; body: unknown }>;
}

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

export function controlFilePath(dataDir: string): string {
  return path.join(dataDir, CONTROL_FILE);
}

export function readControlFile(dataDir: string): ControlFile | null {
  const file = controlFilePath(dataDir);
  if (!existsSync(file)) return null;
  try {
    return parseControlFile(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

export async function startControlServer(dataDir: string, relayPort: number, handlers: ControlHandlers): Promise<ControlServer> {
  const secret = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${secret}`);
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.headers.origin !== undefined || !isLoopbackHost(req.headers.host)) {
      reply(403, { error: 'browsers and non-loopback hosts may not use the control channel' });
      return;
    }
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      reply(401, { error: `missing or wrong secret: read it from ${CONTROL_FILE} in the data directory` });
      return;
    }
    if (req.method === 'GET' && req.url === '/v1/status') {
      reply(200, handlers.status());
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/action') {
      readBody(req)
        .then(async (text) => {
          const action = (safeJson(text) as { action?: unknown } | null)?.action;
          if (typeof action !== 'string' || action.length > 32) return reply(400, { error: 'body must be JSON like {"action":"mute"}' });
          const { status, body } = await handlers.action(action);
          reply(status, body);
        })
        .catch((error: unknown) => reply(400, { error: error instanceof Error ? error.message : String(error) }));
      return;
    }
    reply(404, { error: `no such endpoint: ${req.method} ${req.url}; use GET /v1/status or POST /v1/action` });
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  writeControlFile(dataDir, { port, secret, pid: process.pid, relayPort, startedAt: Date.now() });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Only remove the file if it is still ours (another instance may have started meanwhile).
        if (readControlFile(dataDir)?.secret === secret) rmSync(controlFilePath(dataDir), { force: true });
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function writeControlFile(dataDir: string, content: ControlFile): void {
  const file = controlFilePath(dataDir);
  const temp = `${file}.${process.pid}.tmp`;
  // Created owner-only from the start: there is no moment at which another user could read the secret.
  writeFileSync(temp, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export type ControlReply = { reachable: true; status: number; body: unknown } | { reachable: false; reason: string };

/** Talks to the instance running on `dataDir`, if any. */
export async function callControl(dataDir: string, method: 'GET' | 'POST', urlPath: string, body?: unknown, timeoutMs = 10_000): Promise<ControlReply> {
  const file = readControlFile(dataDir);
  if (!file) return { reachable: false, reason: `no running instance for ${dataDir} (no ${CONTROL_FILE})` };
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: file.port,
        method,
        path: urlPath,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${file.secret}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ reachable: true, status: res.statusCode ?? 0, body: safeJson(text) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve({ reachable: false, reason: `no running instance answered for ${dataDir} (${error.message})` }));
    req.end(payload);
  });
}
