// Issue 10, the relay and the store: attacks by a paired or unpaired client against a real `serve` process, and
// values in the store that no client should have been able to put there. Each case performs the attack and
// checks that it no longer gets through.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../common/protocol.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_ORIGIN as ORIGIN, useServe, useWorkers } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { useDesktops } from '../helpers/desktop.ts';
import { Companion } from '../../main/core/companion.ts';
import { PairingService } from '../../main/core/pairing.ts';
import { PairingPrompts } from '../../main/core/desktop/pairing-prompts.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import type { TestWorker, TestWorkerOptions } from '../helpers/test-worker.ts';

const tempDir = useTempDirs();
const { serve, stop } = useServe();
const newWorker = useWorkers();
const worker = (port: number, options: Partial<TestWorkerOptions> = {}): TestWorker => newWorker({ port, origin: ORIGIN, ...options });
const DAY = 86_400_000;

function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path.join(dataDir, 'sessions.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

describe('timestamps are bounded (3)', () => {
  it('an identify with a clientTime far from the app clock is refused, and nothing of that frame is stored', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const w = worker(s.port);
    await w.open();
    w.identify({ clientTime: 8.7e15 });
    const error = await w.next('error');
    expect(error).toMatchObject({ code: 'invalid_time', permanent: true });
    expect(await w.closed()).toBe(CLOSE_CODES.protocolError.code);
    expect(query(dataDir, 'SELECT id FROM frames')).toEqual([]);

    // The export of the day still works (before the fix: "Invalid time value").
    const out = path.join(dataDir, 'day.xlsx');
    expect(await runCli(['export', '--data-dir', dataDir, '--format', 'xlsx', '--out', out])).toMatchObject({ code: 0 });
  });

  it('events whose time is outside the bounds are refused with a typed, permanent error; sane ones are stored', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const w = worker(s.port);
    await w.connect();
    for (const at of [8.7e15, Date.now() + 2 * DAY, Date.now() - 40 * DAY]) {
      expect(await w.emitAndWait('muteButtonClick', true, at)).toMatchObject({ type: 'error', code: 'invalid_time', permanent: true });
    }
    expect(await w.emitAndWait('muteButtonClick', true)).toMatchObject({ type: 'ack' });
    // A worker that is a day behind: within bounds, its events are corrected by the clock offset.
    const late = worker(s.port, { clockSkewMs: -0.5 * DAY });
    await late.connect();
    expect(await late.emitAndWait('muteButtonClick', false)).toMatchObject({ type: 'ack' });
    const times = query<{ at: number }>(dataDir, 'SELECT at FROM events');
    expect(times).toHaveLength(2);
    for (const { at } of times) expect(Math.abs(at - Date.now())).toBeLessThan(60_000);
  });

  it('exports survive any value already in the store (text, huge, negative, fractional times)', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const w = worker(s.port);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+74951234567' });
    await w.emitAndWait('muteButtonClick', true);
    await w.disconnect();
    // Values as an older version (or a hand-edited file) may have left them.
    const db = new Database(path.join(dataDir, 'sessions.sqlite'));
    const ids = db.prepare('SELECT id FROM events ORDER BY id').all() as Array<{ id: number }>;
    db.prepare('UPDATE events SET at = ?, client_at = ?, received_at = ? WHERE id = ?').run(-8.7e15, 8.7e15, 1e300, ids[0]!.id);
    db.prepare("UPDATE events SET client_at = 'yesterday', received_at = 1.5e308 WHERE id = ?").run(ids[1]!.id);
    db.prepare('UPDATE calls SET ended_at = ?').run(8.64e15 + 1);
    db.close();
    for (const format of ['csv', 'jsonl', 'xlsx']) {
      for (const kind of ['calls', 'events']) {
        const out = path.join(dataDir, `all-${kind}.${format}`);
        const result = await runCli(['export', '--data-dir', dataDir, '--format', format, '--kind', kind, '--from', '1970-01-01', '--to', '2200-01-01', '--out', out]);
        expect(result.stderr).not.toMatch(/Invalid time value/);
        expect(result).toMatchObject({ code: 0 });
      }
    }
  });
});

