// The app windows in real Chromium, wired the way the desktop app wires them: the built renderer served with its
// CSP (through the same `rendererFile` the `app:` protocol handler uses), the real built preload running in the
// page, and its IPC reaching the handlers the real `registerIpc` registers. Used by the window tests
// (test/e2e/windows.test.ts) and the window benchmark (bench/window.ts); it imports nothing from vitest.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { IPC_EXPORT_PROGRESS_EVENT, IPC_PREFIX, IPC_STATUS_EVENT } from '../../common/ipc-channels.ts';
import type { DesktopController } from '../../main/core/desktop/desktop-controller.ts';
import { rendererFile } from '../../main/core/desktop/renderer-files.ts';
import { appUrl, registerIpc } from '../../main/electron/ipc.ts';
import { CHROMIUM } from './browser.ts';

const OUT = path.join(import.meta.dirname, '..', '..', 'out');

/**
 * The page-side half of a sandboxed preload: the built CommonJS file runs with a `require` that gives only
 * `electron` (a sandboxed preload cannot load other modules from disk), whose contextBridge puts the API on
 * `window` and whose ipcRenderer goes to the test's binding. Injected as an init script, which the page's CSP
 * does not govern, like a real preload. Answers cross as JSON text: Playwright's own serialisation of a value walks
 * it in JavaScript on both sides (50-130 ms for a page of 200 calls), where Electron's structured clone takes a
 * millisecond or two; every answer of the IPC map is plain data, for which the two agree.
 */
function preloadInPage(source: string): string {
  return `(() => {
    const listeners = new Map();
    const electron = {
      contextBridge: { exposeInMainWorld: (name, api) => { Object.defineProperty(window, name, { value: Object.freeze(api) }); } },
      ipcRenderer: {
        invoke: (channel, ...args) => window.__ipcInvoke(channel, args).then((text) => (text === undefined ? undefined : JSON.parse(text))),
        on: (channel, listener) => { if (!listeners.has(channel)) listeners.set(channel, []); listeners.get(channel).push(listener); },
        removeListener: (channel, listener) => { const list = listeners.get(channel) || []; const i = list.indexOf(listener); if (i >= 0) list.splice(i, 1); },
      },
    };
    window.__ipcPush = (channel, payload) => (listeners.get(channel) || []).forEach((listener) => listener({}, payload));
    const require = (name) => { if (name === 'electron') return electron; throw new Error('a sandboxed preload cannot require ' + name); };
    const module = { exports: {} };
    (function (require, module, exports) {\n${source}\n})(require, module, module.exports);
  })();`;
}

/** Chromium and a loopback server of the built windows (out/renderer), shared by the windows opened on it. */
export interface WindowHost {
  browser: Browser;
  /** Where out/renderer is served, e.g. `http://127.0.0.1:PORT`. */
  base: string;
  /** The built preload (out/preload/index.cjs), read once when the host starts. */
  preload: string;
  close(): Promise<void>;
}

/** Launches Chromium and serves out/renderer; out/ must be built (the test setup and `npm run bench` build it). */
export async function startWindowHost(): Promise<WindowHost> {
  const renderer = path.join(OUT, 'renderer');
  const preload = readFileSync(path.join(OUT, 'preload', 'index.cjs'), 'utf8');
  const server = http.createServer((req, res) => {
    const file = rendererFile(renderer, new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(file.status, file.headers).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    browser,
    base,
    preload,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface OpenWindowOptions {
  colorScheme?: 'light' | 'dark';
  locale?: string;
  /** The window's size from the start (default 520 × 720). */
  viewport?: { width: number; height: number };
  /** Page scripts added before the app's own (after the preload), e.g. a benchmark's probes. */
  initScripts?: string[];
  /** Wait for the view's first heading before returning (default true). */
  waitForHeading?: boolean;
  /** Told of each IPC call the main side answered: its channel in the IPC map (`logCalls`, without the prefix) and when its handler started and ended (ms since the epoch). */
  onIpc?: (channel: string, startedAt: number, endedAt: number) => void;
}

export interface OpenedWindow {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  consoleErrors: string[];
  /** Closes the window (its browser context). */
  close(): Promise<void>;
}

/**
 * Opens a view the way an app window is wired: the real built preload runs in the page (with a stand-in for the
 * `electron` module a sandboxed preload gets), its `ipcRenderer.invoke` reaches the handlers the real
 * `registerIpc` registered, with the event Electron passes (`sender`, and `senderFrame` whose url is the
 * `app://` URL the window manager loads), and the main process's pushes arrive on the preload's channels.
 */
export async function openWindow(host: WindowHost, controller: DesktopController, view: string, options: OpenWindowOptions = {}): Promise<OpenedWindow> {
  const context = await host.browser.newContext({ viewport: options.viewport ?? { width: 520, height: 720 }, colorScheme: options.colorScheme ?? 'light', locale: options.locale ?? 'en-US' });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  registerIpc({ handle: (channel, listener) => void handlers.set(channel, listener as never) }, controller.handlers);
  const frame = { url: appUrl(`/index.html?view=${view}`) };
  const event = { sender: { mainFrame: frame }, senderFrame: frame };
  await page.exposeBinding('__ipcInvoke', async (_source, channel: string, args: unknown[]) => {
    const handler = handlers.get(channel);
    // What Electron answers for a channel nobody handles.
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    const startedAt = performance.timeOrigin + performance.now();
    try {
      return JSON.stringify(await handler(event, ...args));
    } finally {
      options.onIpc?.(channel.slice(IPC_PREFIX.length), startedAt, performance.timeOrigin + performance.now());
    }
  });
  await page.addInitScript({ content: preloadInPage(host.preload) });
  for (const content of options.initScripts ?? []) await page.addInitScript({ content });
  let open = true;
  const push = (channel: string, payload: unknown): void => {
    if (!open) return;
    void page.evaluate(([c, p]) => (globalThis as unknown as { __ipcPush?: (channel: string, payload: unknown) => void }).__ipcPush?.(c as string, p), [channel, payload] as const).catch(() => {});
  };
  const stopStatus = controller.onStatus((status) => push(IPC_STATUS_EVENT, status));
  const stopProgress = controller.onExportProgress((progress) => push(IPC_EXPORT_PROGRESS_EVENT, progress));
  await page.goto(`${host.base}/index.html?view=${view}`);
  if (options.waitForHeading ?? true) await page.locator('h1').first().waitFor();
  return {
    page,
    consoleErrors,
    async close() {
      open = false;
      stopStatus();
      stopProgress();
      await context.close();
    },
  };
}
