import http from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_CODES } from '../../common/protocol.ts';
import { TEST_ORIGIN as ORIGIN, useCore } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { upgradeStatus } from '../helpers/upgrade.ts';

const tempDir = useTempDirs();
const { startCompanion, stopCompanion, worker } = useCore(tempDir);

describe('upgrade checks', () => {
  it('accepts an allowed origin with a loopback Host', async () => {
    const companion = await startCompanion();
    const result = await upgradeStatus(companion.port, { origin: ORIGIN, host: `127.0.0.1:${companion.port}` });
    expect(result.status).toBe(101);
  });

  it.each([
    ['a foreign origin', { origin: 'https://evil.example', host: '127.0.0.1' }, /not on the allow-list/],
    ['no origin', { host: '127.0.0.1' }, /missing Origin/],
    ['a plain-http origin', { origin: 'http://worker.test', host: '127.0.0.1' }, /not HTTPS/],
    ['a DNS-rebinding Host', { origin: ORIGIN, host: 'attacker.example:17345' }, /not a loopback name/],
    ['a loopback origin when those are not allowed', { origin: 'http://127.0.0.1:8080', host: 'localhost' }, /not HTTPS/],
  ])('refuses %s with 403 and says why', async (_label, headers, reason) => {
    const companion = await startCompanion();
    const result = await upgradeStatus(companion.port, headers);
    expect(result.status).toBe(403);
    expect(result.body).toMatch(reason);
  });

  it('answers plain HTTP with 426 and changes nothing', async () => {
    const companion = await startCompanion();
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: companion.port, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
    });
    expect(status).toBe(426);
    expect(companion.store.counts().events).toBe(0);
  });

  it('takes the next port when the first is busy', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const companion = await startCompanion({ port: busy, portFallbackCount: 3 });
      expect(companion.port).toBeGreaterThan(busy);
      expect(companion.port).toBeLessThanOrEqual(busy + 3);
    } finally {
      blocker.close();
    }
  });
});

describe('handshake', () => {
  it('says hello, then identified with capabilities, a pairing token and an empty snapshot', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    const hello = await w.open();
    expect(hello.server.name).toBe('operator-companion');
    w.identify();
    const identified = await w.next('identified');
    expect(identified.protocolVersion).toBe(1);
    expect(identified.capabilities.commands).toContain('CallCardSetMute');
    expect(identified.pairingToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(identified.snapshot).toEqual({ callId: null, active: false, muted: false, held: false });
    expect(companion.state.view().state).toBe('waiting');
  });

  it('closes with "version unsupported" when no version is shared', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.open();
    w.identify({ protocolVersions: [99] });
    expect(await w.closed()).toBe(CLOSE_CODES.versionUnsupported.code);
  });

  it('closes a client that never identifies', async () => {
    const companion = await startCompanion({ timings: { handshakeTimeoutMs: 200 } });
    const w = worker(companion);
    await w.open();
    expect(await w.closed()).toBe(CLOSE_CODES.handshakeTimeout.code);
  });

  it('forgets every socket it closed, identified or not', async () => {
    const companion = await startCompanion({ timings: { handshakeTimeoutMs: 100 } });
    for (let i = 0; i < 5; i += 1) {
      const w = worker(companion);
      await w.open();
      await w.closed();
    }
    await worker(companion).connect();
    await expect.poll(() => companion.status().openSockets).toBe(1);
  });

  it('closes a peer that neither speaks nor answers pings after the dead-peer timeout, and pongs pings', async () => {
    const companion = await startCompanion({ timings: { heartbeatMs: 100, deadPeerMs: 300 } });
    const w = worker(companion, { answersPings: false });
    await w.connect();
    w.sendRaw({ type: 'ping', id: 'p1' });
    expect((await w.next('pong')).id).toBe('p1');
    expect(await w.closed()).toBe(CLOSE_CODES.deadPeer.code);
  });

  it('keeps a peer whose page is silent (a hidden, throttled tab) as long as its browser answers pings', async () => {
    const companion = await startCompanion({ timings: { heartbeatMs: 100, deadPeerMs: 300 } });
    const w = worker(companion);
    await w.connect();
    // Ten dead-peer periods without a single message from the page.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(w.closeCode).toBeNull();
    expect(companion.status().view.connectedFrames).toBe(1);
  });
});

