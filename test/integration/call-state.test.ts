import { describe, expect, it } from 'vitest';
import type { OperatorState } from '../../common/protocol.ts';
import type { Companion } from '../../main/core/companion.ts';
import { useCore } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const { startCompanion, stopCompanion, worker } = useCore(tempDir);

function recordStates(companion: Companion): OperatorState[] {
  const states: OperatorState[] = [companion.state.view().state];
  companion.state.onChange((view) => {
    if (states[states.length - 1] !== view.state) states.push(view.state);
  });
  return states;
}

/** The calls table as a reader sees it once the figures computed at the ack are written (the ingest queue does it
 * just after; the test does not wait for that). */
function calls(companion: Companion): Companion['store']['db'] {
  companion.store.writeFigures();
  return companion.store.db;
}

const callFigures = (companion: Companion) =>
  calls(companion)
    .prepare('SELECT call_id AS callId, end_reason AS endReason, duration_ms AS durationMs, muted_ms AS mutedMs, mute_count AS muteCount, held_ms AS heldMs, gap_ms AS gapMs FROM calls ORDER BY id')
    .all();

describe('operator state', () => {
  it('follows a call: not connected → waiting → live → muted → on hold → live → waiting', async () => {
    const companion = await startCompanion();
    const states = recordStates(companion);
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+4930' });
    await w.emitAndWait('muteButtonClick', true);
    await w.emitAndWait('holdButtonClick', true);
    await w.emitAndWait('holdButtonClick', false);
    await w.emitAndWait('muteButtonClick', false);
    await w.emitAndWait('hangupButtonClick', []);
    expect(states).toEqual(['not_connected', 'waiting', 'live', 'muted', 'on_hold', 'muted', 'live', 'waiting']);
    await w.disconnect();
    await expect.poll(() => companion.state.view().state).toBe('not_connected');
  });

  it('measures intervals by the browser clock, corrected by the offset measured at the handshake', async () => {
    const companion = await startCompanion();
    const skew = -3_600_000; // the operator's PC is an hour behind
    const w = worker(companion, { clockSkewMs: skew });
    await w.connect();
    const t = Date.now() + skew;
    await w.emitAndWait('initialized', { CALL_ID: 'c1' }, t);
    await w.emitAndWait('muteButtonClick', true, t + 5_000);
    await w.emitAndWait('muteButtonClick', false, t + 12_000);
    await w.emitAndWait('hangupButtonClick', [], t + 20_000);
    expect(callFigures(companion)).toEqual([{ callId: 'c1', endReason: 'hangup', durationMs: 20_000, mutedMs: 7_000, muteCount: 1, heldMs: 0, gapMs: 0 }]);
    const startedAt = (calls(companion).prepare('SELECT started_at AS s FROM calls').get() as { s: number }).s;
    expect(Math.abs(startedAt - (t - skew))).toBeLessThan(1_000);
  });
});

describe('the calls table', () => {
  it('is written after the acks without being asked: at once when a call ends, soon while it goes on', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    const row = () => companion.store.db.prepare('SELECT muted_ms AS mutedMs, mute_count AS muteCount, end_reason AS endReason FROM calls').get();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' });
    await w.emitAndWait('muteButtonClick', true);
    await expect.poll(row, { timeout: 5_000 }).toMatchObject({ muteCount: 1, endReason: null });
    await w.emitAndWait('muteButtonClick', false);
    await w.emitAndWait('hangupButtonClick', []);
    await expect.poll(row, { timeout: 5_000 }).toMatchObject({ muteCount: 1, endReason: 'hangup' });
    expect(companion.store.unwrittenFigures).toBe(0);
  });
});

