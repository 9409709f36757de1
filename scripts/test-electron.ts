// `npm run test:electron`: the desktop app on the real Electron, where Electron's binary exists (a developer's
// machine, CI). Where it cannot be downloaded (as on the machines this project is built on) it says it was skipped
// and exits 0. What it does, on a fresh data folder each time:
//  1. the unpacked app (`electron .`), driven by playwright-core's _electron.launch: wait until the app is up,
//     open the status window as a second start would, open every other window from the page through the preload
//     bridge, in each call window.companion.getStatus() and expect ok, change a setting, quit, check it stopped
//     cleanly and kept the setting;
//  2. the packed app from `electron-builder --dir` (dist/*-unpacked), when it exists: the same through the Chrome
//     DevTools protocol, and with a real second start. _electron.launch cannot drive it: it needs Node's --inspect,
//     which the packed binary's fuses switch off (electron-builder.yml, electronFuses).
// On Linux it needs a display: without one it runs itself again under xvfb-run. Electron refuses to run as root
// with its sandbox on; as root (containers) it passes --no-sandbox and says so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { _electron, chromium, type Browser, type Page } from 'playwright-core';
import { WINDOW_VIEWS, type WindowView } from '../common/ipc-channels.ts';
import { electronBinary } from './electron-binary.ts';

const root = path.join(import.meta.dirname, '..');
const TIMEOUT_MS = 60_000;

/** The bridge the preload exposes, as far as this test calls it. */
interface Bridge {
  getStatus(): Promise<{ ok: boolean; error?: string }>;
  getSettings(): Promise<{ ok: boolean; value?: { settings: { muteReminderSeconds: number } }; error?: string }>;
  updateSettings(change: Record<string, unknown>): Promise<{ ok: boolean; error?: string }>;
  openWindow(view: WindowView): Promise<{ ok: boolean; error?: string }>;
}
const companion = (): Bridge => (globalThis as unknown as { companion: Bridge }).companion;

function log(message: string): void {
  console.log(`test:electron: ${message}`);
}

