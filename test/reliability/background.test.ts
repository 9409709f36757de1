// An operator's Bitrix24 tab lives behind other windows for hours. Chromium started as a person starts it (no
// automation flags, no focus emulation: test/helpers/plain-chromium.ts), the portal tab really hidden, intensive
// wake-up throttling after 10 s instead of 5 minutes: the worker stays connected for minutes, a call raised in the
// hidden tab reaches the app within a second, and a page frozen by the browser is shown as asleep, not as gone,
// and is back at once when it resumes.
// BACKGROUND_SECONDS (default 240) and FROZEN_SECONDS (default 60) set how long.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callControl } from '../../main/core/control/control-channel.ts';
import { DATABASE_FILE, openDatabase } from '../../main/core/store/database.ts';
import { startEmulator, type Emulator } from '../emulator/portal-server.ts';
import { freePort } from '../helpers/cli.ts';
import { useServeProcesses } from '../helpers/lifecycle.ts';
import { launchPlainChromium, type PlainChromium, type PlainTab } from '../helpers/plain-chromium.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const HIDDEN_SECONDS = Number(process.env.BACKGROUND_SECONDS ?? 240);
const FROZEN_SECONDS = Number(process.env.FROZEN_SECONDS ?? 60);

const tempDir = useTempDirs();
const serves = useServeProcesses();
let emulator: Emulator;
let chromium: PlainChromium;

beforeAll(async () => {
  emulator = await startEmulator();
  chromium = await launchPlainChromium(['--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/10']);
});
afterAll(async () => {
  await chromium?.close();
  await emulator?.close();
});

interface View {
  state: string;
  connectedFrames: number;
  asleepFrames: number;
  call: { callId: string } | null;
}

async function view(dataDir: string): Promise<View> {
  const reply = await callControl(dataDir, 'GET', '/v1/status', undefined, 3_000);
  if (!reply.reachable) throw new Error(reply.reason);
  return (reply.body as { view: View }).view;
}

/** Every socket the worker opened, from the store: one row per connection, closed ones with a time. */
function connections(dataDir: string): { opened: number; closed: number } {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT count(*) AS opened, count(closed_at) AS closed FROM connections').get() as { opened: number; closed: number };
  } finally {
    db.close();
  }
}

function frames(dataDir: string): number {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM frames').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Raises a call in the tab and measures how long until the app's state says so. */
async function callLatency(dataDir: string, tab: PlainTab, callId: string): Promise<number> {
  const start = Date.now();
  await tab.evaluate(`window.emulator.raiseCard({ callId: ${JSON.stringify(callId)}, phoneNumber: '+74950000000' })`);
  for (;;) {
    const current = await view(dataDir);
    if (current.call?.callId === callId && current.state === 'live') return Date.now() - start;
    if (Date.now() - start > 10_000) throw new Error(`the call did not reach the app: ${JSON.stringify(current)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a hidden, throttled Bitrix24 tab', () => {
  it(`stays connected for ${HIDDEN_SECONDS} s hidden, delivers a call within a second, and sleeps through a freeze of ${FROZEN_SECONDS} s`, async () => {
    const dataDir = tempDir();
    const relayPort = await freePort();
    await serves.start(['--data-dir', dataDir, '--port', String(relayPort), '--allow-origin', emulator.workerOrigin, '--auto-approve']);
    const portal = await chromium.open(emulator.portalUrl({ relayPort, sid: 'BG1' }));
    await expect.poll(() => view(dataDir).then((v) => v.connectedFrames), { timeout: 20_000 }).toBe(1);
    // A one-second timer in the portal page: how often it really runs shows the throttling is real.
    await portal.evaluate('window.__ticks = 0; setInterval(() => { window.__ticks += 1; }, 1000); true');

    // Another tab in front: the portal goes to the background, as when the operator works elsewhere.
    const other = await chromium.open('about:blank');
    expect(await portal.visibility()).toBe('hidden');
    const hiddenAt = Date.now();
    await new Promise((r) => setTimeout(r, HIDDEN_SECONDS * 1000));
    const ticks = await portal.evaluate<number>('window.__ticks');
    const hiddenFor = (Date.now() - hiddenAt) / 1000;
    const sockets = connections(dataDir);
    const latency = await callLatency(dataDir, portal, 'bg-call-1');
    console.log(`background: hidden ${hiddenFor.toFixed(0)} s, a 1 s timer ran ${ticks} times, sockets opened ${sockets.opened} (closed ${sockets.closed}), call from the hidden tab reached the app in ${latency} ms`);
    expect(await portal.visibility()).toBe('hidden');
    // Throttled for real: far fewer ticks than seconds. Intensive throttling runs such timers once a minute (11–13
    // ticks in 240 s here); on a loaded machine it was seen to start later (62 ticks). Plain background throttling
    // would still run it about once a second.
    if (HIDDEN_SECONDS >= 120) expect(ticks).toBeLessThan(hiddenFor / 2);
    expect(sockets).toEqual({ opened: 1, closed: 0 });
    expect(latency).toBeLessThan(1_000);
    await portal.evaluate(`document.querySelector('#hangup').click(); true`);
    await expect.poll(() => view(dataDir).then((v) => v.state)).toBe('waiting');

    // Frozen by the browser (Memory Saver, background freezing): asleep, not gone; then it wakes and works.
    await portal.setLifecycle('frozen');
    await expect.poll(() => view(dataDir).then((v) => v.asleepFrames), { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, FROZEN_SECONDS * 1000));
    expect(connections(dataDir)).toEqual({ opened: 1, closed: 0 });
    expect(await view(dataDir)).toMatchObject({ connectedFrames: 1, asleepFrames: 1 });
    // Chromium closes a frozen page's WebSockets as it resumes it (measured on 156, also for a page with no
    // iframe): one new socket at once, from the same tab, with nothing lost; not an outage.
    await portal.setLifecycle('active');
    await expect.poll(() => view(dataDir).then((v) => v.asleepFrames), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => view(dataDir).then((v) => v.connectedFrames)).toBe(1);
    const afterFreeze = await callLatency(dataDir, portal, 'bg-call-2');
    const resumed = connections(dataDir);
    console.log(`background: frozen ${FROZEN_SECONDS} s, sockets then ${resumed.opened} (closed ${resumed.closed}), a call reached the app in ${afterFreeze} ms`);
    expect(afterFreeze).toBeLessThan(1_000);
    expect(resumed).toEqual({ opened: 2, closed: 1 });
    expect(frames(dataDir)).toBe(1);
    await other.close();
  }, (HIDDEN_SECONDS + FROZEN_SECONDS + 90) * 1000);
});