describe('commands', () => {
  it('a mute command is pending until the card confirms, then muted; the card is never echoed twice', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' });
    const states = recordStates(companion);
    const response = await companion.command('toggle', 'hotkey');
    expect(response).toMatchObject({ ok: true, outcome: 'ok', requested: { muted: true } });
    await expect.poll(() => companion.state.view().state).toBe('muted');
    expect(states).toEqual(['live', 'pending', 'muted']);
    const stored = companion.store.db.prepare("SELECT source, payload FROM events WHERE name = 'CallCardSetMute'").get() as { source: string; payload: string };
    expect(stored.source).toBe('hotkey');
    expect(JSON.parse(stored.payload)).toMatchObject({ muted: true });
    expect((await companion.command('toggle', 'tray')).requested).toEqual({ muted: false });
    await expect.poll(() => companion.state.view().state).toBe('live');
  });

  it('says "no call" when there is none', async () => {
    const companion = await startCompanion();
    await worker(companion).connect();
    expect(await companion.command('mute', 'cli')).toMatchObject({ ok: false, outcome: 'no_call' });
  });

  it('reports a card refusal with the portal\'s error code', async () => {
    const companion = await startCompanion();
    const w = worker(companion, {
      onCommand: (command, self) => self.sendRaw({ type: 'commandResult', id: command.id, outcome: 'card_refused', detail: 'Call card is undefined' }),
    });
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' });
    expect(await companion.command('mute', 'hotkey')).toMatchObject({ ok: false, outcome: 'card_refused', message: expect.stringMatching(/Call card is undefined/) });
    expect(companion.state.view().state).toBe('live');
  });

  it('times out when the card never answers, and leaves the state as confirmed', async () => {
    const companion = await startCompanion({ commandTimeoutMs: 200 });
    const w = worker(companion, { onCommand: () => {} });
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' });
    expect(await companion.command('hold', 'hotkey')).toMatchObject({ ok: false, outcome: 'timed_out' });
    expect(companion.state.view().state).toBe('live');
  });

  it('goes to the tab that owns the card, not to another tab of the same operator', async () => {
    const companion = await startCompanion();
    const commandsSeen: string[] = [];
    const owner = worker(companion, { appSid: 'owner' });
    const other = worker(companion, { appSid: 'other', onCommand: (c) => commandsSeen.push(`other:${c.command}`) });
    await owner.connect();
    await other.connect();
    await owner.emitAndWait('initialized', { CALL_ID: 'c1' });
    await other.emitAndWait('entityChanged', []);
    expect(await companion.command('mute', 'hotkey')).toMatchObject({ ok: true });
    expect(commandsSeen).toEqual([]);
    expect(owner.received.filter((m) => m.type === 'command')).toHaveLength(1);
    // The other tab's events about no card do not disturb the call.
    expect(companion.state.view()).toMatchObject({ state: 'muted', connectedFrames: 2, call: { callId: 'c1' } });
  });

  it('fails fast when the owner tab is gone', async () => {
    const companion = await startCompanion();
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' });
    await w.kill();
    await expect.poll(() => companion.state.view().state).toBe('not_connected');
    expect(await companion.command('mute', 'hotkey')).toMatchObject({ ok: false, outcome: 'not_connected' });
  });
});