describe('the bad-token limit (6)', () => {
  it('20 junk tokens a minute do not lock out a worker with a real token', async () => {
    const s = await serve(tempDir());
    const real = worker(s.port, { appSid: 'real' });
    await real.connect();
    const token = real.pairingToken;
    expect(token).toBeTruthy();
    await real.disconnect();
    for (let i = 0; i < 25; i += 1) {
      const junk = worker(s.port, { pairingToken: `junk-${i}-${'x'.repeat(30)}`, appSid: `junk${i}`, userId: String(100 + i) });
      await junk.open();
      junk.identify();
      await Promise.race([junk.next('identified'), junk.closed()]);
      await junk.kill();
    }
    // The junk is refused by now...
    const late = worker(s.port, { pairingToken: `junk-late-${'x'.repeat(30)}`, appSid: 'late', userId: '999' });
    await late.open();
    late.identify();
    expect(await late.closed()).toBe(CLOSE_CODES.rateLimited.code);
    // ...but the real token still gets in (before the fix: closed with 4006 as well).
    const again = worker(s.port, { appSid: 'real', pairingToken: token });
    expect(await again.connect()).toMatchObject({ type: 'identified' });
  });
});

describe('nothing is written before authorisation (5)', () => {
  it('an unpaired, refused worker cannot rename an operator or a portal, nor add rows', async () => {
    const dataDir = tempDir();
    const first = await serve(dataDir);
    const olga = worker(first.port, { appSid: 'olga', userId: '7', userName: 'Olga Operator' });
    await olga.connect();
    await olga.disconnect();
    await stop(first);
    const before = {
      portals: query(dataDir, 'SELECT * FROM portals ORDER BY id'),
      operators: query(dataDir, 'SELECT * FROM operators ORDER BY id'),
      frames: query(dataDir, 'SELECT * FROM frames ORDER BY id'),
    };

    // Without auto-approval an unpaired worker is refused: it claims operator 7 and a new domain...
    const s = await serve(dataDir, { autoApprove: false });
    for (const options of [
      { appSid: 'intruder', userId: '7', userName: 'Mallory', domain: 'evil.example' },
      { appSid: 'stranger', userId: '8', userName: 'Eve', memberId: 'member-2', domain: 'other.example' },
      { appSid: 'olga', userId: '7', userName: 'Mallory', pairingToken: `wrong-${'x'.repeat(30)}` },
    ]) {
      const intruder = worker(s.port, options);
      await intruder.open();
      intruder.identify();
      expect(await intruder.closed()).toBe(CLOSE_CODES.normal.code);
    }
    // ...and the store is exactly as it was (before the fix: operator 7 renamed, the portal's domain changed).
    expect(query(dataDir, 'SELECT * FROM portals ORDER BY id')).toEqual(before.portals);
    expect(query(dataDir, 'SELECT * FROM operators ORDER BY id')).toEqual(before.operators);
    expect(query(dataDir, 'SELECT * FROM frames ORDER BY id')).toEqual(before.frames);
    expect(query(dataDir, 'SELECT id FROM connections')).toHaveLength(1);

    // The real worker, with its token, still gets in and may update its own name.
    const back = worker(s.port, { appSid: 'olga2', userId: '7', userName: 'Olga P.', pairingToken: olga.pairingToken });
    await back.connect();
    expect(query(dataDir, "SELECT name FROM operators WHERE user_id = '7'")).toEqual([{ name: 'Olga P.' }]);
  });
});

describe("a paired operator cannot take over another operator's tab (4)", () => {
  it("presenting another operator's APP_SID is refused; the victim keeps its socket, its call and its events", async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const victim = worker(s.port, { appSid: 'SID-victim', userId: '7', userName: 'Olga' });
    await victim.connect();
    await victim.emitAndWait('initialized', { CALL_ID: 'call-1', PHONE_NUMBER: '+74951234567' });
    await victim.emitAndWait('muteButtonClick', true);

    // Operator 8 is paired in their own right, then presents the victim's APP_SID.
    const intruder = worker(s.port, { appSid: 'SID-own', userId: '8', userName: 'Mallory' });
    await intruder.connect();
    await intruder.disconnect();
    const attack = worker(s.port, { appSid: 'SID-victim', userId: '8', userName: 'Mallory', pairingToken: intruder.pairingToken });
    await attack.open();
    attack.identify({ lastAckedSeq: 0 });
    const outcome = await Promise.race([attack.next('identified').then((m) => m.type), attack.closed()]);
    // Before the fix: identified with the victim's call in its snapshot, and the victim closed with 4005.
    expect(outcome).toBe(CLOSE_CODES.protocolError.code);
    expect(victim.closeCode).toBeNull();
    expect(await victim.emitAndWait('muteButtonClick', false)).toMatchObject({ type: 'ack' });

    const rows = query<{ operator: string; n: number }>(
      dataDir,
      `SELECT o.user_id AS operator, count(e.id) AS n FROM frames f JOIN operators o ON o.id = f.operator_id
       LEFT JOIN events e ON e.frame_id = f.id WHERE f.app_sid = 'SID-victim' GROUP BY f.id`,
    );
    expect(rows).toEqual([{ operator: '7', n: 3 }]);
    const out = await runCli(['export', '--data-dir', dataDir, '--format', 'jsonl', '--kind', 'events', '--out', '-']);
    const operators = out.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { operator_id: string }).operator_id);
    expect(new Set(operators)).toEqual(new Set(['7']));
  });
});

