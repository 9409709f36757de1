// The built worker in Debian's Firefox ESR (puppeteer-core over WebDriver BiDi) inside the portal emulator:
// the call, restart-mid-call and hotkey paths of call.test.ts and resilience.test.ts, and what Firefox does with
// the worker's socket to 127.0.0.1 from a public HTTPS page (README, "Firefox").
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/portal-server.ts';
import { exited, freePort, runCli, startServe, type ServeProcess } from '../helpers/cli.ts';
import { launchFirefox, workerFrame, type TestFirefox } from '../helpers/firefox.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appState as state, appStatus, exportJsonl, SCREENSHOTS } from './harness.ts';

const tempDir = useTempDirs();
let emulator: Emulator;
let firefox: TestFirefox;
const serves: ServeProcess[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  firefox = await launchFirefox();
});
afterAll(async () => {
  await firefox?.close();
  await emulator?.close();
});
afterEach(async () => {
  for (const s of serves.splice(0)) {
    s.child.kill('SIGKILL');
    await exited(s.child);
  }
});

async function serve(dataDir: string, port?: number): Promise<ServeProcess> {
  const s = await startServe(['--data-dir', dataDir, '--port', String(port ?? (await freePort())), '--allow-origin', emulator.workerOrigin, '--auto-approve']);
  serves.push(s);
  return s;
}

/** Ends `serve` the hard way (no clean shutdown), as a crash or a killed process would. */
async function kill(s: ServeProcess): Promise<void> {
  s.child.kill('SIGKILL');
  await exited(s.child);
  serves.splice(serves.indexOf(s), 1);
}

/** Opens the emulated portal in a fresh private context and waits until its worker is connected and bound. */
async function openPortal(url: string, browser: TestFirefox = firefox): Promise<Page> {
  const page = await (await browser.context()).newPage();
  await page.goto(url);
  await expect.poll(() => workerState(page, emulator.workerOrigin), { timeout: 15_000 }).toBe('connected');
  await expect.poll(async () => (await emulatorCall<Record<string, number>>(page, 'binds'))['BackgroundCallCard::initialized']).toBe(1);
  return page;
}

/** The worker's connection state, as it publishes it on its own document (as in harness.ts). */
async function workerState(page: Page, workerOrigin: string): Promise<string | undefined> {
  return workerFrame(page, workerOrigin)?.evaluate(() => document.documentElement.dataset.state);
}

/** Calls `window.emulator[name](...args)` on the emulated portal page (`EmulatorApi` in harness.ts). */
function emulatorCall<T = unknown>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate((fn: string, values: unknown[]) => {
    const api = (window as unknown as { emulator: Record<string, (...a: unknown[]) => unknown> }).emulator;
    return api[fn]?.(...values);
  }, name, args) as Promise<T>;
}

