// Real Firefox (Debian's `firefox-esr`) driven by puppeteer-core over WebDriver BiDi (shared BITRIX24.md §7.2b).
// puppeteer-core downloads no browser: it starts the installed one with a fresh profile of our own.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Frame, type Page } from 'puppeteer-core';
import { HOSTILE_HOST, PORTAL_HOST, WORKER_HOST } from '../emulator/portal-server.ts';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export interface FirefoxOptions {
  /** More Firefox preferences (e.g. `network.lna.*`), on top of the test defaults below. */
  prefs?: Record<string, unknown>;
}

export interface TestFirefox {
  browser: Browser;
  /** The profile folder this launch made (removed by `close`). */
  profileDir: string;
  /** A new private browsing context (its own cookies and storage), closed with the browser. */
  context(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchFirefox(options: FirefoxOptions = {}): Promise<TestFirefox> {
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-firefox-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profileDir,
      // The emulator's certificate is self-signed, made at test time: the BiDi session accepts it.
      acceptInsecureCerts: true,
      // A hung evaluate fails the test within seconds instead of blocking for puppeteer's default 180 s.
      protocolTimeout: 20_000,
      timeout: 30_000,
      defaultViewport: { width: 640, height: 360 },
      extraPrefsFirefox: {
        // The portal and the worker host get names of their own (separate sites, as in Bitrix24), all on
        // 127.0.0.1, without touching /etc/hosts.
        'network.dns.localDomains': [PORTAL_HOST, WORKER_HOST, HOSTILE_HOST].join(','),
        ...options.prefs,
      },
    });
  } catch (error) {
    rmSync(profileDir, { recursive: true, force: true });
    throw error;
  }
  const contexts: BrowserContext[] = [];
  return {
    browser,
    profileDir,
    async context() {
      const context = await browser.createBrowserContext();
      contexts.push(context);
      return context;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close().catch(() => {});
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** The worker's frame inside an emulated portal page, found by URL: puppeteer's BiDi frames report no `name`. */
export function workerFrame(page: Page, workerOrigin: string): Frame | undefined {
  return page.frames().find((f) => f.url().startsWith(`${workerOrigin}/index.html`));
}