describe('pairing prompts are bounded (7)', () => {
  const desktop = useDesktops(tempDir);

  it('a flood of pairing requests from one origin raises at most 3 prompts; the rest are refused at once', async () => {
    const { controller, platform } = await desktop({ allowedOrigins: [ORIGIN] });
    const port = controller.status().port;
    const flood = Array.from({ length: 12 }, (_, i) => worker(port, { appSid: `flood-${i}`, userId: String(200 + i), userName: `Bot ${i}` }));
    for (const w of flood) {
      await w.open();
      w.identify();
    }
    await expect.poll(() => flood.filter((w) => w.closeCode !== null).length).toBe(9);
    // Before the fix: 12 prompts, 12 notifications, 12 windows.
    expect(controller.prompts.list()).toHaveLength(3);
    expect(platform.notifications).toHaveLength(3);
    expect(platform.windows.filter((v) => v === 'pairing')).toHaveLength(3);
    // The operator can still answer the ones shown.
    controller.prompts.decide(controller.prompts.list()[0]!.id, true);
    await expect.poll(() => controller.prompts.list()).toHaveLength(2);
  });

  it('a worker waiting for a prompt is not held for ever: the handshake timer runs while pairing is pending', async () => {
    const companion = await Companion.start({
      dataDir: tempDir(), port: 0, allowedOrigins: [ORIGIN],
      approvePairing: () => new Promise(() => {}),
      timings: { pairingTimeoutMs: 400 },
    });
    try {
      const w = worker(companion.port);
      await w.open();
      w.identify();
      await w.next('pairingPending');
      // Before the fix: the timer was cleared, the socket stayed open for as long as nobody answered.
      expect(await w.closed()).toBe(CLOSE_CODES.handshakeTimeout.code);
    } finally {
      await companion.stop();
    }
  });

  it('an unanswered prompt times out: the request is refused this time and leaves the prompt list', async () => {
    const store = new SessionStore(path.join(tempDir(), 'sessions.sqlite'));
    try {
      const service = new PairingService(store, { trusted: () => false, approve: () => new Promise(() => {}), now: Date.now, promptTimeoutMs: 200 });
      const request = { origin: ORIGIN, domain: 'acme.bitrix24.com', memberId: 'm', userId: '7', userName: null };
      const started = Date.now();
      expect(await service.authorize(request, undefined, () => {})).toEqual({ ok: false, reason: 'undecided' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      store.close();
    }
    const prompts = new PairingPrompts(Date.now, 200);
    const answer = prompts.ask({ origin: ORIGIN, domain: 'acme.bitrix24.com', memberId: 'm', userId: '7', userName: null });
    expect(prompts.list()).toHaveLength(1);
    expect(await answer).toBeNull();
    expect(prompts.list()).toEqual([]);
  });
});

describe('the app proves itself to a paired worker (2, the relay side)', () => {
  it('answers a challenge with the proof for its pairing, null for an unknown one, and only once, before identify', async () => {
    const s = await serve(tempDir());
    const w = worker(s.port);
    await w.connect();
    await w.disconnect();
    const again = worker(s.port, { appSid: w.appSid, pairingToken: w.pairingToken });
    await again.open();
    expect(await again.challenge()).toBe(true);
    again.sendRaw({ type: 'challenge', keyId: 'a'.repeat(64), nonce: 'n'.repeat(43) });
    expect(await again.next('error')).toMatchObject({ code: 'unexpected_message', permanent: true });
    again.identify();
    expect(await again.next('identified')).toMatchObject({ type: 'identified' });

    const stranger = worker(s.port, { pairingToken: `unknown-${'x'.repeat(40)}` });
    await stranger.open();
    expect(await stranger.challenge()).toBe(false);
    expect(stranger.received.find((m) => m.type === 'proof')).toMatchObject({ mac: null });
  });
});