const dataMuted = (page: Page): Promise<string | null> => page.$eval('#card', (el) => el.getAttribute('data-muted'));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the real worker in Firefox ESR', () => {
  it('runs in the cross-site frame: Firefox reports the portal in ancestorOrigins, the frame is a secure context', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const page = await openPortal(emulator.portalUrl({ relayPort: s.port, sid: 'FFFRAME' }));
    const frame = workerFrame(page, emulator.workerOrigin);
    expect(await frame?.evaluate(() => ({ ancestors: [...location.ancestorOrigins], secure: isSecureContext }))).toEqual({
      ancestors: [emulator.portalOrigin],
      secure: true,
    });
    expect(await firefox.browser.version()).toMatch(/^firefox\//);
  });

  it('card raised → mute twice → hold → hang up: one call with the right intervals, and export shows it', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const page = await openPortal(emulator.portalUrl({ relayPort: s.port, sid: 'FFTAB1' }));
    await emulatorCall(page, 'raiseCard', { callId: 'externalCall.ff1', phoneNumber: '+74951234567' });
    await expect.poll(() => state(dataDir)).toBe('live');

    await page.click('#mute');
    await expect.poll(() => state(dataDir)).toBe('muted');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firefox-portal-muted.png') });
    await sleep(1_200);
    await page.click('#mute');
    await expect.poll(() => state(dataDir)).toBe('live');
    await page.click('#hold');
    await expect.poll(() => state(dataDir)).toBe('on_hold');
    await sleep(700);
    await page.click('#hold');
    await page.click('#hangup');
    await expect.poll(() => state(dataDir)).toBe('waiting');

    const calls = await exportJsonl(dataDir, 'calls');
    expect(calls).toHaveLength(1);
    const [call] = calls as [Record<string, number | string>];
    expect(call).toMatchObject({ call_id: 'externalCall.ff1', phone_number: '+74951234567', operator_id: '7', end_reason: 'hangup', mute_count: 1, hold_count: 1, gap_s: 0 });
    expect(call.muted_s).toBeGreaterThanOrEqual(1.2);
    expect(call.muted_s).toBeLessThan(5);
    expect(call.held_s).toBeGreaterThanOrEqual(0.7);
    expect(call.held_s).toBeLessThan(5);
  });

  it('serve killed (SIGKILL) and restarted mid-call: what was clicked meanwhile arrives after it is back, once each', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let s = await serve(dataDir, port);
    const page = await openPortal(emulator.portalUrl({ relayPort: port, sid: 'FFRESTART' }));
    await emulatorCall(page, 'raiseCard', { callId: 'externalCall.ffrestart' });
    await page.click('#mute');
    await expect.poll(() => state(dataDir)).toBe('muted');

    await kill(s);
    await expect.poll(() => workerState(page, emulator.workerOrigin)).toBe('app_not_running');
    await page.click('#mute'); // unmute while the app is down
    await page.click('#hold');

    s = await serve(dataDir, port);
    await expect.poll(() => state(dataDir), { timeout: 15_000 }).toBe('on_hold');
    await page.click('#hold');
    await page.click('#hangup');
    await expect.poll(() => state(dataDir)).toBe('waiting');

    const events = await exportJsonl(dataDir, 'events');
    const cardEvents = events.filter((e) => e.source === 'card').map((e) => e.event);
    expect(cardEvents).toEqual(['initialized', 'muteButtonClick', 'muteButtonClick', 'holdButtonClick', 'holdButtonClick', 'hangupButtonClick']);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    const [call] = await exportJsonl(dataDir, 'calls');
    expect(call).toMatchObject({ call_id: 'externalCall.ffrestart', end_reason: 'hangup', mute_count: 1, hold_count: 1, gap_s: 0 });
  });

  it('the hotkey path: `operator-companion mute` → the card mutes, the app shows it confirmed; no card → no_call', async () => {
    const dataDir = tempDir();
    const s = await serve(dataDir);
    const page = await openPortal(emulator.portalUrl({ relayPort: s.port, sid: 'FFTAB2' }));
    await emulatorCall(page, 'raiseCard', { callId: 'externalCall.ff2', phoneNumber: '+74950000000' });
    await expect.poll(() => state(dataDir)).toBe('live');

    expect(await runCli(['mute', '--data-dir', dataDir])).toMatchObject({ code: 0, stdout: 'mute: done\n' });
    expect(await emulatorCall(page, 'card')).toMatchObject({ muted: true });
    expect(await appStatus(dataDir)).toMatchObject({ state: 'muted', call: { muted: true } });
    expect(await dataMuted(page)).toBe('true');
    expect(await runCli(['unmute', '--data-dir', dataDir])).toMatchObject({ code: 0, stdout: 'unmute: done\n' });
    expect(await dataMuted(page)).toBe('false');

    await page.click('#close');
    const late = await runCli(['mute', '--data-dir', dataDir]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/no_call/);
  });

  it('the app started after the page, in a fresh profile: "not running" (not "blocked"), and it connects once the app is up', async () => {
    // Firefox answers "denied" for loopback-network even where its socket is allowed: no evidence of a block.
    const dataDir = tempDir();
    const port = await freePort();
    const page = await (await firefox.context()).newPage();
    await page.goto(emulator.portalUrl({ relayPort: port, sid: 'FFLATEAPP' }));
    await expect.poll(() => workerState(page, emulator.workerOrigin)).toBe('app_not_running');
    await serve(dataDir, port);
    // The worker's first retries come within seconds (backoff from 1 s), not after the 5-minute blocked pause.
    await expect.poll(() => workerState(page, emulator.workerOrigin), { timeout: 15_000 }).toBe('connected');
    await emulatorCall(page, 'raiseCard', { callId: 'externalCall.fflate' });
    await expect.poll(() => state(dataDir)).toBe('live');
  });
});

describe('Firefox ESR and Local Network Access: a public Bitrix24 page reaching 127.0.0.1 (README, "Firefox")', () => {
  /** Firefox classifies the emulated portal and worker host (both on 127.0.0.1) as public sites, like a real portal. */
  const publicSites = (): Record<string, string> => ({
    'network.lna.address_space.public.override': `127.0.0.1:${emulator.portalPort},127.0.0.1:${emulator.workerPort}`,
  });

  it('default prefs: the socket connects with no prompt (LNA does not cover WebSockets), the call arrives', async () => {
    const browser = await launchFirefox({ prefs: publicSites() });
    try {
      const dataDir = tempDir();
      const s = await serve(dataDir);
      const page = await openPortal(emulator.portalUrl({ relayPort: s.port, sid: 'FFPUBLIC' }), browser);
      await emulatorCall(page, 'raiseCard', { callId: 'externalCall.ffpublic' });
      await expect.poll(() => state(dataDir)).toBe('live');
    } finally {
      await browser.close();
    }
  });

  it('with network.lna.websocket.enabled the socket waits on a prompt and never opens; allowing the portal lets it in', async () => {
    const browser = await launchFirefox({ prefs: { ...publicSites(), 'network.lna.websocket.enabled': true } });
    try {
      const dataDir = tempDir();
      const s = await serve(dataDir);
      const context = await browser.context();
      const page = await context.newPage();
      await page.goto(emulator.portalUrl({ relayPort: s.port, sid: 'FFLNA' }));
      // The worker gives up on a socket that has not opened in 3 s and says the app is not reachable.
      await expect.poll(() => workerState(page, emulator.workerOrigin)).toBe('app_not_running');
      expect((await appStatus(dataDir))?.connectedFrames ?? 0).toBe(0);
      // "Allow" (remembered) on Firefox's prompt "<portal> wants to access other apps and services on this device".
      await context.setPermission(emulator.portalOrigin, { permission: { name: 'loopback-network' as never }, state: 'granted' as never });
      await page.reload();
      await expect.poll(() => workerState(page, emulator.workerOrigin)).toBe('connected');
    } finally {
      await browser.close();
    }
  });
});
