import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, useHarness } from './harness.ts';

const h = useHarness();

describe('the install page inside the portal', () => {
  it('binds the worker per operator, rebinds cleanly for everyone, and finishes the installation', async () => {
    const page = await (await h.chromium.context()).newPage();
    await page.setViewportSize({ width: 900, height: 760 });
    await page.goto(h.emulator.installUrl());
    const app = page.frameLocator('iframe[name$="|1|INSTALL"]');
    await expect.poll(() => app.locator('#current').textContent()).toBe('Not bound yet.');

    await app.locator('#users').fill('7, 12');
    await app.locator('#install').click();
    await expect.poll(() => app.locator('#log').textContent()).toMatch(/Installation finished/);
    const handler = `${h.emulator.workerOrigin}/index.html`;
    expect(h.emulator.bindings).toEqual([
      { PLACEMENT: 'PAGE_BACKGROUND_WORKER', HANDLER: handler, TITLE: 'Operator Companion', 'OPTIONS[errorHandlerUrl]': `${h.emulator.workerOrigin}/error.html`, USER_ID: '7' },
      { PLACEMENT: 'PAGE_BACKGROUND_WORKER', HANDLER: handler, TITLE: 'Operator Companion', 'OPTIONS[errorHandlerUrl]': `${h.emulator.workerOrigin}/error.html`, USER_ID: '12' },
    ]);
    expect(await page.evaluate(() => (window as unknown as { installFinished?: boolean }).installFinished)).toBe(true);
    // What the page shows is what Bitrix24 now holds, not what it held when the page opened.
    await expect.poll(() => app.locator('#current').textContent()).toBe(`${handler} (user 7)\n${handler} (user 12)`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'install-page.png') });

    // Reinstalled for everyone, on another port: the per-operator bindings go, one general binding stays.
    await app.locator('#users').fill('');
    await app.locator('#port').fill('17346');
    await app.locator('#install').click();
    await expect.poll(() => app.locator('#log').textContent()).toMatch(/Installation finished/);
    expect(h.emulator.bindings).toEqual([
      { PLACEMENT: 'PAGE_BACKGROUND_WORKER', HANDLER: `${handler}?port=17346`, TITLE: 'Operator Companion', 'OPTIONS[errorHandlerUrl]': `${h.emulator.workerOrigin}/error.html` },
    ]);
    expect(await app.locator('#log').textContent()).toMatch(/Removed the earlier binding .*\(user 7\).*Removed the earlier binding .*\(user 12\)/s);
    await expect.poll(() => app.locator('#current').textContent()).toBe(`${handler}?port=17346 (every user)`);
  });

  it('refuses user ids that are not numbers, and binds nothing', async () => {
    const page = await (await h.chromium.context()).newPage();
    await page.goto(h.emulator.installUrl());
    const app = page.frameLocator('iframe[name$="|1|INSTALL"]');
    await expect.poll(() => app.locator('#install').isEnabled()).toBe(true);
    const before = JSON.stringify(h.emulator.bindings);
    await app.locator('#users').fill('olga');
    await app.locator('#install').click();
    await expect.poll(() => app.locator('#log').textContent()).toMatch(/Failed: user ids are numbers/);
    expect(JSON.stringify(h.emulator.bindings)).toBe(before);
  });
});