describe('outages', () => {
  it('a short reconnect does not split a mute interval', async () => {
    const companion = await startCompanion({ graceMs: 5_000 });
    const w = worker(companion);
    await w.connect();
    const t = Date.now();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' }, t);
    await w.emitAndWait('muteButtonClick', true, t + 1_000);
    await w.kill();
    await w.connect();
    await w.emitAndWait('muteButtonClick', false, t + 9_000);
    await w.emitAndWait('hangupButtonClick', [], t + 10_000);
    expect(callFigures(companion)).toEqual([{ callId: 'c1', endReason: 'hangup', durationMs: 10_000, mutedMs: 8_000, muteCount: 1, heldMs: 0, gapMs: 0 }]);
  });

  it('an owner away beyond the grace period ends the call as cut off; coming back with all it saw, it is resumed with no gap', async () => {
    const companion = await startCompanion({ graceMs: 150 });
    const w = worker(companion);
    await w.connect();
    const t = Date.now();
    await w.emitAndWait('initialized', { CALL_ID: 'c1' }, t);
    await w.emitAndWait('muteButtonClick', true, t + 100);
    await w.kill();
    await expect.poll(() => (callFigures(companion)[0] as { endReason: string }).endReason).toBe('connection_lost');
    // Clicked while the app could not hear it; replayed after the reconnect.
    w.emit('muteButtonClick', false, t + 5_000);
    w.emit('hangupButtonClick', [], t + 8_000);
    await w.connect();
    await w.drain();
    expect(callFigures(companion)).toEqual([{ callId: 'c1', endReason: 'hangup', durationMs: 8_000, mutedMs: 4_900, muteCount: 1, heldMs: 0, gapMs: 0 }]);
  });

  it('a card re-created in another tab after a long outage records the outage as a gap', async () => {
    const companion = await startCompanion({ graceMs: 100 });
    const first = worker(companion, { appSid: 'before-reload' });
    await first.connect();
    const t = Date.now();
    await first.emitAndWait('initialized', { CALL_ID: 'c1' }, t);
    await first.kill();
    await expect.poll(() => (callFigures(companion)[0] as { endReason: string }).endReason).toBe('connection_lost');
    const second = worker(companion, { appSid: 'after-reload', pairingToken: first.pairingToken });
    await second.connect();
    await second.emitAndWait('initialized', { CALL_ID: 'c1' });
    await second.emitAndWait('hangupButtonClick', []);
    const [call] = callFigures(companion) as Array<{ endReason: string; gapMs: number }>;
    expect(call?.endReason).toBe('hangup');
    expect(call?.gapMs).toBeGreaterThan(0);
  });

  it('an app restart in the middle of a call loses nothing and gives the same figures as without it', async () => {
    const dataDir = tempDir();
    const t = Date.now();
    const script: Array<[string, unknown, number]> = [
      ['initialized', { CALL_ID: 'c1' }, 0],
      ['muteButtonClick', true, 2_000],
      ['muteButtonClick', false, 6_000],
      ['holdButtonClick', true, 7_000],
      ['holdButtonClick', false, 9_000],
      ['hangupButtonClick', [], 12_000],
    ];

    const reference = await startCompanion();
    const live = worker(reference);
    await live.connect();
    for (const [name, payload, dt] of script) await live.emitAndWait(name, payload, t + dt);
    const expected = callFigures(reference);

    let companion = await startCompanion({ dataDir, graceMs: 100 });
    const w = worker(companion);
    await w.connect();
    for (const [name, payload, dt] of script.slice(0, 2)) await w.emitAndWait(name, payload, t + dt);
    await stopCompanion(companion);
    await w.closed();
    for (const [name, payload, dt] of script.slice(2)) w.emit(name, payload, t + dt);

    companion = await startCompanion({ dataDir, graceMs: 100, port: w.options.port });
    await new Promise((resolve) => setTimeout(resolve, 300)); // beyond the grace period
    await w.connect();
    await w.drain();
    expect(callFigures(companion)).toEqual(expected);
    expect(companion.store.counts().events).toBe(script.length + 2); // + ownerLost and ownerBack
  });

  // The closed-tab cases of a real browser (issue 12): the state follows the tab that is really there, and time
  // with no tab is a gap or the end of the call, never talk or mute time. Times are the app's own clock here
  // (the test worker's clock is the real one), so the loss is when the socket closed.
  const call = (companion: Companion) =>
    calls(companion).prepare('SELECT call_id AS callId, started_at AS startedAt, ended_at AS endedAt, end_reason AS endReason, duration_ms AS durationMs, muted_ms AS mutedMs, gap_ms AS gapMs FROM calls ORDER BY id').all() as Array<{
      callId: string; startedAt: number; endedAt: number | null; endReason: string | null; durationMs: number; mutedMs: number; gapMs: number;
    }>;

  it('a tab closed mid-call: the call ends where the tab went, not at the end of the grace period', async () => {
    const companion = await startCompanion({ graceMs: 1_000 });
    const w = worker(companion);
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'closed-tab' });
    await w.emitAndWait('muteButtonClick', true);
    const lostBefore = Date.now();
    await w.kill();
    const lostAfter = Date.now();
    await expect.poll(() => call(companion)[0]?.endReason, { timeout: 5_000 }).toBe('connection_lost');
    const [c] = call(companion);
    expect(c!.endedAt).toBeGreaterThanOrEqual(lostBefore);
    expect(c!.endedAt).toBeLessThanOrEqual(lostAfter + 50);
    expect(c!.durationMs).toBe(c!.endedAt! - c!.startedAt);
    expect(c!.gapMs).toBe(0);
  });

  it('a reloaded tab without the card: the call ends at the loss at once, and the tray does not show it', async () => {
    const companion = await startCompanion({ graceMs: 30_000 });
    const w = worker(companion, { appSid: 'reloaded' });
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'reload-no-card' });
    const lostBefore = Date.now();
    await w.reload();
    await new Promise((r) => setTimeout(r, 300)); // the new page loads
    await w.connect();
    const [c] = call(companion);
    expect(c).toMatchObject({ endReason: 'connection_lost', gapMs: 0 });
    expect(c!.endedAt! - lostBefore).toBeLessThan(100);
    expect(companion.state.view()).toMatchObject({ state: 'waiting', call: null });
  });

  it('a reloaded tab whose card is re-created: the time with no tab is a gap, then the call goes on', async () => {
    const companion = await startCompanion({ graceMs: 30_000 });
    const w = worker(companion, { appSid: 'reloaded-card' });
    await w.connect();
    const t = Date.now();
    await w.emitAndWait('initialized', { CALL_ID: 'reload-card' }, t);
    await new Promise((r) => setTimeout(r, 100));
    const mutedAt = Date.now();
    await w.emitAndWait('muteButtonClick', true, mutedAt);
    await new Promise((r) => setTimeout(r, 100));
    await w.reload();
    const lostAt = call(companion)[0]!.endedAt ?? Date.now();
    await new Promise((r) => setTimeout(r, 400));
    await w.connect();
    const back = Date.now();
    await w.emitAndWait('initialized', { CALL_ID: 'reload-card' }, back);
    await w.emitAndWait('hangupButtonClick', [], back + 1_000);
    const [c] = call(companion);
    // Muted until the loss; nothing counts between the loss and the re-created card, which starts unmuted.
    expect(c).toMatchObject({ endReason: 'hangup', durationMs: back + 1_000 - t });
    // Within a few ms: the browser's times are corrected by the offset measured at each handshake.
    expect(Math.abs(c!.gapMs - (back - lostAt))).toBeLessThanOrEqual(5);
    expect(Math.abs(c!.mutedMs - (lostAt - mutedAt))).toBeLessThanOrEqual(5);
    expect(c!.mutedMs).toBeGreaterThanOrEqual(95);
    expect(c!.gapMs).toBeGreaterThanOrEqual(395);
  });

  it('another tab while the first tab\'s call is in its grace period: the tray follows the tab that is there, with no ghost call', async () => {
    const companion = await startCompanion({ graceMs: 30_000 });
    const first = worker(companion, { appSid: 'tab-1' });
    await first.connect();
    await first.emitAndWait('initialized', { CALL_ID: 'ghost' });
    await first.kill();
    const lostAt = Date.now();
    // No tab at all: the call may come back (a reload), so it is shown as cut off for now.
    await expect.poll(() => companion.state.view()).toMatchObject({ state: 'not_connected', call: { callId: 'ghost' } });
    const second = worker(companion, { appSid: 'tab-2', pairingToken: first.pairingToken });
    await second.connect();
    expect(companion.state.view()).toMatchObject({ state: 'waiting', call: null });
    await second.emitAndWait('initialized', { CALL_ID: 'own-call' });
    expect(companion.state.view()).toMatchObject({ state: 'live', call: { callId: 'own-call' } });
    // The operator's new call means the old one is over, where its tab went.
    const ghost = call(companion).find((c) => c.callId === 'ghost')!;
    expect(ghost.endReason).toBe('connection_lost');
    expect(Math.abs(ghost.endedAt! - lostAt)).toBeLessThan(100);
    await second.emitAndWait('hangupButtonClick', []);
    expect(companion.state.view()).toMatchObject({ state: 'waiting', call: null });
  });
});
