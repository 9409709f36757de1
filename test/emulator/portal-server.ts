// Serves the emulated Bitrix24 portal and the worker host over HTTPS on 127.0.0.1, each on its own origin:
// the portal page (with its REST stub) and the real built worker from out/worker/.
import { readFileSync, existsSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { build } from 'esbuild';
import { selfSignedCertificate } from './certificate.ts';

export const PORTAL_HOST = 'portal.test';
export const WORKER_HOST = 'worker.test';
/** A web page on another site that frames the worker and answers the frame protocol itself (an attacker). */
export const HOSTILE_HOST = 'hostile.test';

export interface RestCall {
  method: string;
  params: Record<string, string>;
}

export interface Emulator {
  portalOrigin: string;
  workerOrigin: string;
  portalPort: number;
  workerPort: number;
  restCalls: RestCall[];
  bindings: Array<Record<string, string>>;
  /** The portal page, iframing the worker (`?port=` to point it at a relay). */
  portalUrl(options?: { relayPort?: number; sid?: string; user?: string; mode?: 'browser' | 'desktop'; lateEventsMs?: number; cardAtBind?: string }): string;
  /** The portal showing the application's install page in its frame. */
  installUrl(): string;
  /** The same portal page served from `HOSTILE_HOST`: another site framing the worker as if it were Bitrix24. */
  hostileUrl(options?: { relayPort?: number }): string;
  /**
   * What the worker host's `portals.json` lists, as the administrator wrote it (default: the emulated portal);
   * null: no such file.
   */
  setPortals(list: string[] | string | null): void;
  close(): Promise<void>;
}

const root = path.join(import.meta.dirname, '..', '..');

async function portalScript(): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['test/emulator/portal-page.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'warning',
  });
  return result.outputFiles[0]?.text ?? '';
}

