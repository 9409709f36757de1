// What a hostile page, a local program or an overloaded browser can throw at the port, against a real `serve`
// process on loopback (and, for the timing-based cases, the same core in-process with short timeouts).
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../common/protocol.ts';
import { Companion } from '../../main/core/companion.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_ORIGIN as ORIGIN, useServe, useWorkers } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import type { TestWorker} from '../helpers/test-worker.ts';
import { type TestWorkerOptions } from '../helpers/test-worker.ts';
import { upgradeStatus } from '../helpers/upgrade.ts';
import { FLOOD_CLIENTS } from './sizes.ts';

const tempDir = useTempDirs();
const { serve: startServing } = useServe();
const newWorker = useWorkers();
const serve = (dataDir: string, extra: string[] = ['--auto-approve']) => startServing(dataDir, { autoApprove: extra.includes('--auto-approve') });
const worker = (port: number, options: Partial<TestWorkerOptions> = {}): TestWorker => newWorker({ port, origin: ORIGIN, ...options });

function storedEvents(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'sessions.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('who may connect', () => {
  it('refuses foreign, missing and plain-http origins and a DNS-rebinding Host with 403, and stays up', async () => {
    const s = await serve(tempDir());
    const cases: Array<Record<string, string>> = [
      { origin: 'https://evil.example', host: `127.0.0.1:${s.port}` },
      { host: `127.0.0.1:${s.port}` },
      { origin: 'http://worker.test', host: `127.0.0.1:${s.port}` },
      { origin: 'null', host: `127.0.0.1:${s.port}` },
      { origin: ORIGIN, host: `rebind.evil.example:${s.port}` },
      { origin: ORIGIN, host: `127.0.0.1.evil.example:${s.port}` },
    ];
    for (const headers of cases) expect((await upgradeStatus(s.port, headers)).status).toBe(403);
    expect((await upgradeStatus(s.port, { origin: ORIGIN, host: `localhost:${s.port}` })).status).toBe(101);
  });

  it('an unpaired client of a serve without auto-approval gets nothing stored and may retry later', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir, []);
    const w = worker(s.port);
    await w.open();
    w.identify();
    expect(await w.closed()).toBe(CLOSE_CODES.normal.code);
    const status = await runCli(['status', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ store: { events: 0 } });
  });

  it('token guessing is cut off after 20 unknown tokens a minute', async () => {
    const s = await serve(tempDir());
    const codes: number[] = [];
    for (let i = 0; i < 25; i += 1) {
      const w = worker(s.port, { pairingToken: `guess-${i}-${'x'.repeat(30)}`, appSid: `g${i}` });
      await w.open();
      w.identify();
      const outcome = await Promise.race([w.next('identified').then(() => 0), w.closed()]);
      codes.push(outcome);
      await w.kill();
    }
    // Unknown tokens count as no token: the first ones are paired afresh (auto-approve), then the door closes.
    expect(codes.slice(0, 20).every((c) => c === 0)).toBe(true);
    expect(codes.slice(20)).toEqual(new Array(5).fill(CLOSE_CODES.rateLimited.code));
  });
});

describe('floods', () => {
  it('one client sending 5000 events at once: the excess is refused, not acknowledged, and lost nothing; resent at a sane pace, all are stored once', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const w = worker(s.port);
    await w.connect();
    for (let i = 0; i < 5_000; i += 1) w.emit('muteButtonClick', i % 2 === 0);
    // The server refuses what is over its limit and, as the flood goes on, closes with "rate limited".
    expect(await w.closed()).toBe(CLOSE_CODES.rateLimited.code);
    expect(w.received.some((m) => m.type === 'error' && m.code === 'rate_limited')).toBe(true);
    // Every acknowledged event is stored; a few more may be stored whose acks the close cut off (they come
    // again and are recognised as duplicates).
    const ackedInFlood = 5_000 - w.outbox.length;
    expect(storedEvents(dataDir)).toBeGreaterThanOrEqual(ackedInFlood);
    // A well-behaved worker reconnects and resends at a pace the server accepts.
    const resend = worker(s.port, { appSid: w.appSid, ...(w.pairingToken ? { pairingToken: w.pairingToken } : {}) });
    resend.outbox.push(...w.outbox);
    resend.lastAckedSeq = w.lastAckedSeq;
    await resend.open();
    resend.identify();
    await resend.next('identified');
    while (resend.outbox.length > 0) {
      for (const entry of resend.outbox.slice(0, 150)) resend.sendRaw({ type: 'event', ...entry });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(storedEvents(dataDir)).toBe(5_000);
  }, 90_000);

  it(`${FLOOD_CLIENTS} clients at once, each with a few events: all connected, all stored`, async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const first = worker(s.port, { appSid: 'tab-0' });
    await first.connect();
    const clients = Array.from({ length: FLOOD_CLIENTS - 1 }, (_, i) => worker(s.port, { appSid: `tab-${i + 1}`, pairingToken: first.pairingToken }));
    await Promise.all(clients.map((c) => c.connect()));
    for (const c of [first, ...clients]) for (let i = 0; i < 5; i += 1) c.emit('dialpadButtonClick', String(i));
    await Promise.all([first, ...clients].map((c) => expect.poll(() => c.outbox.length, { timeout: 30_000 }).toBe(0)));
    expect(storedEvents(dataDir)).toBe(FLOOD_CLIENTS * 5);
    const status = JSON.parse((await runCli(['status', '--data-dir', dataDir, '--json'])).stdout) as { running: { view: { connectedFrames: number } } };
    expect(status.running.view.connectedFrames).toBe(FLOOD_CLIENTS);
  }, 60_000);
});

describe('slow clients', () => {
  it('a client that never finishes a frame is closed as dead', async () => {
    const companion = await Companion.start({ dataDir: tempDir(), port: 0, allowedOrigins: [ORIGIN], autoApprove: true, timings: { heartbeatMs: 100, deadPeerMs: 400 } });
    try {
      const w = worker(companion.port);
      await w.connect();
      // A frame header announcing 100 bytes, then only 10 of them: the socket falls silent mid-frame.
      const raw = (w.socket as unknown as { _socket: net.Socket })._socket;
      raw.write(Buffer.from([0x81, 0x80 | 100, 1, 2, 3, 4, ...new Array(10).fill(65)]));
      expect(await w.closed()).toBe(CLOSE_CODES.deadPeer.code);
      await expect.poll(() => companion.status().openSockets).toBe(0);
    } finally {
      await companion.stop();
    }
  });

  it('a client that never finishes its HTTP request is cut off', async () => {
    const s = await serve(tempDir());
    const socket = net.connect(s.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