function fail(message: string): never {
  console.error(`test:electron failed: ${message}`);
  process.exit(1);
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return fail(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** The packed app's executable from `electron-builder --dir`, if one was built for this system. */
function packedExecutable(): string | null {
  const dist = path.join(root, 'dist');
  const candidates =
    process.platform === 'linux'
      ? [path.join(dist, 'linux-unpacked', 'operator-companion'), path.join(dist, 'linux-arm64-unpacked', 'operator-companion')]
      : process.platform === 'win32'
        ? [path.join(dist, 'win-unpacked', 'Operator Companion.exe'), path.join(dist, 'win-arm64-unpacked', 'Operator Companion.exe')]
        : ['mac', 'mac-arm64', 'mac-universal'].map((dir) => path.join(dist, dir, 'Operator Companion.app', 'Contents', 'MacOS', 'Operator Companion'));
  return candidates.find((file) => existsSync(file)) ?? null;
}

const isRoot = process.platform !== 'win32' && process.getuid?.() === 0;
const sandboxArgs = isRoot ? ['--no-sandbox'] : [];

/**
 * Every window, its status and a setting: from the status window open each other view through the bridge, in
 * each ask for the status, and change a setting in the settings window.
 */
async function exerciseWindows(pages: () => Page[], label: string): Promise<void> {
  const pageFor = (view: WindowView): Promise<Page> =>
    waitFor(`the ${view} window (${label})`, () => pages().find((page) => new URL(page.url()).searchParams.get('view') === view));
  const status = await pageFor('status');
  // The page may be up before the main process has registered its IPC handlers: wait for the first answer.
  await waitFor(`the first getStatus answer (${label})`, async () => ((await status.evaluate(() => companion().getStatus())).ok ? true : undefined));
  for (const view of WINDOW_VIEWS) {
    const opened = await status.evaluate((v) => companion().openWindow(v), view);
    if (!opened.ok) fail(`openWindow(${view}) answered ${JSON.stringify(opened)} (${label})`);
    const page = await pageFor(view);
    const answer = await page.evaluate(() => companion().getStatus());
    if (!answer.ok) fail(`getStatus in the ${view} window answered ${JSON.stringify(answer)} (${label})`);
    log(`${label}: ${view} window answers getStatus ok`);
  }
  const settings = await pageFor('settings');
  const updated = await settings.evaluate(() => companion().updateSettings({ muteReminderSeconds: 120 }));
  if (!updated.ok) fail(`updateSettings answered ${JSON.stringify(updated)} (${label})`);
  const read = await settings.evaluate(() => companion().getSettings());
  if (read.value?.settings.muteReminderSeconds !== 120) fail(`the changed setting did not stick: ${JSON.stringify(read)} (${label})`);
  log(`${label}: a setting changed from the settings window`);
}

/** After quitting: the instance removed its control file and the setting is on disk. */
function checkStoppedCleanly(dataDir: string, label: string): void {
  if (existsSync(path.join(dataDir, 'control.json'))) fail(`control.json is still there after quitting (${label})`);
  const saved = JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')) as { muteReminderSeconds?: number };
  if (saved.muteReminderSeconds !== 120) fail(`settings.json does not hold the changed setting (${label})`);
}

const appIsUp = (dataDir: string) => (): true | undefined => (existsSync(path.join(dataDir, 'control.json')) ? true : undefined);

async function unpackedPass(): Promise<void> {
  const label = 'electron .';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-electron-'));
  try {
    const app = await _electron.launch({
      args: [root, ...sandboxArgs],
      cwd: root,
      env: { ...process.env, OPERATOR_COMPANION_DATA_DIR: dataDir } as Record<string, string>,
      // Playwright turns Electron's sandbox off on Linux unless told otherwise; keep it on, as users run it.
      chromiumSandbox: !isRoot,
      timeout: TIMEOUT_MS,
    });
    const exited = new Promise<number | null>((resolve) => app.process().once('exit', (code) => resolve(code)));
    await waitFor(`the app to start (${label})`, appIsUp(dataDir));
    log(`${label}: started`);
    // What a second start of the app does: the first one opens its status window.
    await app.evaluate(({ app: electronApp }) => void electronApp.emit('second-instance'));
    await exerciseWindows(() => app.windows(), label);
    // The connection may close before the answer arrives: the exit code is what counts.
    await app.evaluate(({ app: electronApp }) => electronApp.quit()).catch(() => {});
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS))]);
    if (code !== 0) fail(`the app did not quit cleanly: ${code} (${label})`);
    checkStoppedCleanly(dataDir, label);
    log(`${label}: quit cleanly`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function packedPass(executable: string): Promise<void> {
  const label = path.relative(root, executable);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-packed-'));
  const env = { ...process.env, OPERATOR_COMPANION_DATA_DIR: dataDir };
  const port = await freePort();
  const first = spawn(executable, [`--remote-debugging-port=${port}`, ...sandboxArgs], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  let browser: Browser | null = null;
  try {
    await waitFor(`the packed app to start (${label})`, appIsUp(dataDir));
    log(`${label}: started`);
    // A real second start: it finds the first one's lock, hands over and leaves; the first opens its status window.
    const second = spawn(executable, sandboxArgs, { env, stdio: 'ignore' });
    const secondCode = await exitOf(second);
    if (secondCode !== 0) fail(`the second start exited with ${secondCode} (${label})`);
    log(`${label}: a second start handed over and left`);
    browser = await waitFor(`the DevTools endpoint (${label})`, () => chromium.connectOverCDP(`http://127.0.0.1:${port}`));
    const connected = browser;
    await exerciseWindows(() => connected.contexts().flatMap((context) => context.pages()), label);
    // Quit as the app does on the system's request: Chromium's Browser.close ends Electron's main loop.
    const cdp = await connected.newBrowserCDPSession();
    await cdp.send('Browser.close').catch(() => {});
    const code = await Promise.race([exitOf(first), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS))]);
    if (code !== 0) fail(`the packed app did not quit cleanly: ${code} (${label})`);
    checkStoppedCleanly(dataDir, label);
    log(`${label}: quit cleanly`);
  } finally {
    await browser?.close().catch(() => {});
    if (first.exitCode === null) first.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const binary = electronBinary(root);
  if (!existsSync(binary)) {
    console.log(`test:electron skipped: Electron's binary is not installed (${binary}); the Electron layer is type-checked and its logic tested under Node (docs/desktop.md).`);
    return;
  }
  // Linux without a display: run again under a virtual X server.
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY && !process.env.OPERATOR_COMPANION_UNDER_XVFB) {
    const which = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' });
    if (which.status !== 0) fail('no display and no xvfb-run (apt install xvfb)');
    log('no display: running under xvfb-run');
    const result = spawnSync('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', process.execPath, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, OPERATOR_COMPANION_UNDER_XVFB: '1' },
    });
    process.exit(result.status ?? 1);
  }
  if (isRoot) log('running as root: Electron refuses its sandbox as root, so the app runs with --no-sandbox (run as a normal user to test with the sandbox)');

  await unpackedPass();
  const packed = packedExecutable();
  if (packed) await packedPass(packed);
  else log('no packed app in dist/ (npx electron-builder --dir builds one): the packed pass was skipped');
  console.log(`test:electron passed: ${packed ? 'the unpacked and the packed app' : 'the unpacked app'} started, answered in every window, kept a setting and quit cleanly`);
}

const watchdog = setTimeout(() => fail('took longer than 5 minutes'), 5 * 60_000);
watchdog.unref();
await main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
process.exit(0);
