// Issue 10, the worker page: a hostile page that frames the worker and answers the frame protocol itself, against
// the real built worker in Chromium, the portal emulator and a real `serve`.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appState, emulatorApi, openPortal, SCREENSHOTS, useHarness, waitForBinds, workerState } from './harness.ts';

const tempDir = useTempDirs();
const h = useHarness();

afterEach(() => h.emulator.setPortals([h.emulator.portalOrigin]));

function storeCounts(dataDir: string): { frames: number; events: number } {
  const db = new Database(path.join(dataDir, 'sessions.sqlite'), { readonly: true });
  try {
    const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { frames: count('frames'), events: count('events') };
  } finally {
    db.close();
  }
}

describe('the worker trusts the browser and portals.json, not the page that embeds it (1)', () => {
  it('framed by a page on another site that answers the frame protocol, it does not start: nothing reaches the app', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const context = await h.chromium.context();
    const page = await context.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    await page.goto(h.emulator.hostileUrl({ relayPort: s.port }));
    // Before the fix: the worker connected, the forged call was stored and the app's mute went to the page.
    await expect.poll(() => workerState(page), { timeout: 15_000 }).toBe('refused');
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.forged', phoneNumber: '+70000000000' });
    await page.waitForTimeout(1_000);
    expect(await appState(dataDir)).toBe('not_connected');
    expect(storeCounts(dataDir)).toEqual({ frames: 0, events: 0 });
    expect(console.join('\n')).toMatch(/does not start: https:\/\/hostile\.test:\d+ is not listed in .*portals\.json/);
    expect(await emulatorApi(page, 'binds')).toEqual({});
  });

  it('the real portal is served; without portals.json no portal is, and the install page says why', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const context = await h.chromium.context();
    const page = await openPortal(context, h.emulator.portalUrl({ relayPort: s.port }));
    await waitForBinds(page);

    h.emulator.setPortals(null);
    const refused = await context.newPage();
    await refused.goto(h.emulator.portalUrl({ relayPort: s.port }));
    await expect.poll(() => workerState(refused), { timeout: 15_000 }).toBe('refused');

    const install = await context.newPage();
    await install.setViewportSize({ width: 900, height: 900 });
    await install.goto(h.emulator.installUrl());
    const app = install.frameLocator('iframe[name$="|1|INSTALL"]');
    await expect.poll(() => app.locator('#portal-check').textContent()).toMatch(/will not start here: .*portals\.json is missing/);
    await expect.poll(() => app.locator('#worker-status').textContent()).toMatch(/refused .*portals\.json is missing/);
    await install.screenshot({ path: path.join(SCREENSHOTS, 'install-page-no-portals.png') });

    // A wildcard entry covers the portal; comments are allowed.
    h.emulator.setPortals(`// our portals\n["https://*.test:${h.emulator.portalPort}"]`);
    const wildcard = await openPortal(context, h.emulator.portalUrl({ relayPort: s.port }));
    await waitForBinds(wildcard);
  });
});