describe('validation', () => {
  it('answers bad messages with typed errors naming the problem, and stores nothing', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    w.sendRaw('{not json');
    expect(await w.next('error')).toMatchObject({ code: 'invalid_json', permanent: true });
    w.sendRaw({ type: 'event', id: 'e1', seq: 'one', at: Date.now(), name: 'hangupButtonClick', payload: [] });
    expect(await w.next('error')).toMatchObject({ code: 'invalid_message', ref: 'e1', message: expect.stringMatching(/seq/) });
    w.sendRaw({ type: 'teleport' });
    expect((await w.next('error')).code).toBe('invalid_message');
    expect(await w.emitAndWait('muteButtonClick', 'yes')).toMatchObject({ type: 'error', code: 'invalid_event', message: expect.stringMatching(/muteButtonClick/) });
    expect(await w.emitAndWait('dialpad', '5')).toMatchObject({ type: 'error', code: 'invalid_event', message: expect.stringMatching(/unknown event name/) });
    w.socket?.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await w.next('error')).message).toMatch(/binary/);
    expect(companion.store.counts().events).toBe(0);
    expect(w.closeCode).toBeNull();
  });

  it('refuses events before the handshake', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.open();
    w.sendRaw({ type: 'event', id: 'e1', seq: 1, at: Date.now(), name: 'hangupButtonClick', payload: [] });
    expect(await w.next('error')).toMatchObject({ code: 'unexpected_message', ref: 'e1', permanent: false });
    expect(companion.store.counts().events).toBe(0);
  });

  it('closes on an oversized frame', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    w.sendRaw({ type: 'event', id: 'big', seq: 1, at: Date.now(), name: 'addCommentButtonClick', payload: 'x'.repeat(100_000) });
    expect(await w.closed()).toBe(1009);
    expect(companion.store.counts().events).toBe(0);
  });

  it('rate-limits a flood and acks nothing it refused', async () => {
    const companion = await startCompanion({ rate: { burst: 20, perSecond: 1 } });
    const w = worker(companion);
    await w.connect();
    for (let i = 0; i < 60; i += 1) w.sendRaw({ type: 'ping', id: `p${i}` });
    const limited = await w.next('error');
    expect(limited.code).toBe('rate_limited');
    const pongs = w.received.filter((m) => m.type === 'pong').length;
    expect(pongs).toBeLessThanOrEqual(20);
  });
});

describe('pairing', () => {
  it('holds a new client as pending until approved, then issues a token that works next time', async () => {
    let approve!: (ok: boolean) => void;
    const asked: unknown[] = [];
    const companion = await startCompanion({
      autoApprove: false,
      approvePairing: (request) => {
        asked.push(request);
        return new Promise((resolve) => (approve = resolve));
      },
    });
    const w = worker(companion);
    await w.open();
    w.identify();
    expect((await w.next('pairingPending')).message).toMatch(/allow/);
    expect(asked).toEqual([{ origin: ORIGIN, domain: 'acme.bitrix24.com', memberId: 'member-1', userId: '7', userName: 'Olga Operator' }]);
    approve(true);
    const identified = await w.next('identified');
    expect(identified.pairingToken).toBeDefined();
    await w.disconnect();

    const again = worker(companion, { pairingToken: identified.pairingToken, appSid: 'other-tab' });
    const second = await again.connect();
    expect(second.pairingToken).toBeUndefined();
    expect(asked).toHaveLength(1);
    expect(companion.pairing.list()).toHaveLength(1);
  });

  it('keeps only a hash of the token', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    const identified = await w.connect();
    const rows = companion.store.db.prepare('SELECT token_hash FROM pairings').all() as Array<{ token_hash: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.token_hash).not.toContain(identified.pairingToken);
  });

  it('a rejected client is closed with "do not reconnect" and not asked about again, even after a restart, until unblocked', async () => {
    let asked = 0;
    const dataDir = tempDir();
    const options = { dataDir, autoApprove: false, approvePairing: async () => (asked += 1, asked > 1) };
    let companion = await startCompanion(options);
    const w = worker(companion);
    await w.open();
    w.identify();
    expect(await w.closed()).toBe(CLOSE_CODES.pairingRejected.code);
    await stopCompanion(companion);
    companion = await startCompanion(options);
    const again = worker(companion);
    await again.open();
    again.identify();
    expect(await again.closed()).toBe(CLOSE_CODES.pairingRejected.code);
    expect(asked).toBe(1);
    const [block] = companion.pairing.blocked();
    expect(block).toMatchObject({ origin: ORIGIN, domain: 'acme.bitrix24.com', userId: '7' });
    expect(companion.pairing.unblock(block!.id)).toBe(true);
    await worker(companion).connect();
    expect(asked).toBe(2);
  });

  it('an origin that is not allow-listed is never auto-approved; with nobody to ask it may retry later, and is not blocked', async () => {
    const companion = await startCompanion({ allowLoopbackOrigins: true });
    const w = worker(companion, { origin: 'https://127.0.0.1:9443' });
    await w.open();
    w.identify();
    expect(await w.closed()).toBe(CLOSE_CODES.normal.code);
    expect(companion.pairing.list()).toEqual([]);
    expect(companion.pairing.blocked()).toEqual([]);
  });

  it('revocation closes live sockets with the do-not-reconnect code and refuses the token afterwards', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    const identified = await w.connect();
    const [pairing] = companion.pairing.list();
    expect(companion.revokePairing(pairing!.id)).toBe(true);
    expect(await w.closed()).toBe(CLOSE_CODES.pairingRevoked.code);
    expect(companion.pairing.list()[0]?.revokedAt).not.toBeNull();

    const again = worker(companion, { pairingToken: identified.pairingToken });
    await again.open();
    again.identify();
    expect(await again.closed()).toBe(CLOSE_CODES.pairingRevoked.code);
  });

  it('a token presented for another operator does not count', async () => {
    const companion = await startCompanion();
    const first = await worker(companion).connect();
    const other = worker(companion, { userId: '8', pairingToken: first.pairingToken });
    const identified = await other.connect();
    expect(identified.pairingToken).toBeDefined();
    expect(identified.pairingToken).not.toBe(first.pairingToken);
  });
});

