// The loopback WebSocket server. It binds 127.0.0.1 only, checks every upgrade against the upgrade policy,
// and takes the first free port of a small range so that another program on the default port does not stop it.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from '../../../common/protocol.ts';
import { checkUpgrade, type UpgradePolicy } from './upgrade-policy.ts';

export interface RelayServerOptions {
  host?: string;
  /** First port to try; 0 lets the OS choose (tests). */
  port: number;
  /** How many consecutive ports to try after `port`. */
  fallbackCount: number;
  policy: UpgradePolicy;
  maxFrameBytes?: number;
  onConnection(socket: WebSocket, origin: string): void;
  onRejected?(reason: string): void;
}

export interface RelayServer {
  port: number;
  /** Stops accepting, closes every socket with `code`, resolves when the port is free. */
  close(code: number, reason: string): Promise<void>;
}

export class PortsTakenError extends Error {
  constructor(first: number, last: number) {
    super(`ports ${first}-${last} on 127.0.0.1 are all taken by other programs; free one or choose another with --port`);
    this.name = 'PortsTakenError';
  }
}

export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  const host = options.host ?? '127.0.0.1';
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? MAX_FRAME_BYTES, perMessageDeflate: false });
  // Slow clients that never finish their request headers are cut off (checked every second, not every 30 s).
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 1_000 }, (_req, res) => {
    // Nothing changes over plain HTTP: this port speaks WebSocket only.
    res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'close' });
    res.end('Operator Companion relay: WebSocket connections only.\n');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const verdict = checkUpgrade({ origin: req.headers.origin, host: req.headers.host }, options.policy);
    if (!verdict.ok) {
      options.onRejected?.(verdict.reason);
      const body = `Forbidden: ${verdict.reason}\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => options.onConnection(ws, verdict.origin));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const port = await listenOnFirstFree(server, host, options.port, options.fallbackCount);
  return {
    port,
    close: (code, reason) =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.close(code, reason);
        const force = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
          server.closeAllConnections();
        }, 1_000);
        force.unref();
        wss.close();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

async function listenOnFirstFree(server: http.Server, host: string, first: number, fallbackCount: number): Promise<number> {
  const last = first === 0 ? 0 : first + fallbackCount;
  for (let port = first; port <= last; port += 1) {
    const result = await new Promise<number | 'taken'>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        if (error.code === 'EADDRINUSE') resolve('taken');
        else reject(error);
      };
      const onListening = (): void => {
        server.off('error', onError);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
    if (result !== 'taken') return result;
  }
  throw new PortsTakenError(first, last);
}
