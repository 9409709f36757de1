// Real Chromium (Debian's package) driven by playwright-core, launched the way DESIGN.md prescribes.
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { HOSTILE_HOST, PORTAL_HOST, WORKER_HOST } from '../emulator/portal-server.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface LaunchOptions {
  /** `127.0.0.1:PORT` pairs Chromium must treat as public addresses (Local Network Access then applies). */
  publicAddresses?: string[];
}

export interface TestBrowser {
  browser: Browser;
  context(options?: { grantLoopbackTo?: string }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchChromium(options: LaunchOptions = {}): Promise<TestBrowser> {
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    // Playwright gives every launch a fresh, empty profile of its own (the --user-data-dir of DESIGN.md).
    '--disable-component-update', '--disable-sync',
    // The portal and the worker host get names of their own (separate sites, as in Bitrix24), both on 127.0.0.1.
    `--host-resolver-rules=MAP ${PORTAL_HOST} 127.0.0.1, MAP ${WORKER_HOST} 127.0.0.1, MAP ${HOSTILE_HOST} 127.0.0.1`,
  ];
  if (options.publicAddresses?.length) args.push(`--ip-address-space-overrides=${options.publicAddresses.map((a) => `${a}=public`).join(',')}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async context(o = {}) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 640, height: 360 } });
      if (o.grantLoopbackTo) await context.grantPermissions(['local-network-access'], { origin: o.grantLoopbackTo });
      contexts.push(context);
      return context;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
    },
  };
}
