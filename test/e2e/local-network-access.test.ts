// Chromium ≥ 147 blocks a public page's iframe from opening ws://127.0.0.1 until "Apps on device" is allowed
// for the portal's site (shared BITRIX24.md §7.2a). The emulated portal and worker host are made public with
// --ip-address-space-overrides; a grant of `local-network-access` to the portal's origin models the operator's
// site setting or the IT policy.
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserPolicy } from '../../common/browser-policy.ts';
import { launchChromium } from '../helpers/browser.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appStatus, emulatorApi, openPortal, SCREENSHOTS, useHarness, waitForBinds, workerFrame } from './harness.ts';

const tempDir = useTempDirs();
const h = useHarness((emulator) => ({ publicAddresses: [`127.0.0.1:${emulator.portalPort}`, `127.0.0.1:${emulator.workerPort}`] }));

/** Counts the sockets every frame of the context opens. */
const COUNT_SOCKETS = `(() => {
  const Native = window.WebSocket;
  window.__socketsOpened = 0;
  window.WebSocket = class extends Native { constructor(...args) { super(...args); window.__socketsOpened += 1; } };
})();`;

describe('Local Network Access', () => {
  it('without the permission the worker reports "blocked by the browser", does not spin, and the install page says what to do', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const context = await h.chromium.context();
    await context.addInitScript(COUNT_SOCKETS);
    const page = await openPortal(context, h.emulator.portalUrl({ relayPort: s.port, sid: 'BLOCKED' }), { expectState: 'blocked_by_browser' });
    const frame = workerFrame(page);
    const opened = (): Promise<number> => frame!.evaluate(() => (window as unknown as { __socketsOpened: number }).__socketsOpened);
    const first = await opened();
    expect(first).toBeGreaterThanOrEqual(1);
    await page.waitForTimeout(4_000);
    expect(await opened()).toBe(first);
    expect(await appStatus(dataDir)).toMatchObject({ state: 'not_connected', connectedFrames: 0 });

    // Events clicked meanwhile are kept for when the browser allows the connection.
    await waitForBinds(page);
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.blocked' });
    // A third-party frame gets no localStorage in this Chromium: the outbox lives in a partitioned cookie.
    const kept = await frame!.evaluate(() => {
      const cookie = document.cookie.split('; ').find((c) => c.startsWith('oc_outbox_BLOCKED='));
      return cookie ? (JSON.parse(decodeURIComponent(cookie.split('=')[1] as string)) as { events: Array<{ name: string }> }).events.map((e) => e.name) : null;
    });
    expect(kept).toEqual(['initialized']);

    const install = await context.newPage();
    await install.setViewportSize({ width: 900, height: 760 });
    await install.goto(h.emulator.installUrl());
    const status = install.frameLocator('iframe[name$="|1|INSTALL"]').locator('#worker-status');
    await expect.poll(() => status.textContent()).toMatch(/blocked by browser/);
    expect(await status.textContent()).toContain(`"Apps on device"`);
    expect(await status.textContent()).toContain(`LoopbackNetworkAllowedForUrls = ["${h.emulator.portalOrigin}"]`);
    await install.screenshot({ path: path.join(SCREENSHOTS, 'install-page-blocked.png') });
  });

  it('with "Apps on device" allowed for the portal, everything works', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const context = await h.chromium.context({ grantLoopbackTo: h.emulator.portalOrigin });
    const page = await openPortal(context, h.emulator.portalUrl({ relayPort: s.port, sid: 'ALLOWED' }));
    await waitForBinds(page);
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.allowed' });
    await page.click('#mute');
    await expect.poll(async () => (await appStatus(dataDir))?.state).toBe('muted');
  });

  const POLICY_DIR = '/etc/chromium/policies/managed';
  const canWritePolicies = ((): boolean => {
    try {
      mkdirSync(POLICY_DIR, { recursive: true });
      accessSync(POLICY_DIR, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!canWritePolicies)('the Linux policy file the setup assistant generates lets the worker through', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const policy = browserPolicy(h.emulator.portalOrigin, 'linux');
    const file = path.join(POLICY_DIR, `operator-companion-test-${process.pid}.json`);
    writeFileSync(file, policy.content);
    // Chromium reads managed policies at start: a browser of its own, launched after the file is in place.
    const managed = await launchChromium({ publicAddresses: [`127.0.0.1:${h.emulator.portalPort}`, `127.0.0.1:${h.emulator.workerPort}`] });
    try {
      const page = await openPortal(await managed.context(), h.emulator.portalUrl({ relayPort: s.port, sid: 'POLICY' }));
      await waitForBinds(page);
      await emulatorApi(page, 'raiseCard', { callId: 'externalCall.policy' });
      await expect.poll(async () => (await appStatus(dataDir))?.state).toBe('live');
    } finally {
      rmSync(file, { force: true });
      await managed.close();
    }
  });
});