describe('events', () => {
  it('stores an event once, acknowledging duplicates as such', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    const entry = w.emit('initialized', { CALL_ID: 'call-1', PHONE_NUMBER: '+4930123' });
    expect(await w.next('ack')).toMatchObject({ id: entry.id, duplicate: false });
    w.sendRaw({ type: 'event', ...entry });
    expect(await w.next('ack')).toMatchObject({ id: entry.id, duplicate: true });
    expect(companion.store.counts()).toMatchObject({ events: 1, calls: 1, openCalls: 1 });
  });

  it('replays unacknowledged events after a reconnect, each stored once', async () => {
    const dataDir = tempDir();
    const companion = await startCompanion({ dataDir });
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'call-1' });
    await w.kill();
    w.emit('muteButtonClick', true);
    w.emit('muteButtonClick', false);
    expect(w.outbox).toHaveLength(2);
    const identified = await w.connect();
    expect(identified.snapshot).toMatchObject({ callId: 'call-1', active: true });
    await w.drain();
    expect(companion.store.counts().events).toBe(3);
  });

  it('tells a reconnecting worker what is already stored, so it drops that from its buffer', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'call-1' });
    await w.emitAndWait('muteButtonClick', true);
    await w.kill();
    // The same page reconnecting (its card lives on).
    const identified = await w.connect();
    expect(identified.lastStoredSeq).toBe(2);
    expect(identified.snapshot).toEqual({ callId: 'call-1', active: true, muted: true, held: false });
  });

  it('tells a reloaded page (same tab, new page load) that its call is over: the card died with the old page', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'call-1' });
    await w.reload();
    const identified = await w.connect();
    expect(identified.lastStoredSeq).toBe(1);
    expect(identified.snapshot).toEqual({ callId: null, active: false, muted: false, held: false });
  });

  it('an adopted outbox never takes over a frame whose own tab is still connected (a hidden tab that only looked closed)', async () => {
    const companion = await startCompanion();
    const owner = worker(companion);
    await owner.connect();
    const adopter = worker(companion, { appSid: owner.appSid, pairingToken: owner.pairingToken });
    await adopter.open();
    adopter.identify({ frame: { appSid: owner.appSid, pageId: adopter.pageId, adopted: true } });
    expect(await adopter.closed()).toBe(CLOSE_CODES.replaced.code);
    expect(owner.closeCode).toBeNull();
    await owner.emitAndWait('initialized', { CALL_ID: 'still-mine' });
    expect(companion.state.view()).toMatchObject({ state: 'live', connectedFrames: 1 });
  });

  it('a second socket for the same frame replaces the first', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    const twin = worker(companion, { appSid: w.appSid, pairingToken: w.pairingToken });
    await twin.connect();
    expect(await w.closed()).toBe(CLOSE_CODES.replaced.code);
    expect(companion.state.view().connectedFrames).toBe(1);
  });
});

describe('loopback only', () => {
  it('does not listen on other addresses', async () => {
    const companion = await startCompanion();
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return expect(external).toBeUndefined();
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${external.address}:${companion.port}/`, { origin: ORIGIN });
        ws.on('open', resolve);
        ws.on('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