function portalHtml(script: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bitrix24 (emulated portal)</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#eef2f4;color:#333}
header{background:#2fc6f6;color:#fff;padding:10px 18px;font-weight:600}
main{padding:18px}
#card{width:340px;background:#fff;border-radius:10px;box-shadow:0 4px 18px rgba(0,0,0,.15);padding:16px}
#card .head{font-weight:600;margin-bottom:6px}
#card-state{color:#666;margin-bottom:12px}
#card .buttons{display:flex;gap:8px;flex-wrap:wrap}
#card button{font:inherit;padding:6px 14px;border-radius:16px;border:1px solid #bbb;background:#f6f6f6;cursor:pointer}
#card[data-muted=true] #mute{background:#e74c3c;color:#fff;border-color:#e74c3c}
#card[data-held=true] #hold{background:#f39c12;color:#fff;border-color:#f39c12}
#hangup{background:#e74c3c!important;color:#fff;border-color:#e74c3c!important}
#user{color:#777;font-size:13px;margin-bottom:10px}
</style></head><body><header>Bitrix24 · emulated portal</header><main><div id="user"></div><div id="card"></div></main>
<script>${script.replaceAll('</script', '<\\/script')}</script></body></html>`;
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json' };

export interface EmulatorOptions {
  workerDir?: string;
  /** Host names in the origins (tests map them to 127.0.0.1 in Chromium; a demo uses localhost and 127.0.0.1). */
  portalHost?: string;
  workerHost?: string;
  /** Fixed ports (a demo); 0 picks free ones. */
  portalPort?: number;
  workerPort?: number;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const workerDir = options.workerDir ?? path.join(root, 'out', 'worker');
  if (!existsSync(path.join(workerDir, 'index.html'))) throw new Error(`no built worker in ${workerDir}: run npm run build`);
  const portalHost = options.portalHost ?? PORTAL_HOST;
  const workerHost = options.workerHost ?? WORKER_HOST;
  const tls = selfSignedCertificate([PORTAL_HOST, WORKER_HOST, HOSTILE_HOST]);
  /** Set once the ports are known: the emulated portal's origin. */
  let portals: string[] | string | null = [];
  const page = portalHtml(await portalScript());
  const restCalls: RestCall[] = [];
  const bindings: Array<Record<string, string>> = [];

  const rest = (method: string, params: Record<string, string>): { status: number; body: unknown } => {
    restCalls.push({ method, params });
    const user = /^auth-(\d+)/.exec(params.auth ?? '')?.[1];
    if (!user) return { status: 401, body: { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' } };
    switch (method) {
      case 'user.current':
        return { status: 200, body: { result: { ID: user, NAME: 'Olga', LAST_NAME: `Operator${user}` } } };
      case 'placement.get':
        return { status: 200, body: { result: bindings.map((b) => ({ placement: b.PLACEMENT, handler: b.HANDLER, userId: b.USER_ID ?? 0, options: { errorHandlerUrl: b['OPTIONS[errorHandlerUrl]'] } })) } };
      case 'placement.bind': {
        if (!params['OPTIONS[errorHandlerUrl]']) return { status: 400, body: { error: 'EMPTY_ERROR_HANDLER_URL', error_description: 'errorHandlerUrl is required' } };
        if (bindings.some((b) => b.PLACEMENT === params.PLACEMENT && (b.USER_ID ?? '') === (params.USER_ID ?? ''))) {
          return { status: 400, body: { error: 'ERROR_PLACEMENT_MAX_COUNT', error_description: 'Placement handler already bound' } };
        }
        const { auth: _auth, ...binding } = params;
        bindings.push(binding);
        return { status: 200, body: { result: true } };
      }
      case 'placement.unbind': {
        const before = bindings.length;
        for (let i = bindings.length - 1; i >= 0; i -= 1) {
          const b = bindings[i] as Record<string, string>;
          if (b.PLACEMENT === params.PLACEMENT && (!params.HANDLER || b.HANDLER === params.HANDLER) && (b.USER_ID ?? '') === (params.USER_ID ?? '')) bindings.splice(i, 1);
        }
        return { status: 200, body: { result: { count: before - bindings.length } } };
      }
      default:
        return { status: 404, body: { error: 'ERROR_METHOD_NOT_FOUND', error_description: `Method not found: ${method}` } };
    }
  };

  const portal = https.createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://portal');
    const restMatch = /^\/rest\/([\w.]+)\.json$/.exec(url.pathname);
    if (restMatch) {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(body));
        const { status, body: answer } = rest(restMatch[1] as string, params);
        // Bitrix24's REST answers cross-origin requests from app frames.
        res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify(answer));
      });
      return;
    }
    // Every other path is a Bitrix24 page (/crm/deal/, /stream/, …): each one loads the worker.
    if (url.pathname === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });

  const worker = https.createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://worker');
    const file = path.join(workerDir, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
    req.resume(); // Bitrix24 POSTs the form into the frame; a static host ignores the body.
    if (url.pathname === '/portals.json') {
      if (portals === null) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(typeof portals === 'string' ? portals : JSON.stringify(portals));
      return;
    }
    if (!file.startsWith(workerDir) || !existsSync(file) || !/\.(html|js)$/.test(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });

  const listen = (server: https.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const [portalPort, workerPort] = await Promise.all([listen(portal, options.portalPort ?? 0), listen(worker, options.workerPort ?? 0)]);
  const portalOrigin = `https://${portalHost}:${portalPort}`;
  const workerOrigin = `https://${workerHost}:${workerPort}`;
  portals = [portalOrigin];

  const emulator: Emulator = {
    portalOrigin,
    workerOrigin,
    portalPort,
    workerPort,
    restCalls,
    bindings,
    portalUrl(o = {}) {
      const workerUrl = new URL(`${workerOrigin}/index.html`);
      if (o.relayPort !== undefined) workerUrl.searchParams.set('port', String(o.relayPort));
      const url = new URL(`${portalOrigin}/crm/deal/`);
      url.searchParams.set('worker', workerUrl.toString());
      if (o.sid) url.searchParams.set('sid', o.sid);
      url.searchParams.set('user', o.user ?? '7');
      if (o.mode) url.searchParams.set('mode', o.mode);
      if (o.lateEventsMs) url.searchParams.set('lateEvents', String(o.lateEventsMs));
      if (o.cardAtBind) url.searchParams.set('cardAtBind', o.cardAtBind);
      return url.toString();
    },
    hostileUrl(o = {}) {
      const url = new URL(emulator.portalUrl(o));
      url.hostname = HOSTILE_HOST;
      return url.toString();
    },
    setPortals(list) {
      portals = list;
    },
    installUrl() {
      const url = new URL(`${portalOrigin}/marketplace/app/operator-companion/`);
      url.searchParams.set('worker', `${workerOrigin}/install.html`);
      url.searchParams.set('placement', 'DEFAULT');
      url.searchParams.set('sid', 'INSTALL');
      url.searchParams.set('user', '1');
      return url.toString();
    },
    close: async () => {
      for (const server of [portal, worker]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
  return emulator;
}
