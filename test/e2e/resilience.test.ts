import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../../common/protocol.ts';
import { freePort, runCli } from '../helpers/cli.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appState as state, appStatus, emulatorApi, exportJsonl, openPortal, useHarness, waitForBinds, workerState } from './harness.ts';

const tempDir = useTempDirs();
const h = useHarness();

describe('outages and several tabs', () => {
  it('the app restarted in the middle of a call: what was clicked meanwhile arrives after it is back, once each', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let s = await h.serve(dataDir, port);
    const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: port, sid: 'RESTART' }));
    await waitForBinds(page);
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.restart' });
    await page.click('#mute');
    await expect.poll(() => state(dataDir)).toBe('muted');

    await h.stop(s);
    await expect.poll(() => workerState(page)).toBe('app_not_running');
    await page.click('#mute'); // unmute while the app is down
    await page.click('#hold');

    s = await h.serve(dataDir, port);
    await expect.poll(() => state(dataDir), { timeout: 15_000 }).toBe('on_hold');
    await page.click('#hold');
    await page.click('#hangup');
    await expect.poll(() => state(dataDir)).toBe('waiting');

    const events = await exportJsonl(dataDir, 'events');
    const cardEvents = events.filter((e) => e.source === 'card').map((e) => e.event);
    expect(cardEvents).toEqual(['initialized', 'muteButtonClick', 'muteButtonClick', 'holdButtonClick', 'holdButtonClick', 'hangupButtonClick']);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    const [call] = await exportJsonl(dataDir, 'calls');
    expect(call).toMatchObject({ call_id: 'externalCall.restart', end_reason: 'hangup', mute_count: 1, hold_count: 1, gap_s: 0 });
  });

  it('two tabs, one card: the card belongs to its tab, and the other tab does not confuse the state', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const context = await h.chromium.context();
    const owner = await openPortal(context, h.emulator.portalUrl({ relayPort: s.port, sid: 'OWNER' }));
    const other = await openPortal(context, h.emulator.portalUrl({ relayPort: s.port, sid: 'OTHER' }));
    await waitForBinds(owner);
    await waitForBinds(other);
    await expect.poll(async () => (await appStatus(dataDir))?.connectedFrames).toBe(2);

    await emulatorApi(owner, 'raiseCard', { callId: 'externalCall.tabs', phoneNumber: '+74957777777' });
    await expect.poll(() => state(dataDir)).toBe('live');
    // Events on the other tab, which has no card, do not touch the call.
    await emulatorApi(other, 'fire', 'entityChanged', { PHONE_NUMBER: 'unknown', CRM_ENTITY_TYPE: '', CRM_ENTITY_ID: 0 });
    await emulatorApi(other, 'fire', 'hangupButtonClick');
    expect(await runCli(['mute', '--data-dir', dataDir])).toMatchObject({ code: 0 });
    expect(await emulatorApi(owner, 'card')).toMatchObject({ muted: true });
    expect(await emulatorApi(other, 'card')).toBeNull();
    expect(await appStatus(dataDir)).toMatchObject({ state: 'muted', connectedFrames: 2, call: { callId: 'externalCall.tabs', muted: true } });

    // Closing the other tab changes nothing; closing the owner's leaves no connected tab.
    await other.close();
    await expect.poll(async () => (await appStatus(dataDir))?.connectedFrames).toBe(1);
    expect(await state(dataDir)).toBe('muted');
    await owner.close();
    await expect.poll(() => state(dataDir)).toBe('not_connected');
  });

  it('a tab closed while the app was down: the next tab adopts what it never delivered, at once, and it arrives once', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let s = await h.serve(dataDir, port);
    const context = await h.chromium.context();
    const closing = await openPortal(context, h.emulator.portalUrl({ relayPort: port, sid: 'ORPHAN' }));
    await waitForBinds(closing);
    await emulatorApi(closing, 'raiseCard', { callId: 'externalCall.orphan' });
    await expect.poll(() => state(dataDir)).toBe('live');

    await h.stop(s);
    await expect.poll(() => workerState(closing)).toBe('app_not_running');
    await closing.click('#mute');
    await closing.click('#hangup');
    await closing.close();

    // The app is back and the operator opens Bitrix24 again right away (well within the old 30 s "not touched" rule).
    s = await h.serve(dataDir, port);
    const next = await openPortal(context, h.emulator.portalUrl({ relayPort: port, sid: 'NEXT' }));
    await waitForBinds(next);
    await expect.poll(async () => (await exportJsonl(dataDir, 'calls'))[0]?.end_reason, { timeout: 15_000 }).toBe('hangup');
    const events = (await exportJsonl(dataDir, 'events')).filter((e) => e.call_id === 'externalCall.orphan');
    expect(events.map((e) => [e.event, e.tab])).toEqual([
      ['initialized', 'ORPHAN'],
      ['muteButtonClick', 'ORPHAN'],
      ['hangupButtonClick', 'ORPHAN'],
    ]);
    const [call] = await exportJsonl(dataDir, 'calls');
    expect(call).toMatchObject({ call_id: 'externalCall.orphan', end_reason: 'hangup', mute_count: 1, gap_s: 0 });
  });

  it('a call already going on when the page loads: its initialized, raised right at the bind, is not lost', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: s.port, sid: 'ATBIND', cardAtBind: 'externalCall.atbind' }));
    await waitForBinds(page);
    await expect.poll(async () => (await appStatus(dataDir))?.call?.callId).toBe('externalCall.atbind');
  });

  it('a phone module that registers its events late: the worker waits for them and binds once', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: s.port, sid: 'LATE', lateEventsMs: 1_500 }));
    expect((await emulatorApi(page, 'binds'))['BackgroundCallCard::initialized']).toBeUndefined();
    await waitForBinds(page);
    expect(Object.values(await emulatorApi(page, 'binds'))).toEqual(new Array(17).fill(1));
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.late' });
    await expect.poll(() => state(dataDir)).toBe('live');
  });

  it('the default port taken by another program: the app takes the next one and the worker finds it', async () => {
    // Only meaningful when the default range is free on this machine (no real app running here).
    const blocker = http.createServer();
    const listening = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(DEFAULT_PORT, '127.0.0.1', () => resolve(true));
    });
    if (!listening) return;
    try {
      const dataDir = tempDir();
      const s = await h.serve(dataDir, DEFAULT_PORT);
      expect(s.port).toBe(DEFAULT_PORT + 1);
      // No ?port= in the worker's URL: it scans the range and skips what is not Operator Companion.
      const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ sid: 'SCAN' }));
      await waitForBinds(page);
      await emulatorApi(page, 'raiseCard', { callId: 'externalCall.scan' });
      await expect.poll(() => state(dataDir)).toBe('live');
    } finally {
      blocker.close();
    }
  });
});
