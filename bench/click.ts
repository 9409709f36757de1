// `npm run bench` (card click): a real click on the Mute button of the emulated Bitrix24 call card in real Chromium,
// through the worker frame (the portal's postMessage, the worker's outbox, its WebSocket) into the real `serve`
// process, until the app's operator state has changed (live → muted, and back to live on the next click). Against
// the least any click can take to reach a Node process, measured in the same page, in alternating rounds: the same
// kind of click on a probe button the bench adds to the page, whose capturing handler sends one WebSocket message
// to a bare `ws` server in this process.
//
// Clocks: a click starts at its own timestamp in the page (performance.timeOrigin + event.timeStamp: when the
// browser took the input), read by a capturing listener on the document. The app's path ends when this process
// reads serve's `state` log line from serve's stderr (performance.timeOrigin + performance.now(), the same machine
// clock). serve writes that line synchronously from its state listener into a pipe, so the end includes one pipe
// hop into this process; the last line compares serve's own (whole-millisecond) timestamp of the line with ours.
// The baseline ends when the bare server's message handler runs. Both compare the page's clock with Node's the
// same way, so an offset between the two weighs on both alike.
//
// The app's path is also printed hop by hop (marks taken in the portal page and, by an init script that runs
// before the worker's own code, in the worker frame).
//
// Clicks are a little over FIGURES_DELAY_MS apart: the app writes a call's figures that long after an event, and an
// operator does not click mute four times a second. Prints figures and ratios; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Frame, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { FIGURES_DELAY_MS } from '../main/core/ingest-queue.ts';
import { startEmulator, WORKER_HOST, type Emulator } from '../test/emulator/portal-server.ts';
import { launchChromium, type TestBrowser } from '../test/helpers/browser.ts';
import { exited, freePort, startServe, type ServeProcess } from '../test/helpers/cli.ts';

const ROUNDS = Number(process.env.BENCH_CLICK_ROUNDS ?? 100);
const WARMUP = 10;
const CYCLE_MS = FIGURES_DELAY_MS + 50;
const CALL_ID = 'externalCall.bench-click';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the page's. */
const clock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A click as the page saw it: its own timestamp, and when the document's capturing listener ran. */
interface Mark {
  at: number;
  handled: number;
}

/**
 * In the portal page: the capturing click listener on the document, and the probe button, placed below the card,
 * whose capturing handler sends one message to the bare server and does nothing else.
 */
const PAGE_PROBE = (port: number): string => `(() => {
  const clicks = [];
  document.addEventListener('click', (event) => clicks.push({ at: performance.timeOrigin + event.timeStamp, handled: performance.timeOrigin + performance.now() }), true);
  const socket = new WebSocket('ws://127.0.0.1:${port}/');
  socket.onopen = () => { window.__benchSocketOpen = true; };
  const probe = document.createElement('button');
  probe.id = 'bench-probe';
  probe.textContent = 'bench probe';
  probe.style.cssText = 'margin-top:12px;font:inherit;padding:6px 14px';
  probe.addEventListener('click', () => socket.send('click'), true);
  document.querySelector('main').append(probe);
  window.__benchClicks = { take: () => clicks.splice(0) };
})()`;

/**
 * In the worker frame, before the worker's own script (its message listener then runs after ours): when the
 * portal's messages arrive, and when an event frame is handed to the WebSocket.
 */
const WORKER_PROBE = `(() => {
  if (location.hostname !== '${WORKER_HOST}') return;
  const marks = { received: [], sent: [] };
  window.addEventListener('message', () => marks.received.push(performance.timeOrigin + performance.now()), true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.startsWith('{"type":"event"')) marks.sent.push(performance.timeOrigin + performance.now());
    return send.call(this, data);
  };
  window.__benchMarks = { take: () => ({ received: marks.received.splice(0), sent: marks.sent.splice(0) }) };
})()`;

interface StateLine {
  /** When this process read the line. */
  at: number;
  /** serve's own timestamp of the line (whole milliseconds). */
  loggedAt: number;
}

/** Follows serve's `state` log lines on its stderr; `next(state)` resolves with the next one announcing `state`. */
function watchStates(serve: ServeProcess): { next(state: string): Promise<StateLine> } {
  let waiting: { state: string; resolve(line: StateLine): void } | null = null;
  createInterface({ input: serve.child.stderr }).on('line', (text) => {
    const at = clock();
    if (!waiting || !text.includes('"event":"state"')) return;
    const entry = JSON.parse(text) as { time: string; state: string };
    if (entry.state !== waiting.state) return;
    const { resolve } = waiting;
    waiting = null;
    resolve({ at, loggedAt: Date.parse(entry.time) });
  });
  return {
    next(state) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not report the state ${state}: ${serve.stderr().slice(-2_000)}`)), 10_000);
        waiting = { state, resolve: (line) => (clearTimeout(timer), resolve(line)) };
      });
    },
  };
}

function workerFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f.name().includes('|1|'));
  if (!frame) throw new Error('the worker frame is not there');
  return frame;
}

/** Polls with evaluate: the worker's CSP forbids the eval that Playwright's waitForFunction needs. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (!(await condition().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

const tempDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-bench-click-'));
const bare = new WebSocketServer({ host: '127.0.0.1', port: 0 });
let emulator: Emulator | undefined;
let chromium: TestBrowser | undefined;
let serve: ServeProcess | undefined;
try {
  await new Promise((resolve) => bare.once('listening', resolve));
  let bareReached: ((at: number) => void) | null = null;
  bare.on('connection', (socket) => {
    socket.on('message', () => {
      const at = clock();
      bareReached?.(at);
      bareReached = null;
    });
  });

  emulator = await startEmulator();
  chromium = await launchChromium();
  serve = await startServe([
    '--data-dir', path.join(tempDir, 'data'), '--port', String(await freePort()),
    '--allow-origin', emulator.workerOrigin, '--auto-approve',
  ]);
  const states = watchStates(serve);
  const context = await chromium.context();
  await context.addInitScript(WORKER_PROBE);
  const page = await context.newPage();
  await page.goto(emulator.portalUrl({ relayPort: serve.port, sid: 'BENCHCLICK' }));
  await until(async () => (await page.evaluate(`window.emulator.binds()['BackgroundCallCard::initialized']`)) === 1, 'the worker bound the card events');
  await until(async () => (await workerFrame(page).evaluate('document.documentElement.dataset.state')) === 'connected', 'the worker connected');
  const live = states.next('live');
  await page.evaluate(`window.emulator.raiseCard({ callId: '${CALL_ID}', phoneNumber: '+74950000000' })`);
  await live;
  await page.evaluate(PAGE_PROBE((bare.address() as { port: number }).port));
  await until(async () => (await page.evaluate('window.__benchSocketOpen')) === true, 'the probe socket opened');
  const mute = page.locator('#mute');
  const probe = page.locator('#bench-probe');

  const samples = {
    app: [] as number[],
    baseline: [] as number[],
    appInput: [] as number[],
    postMessage: [] as number[],
    worker: [] as number[],
    toState: [] as number[],
    /** serve's own timestamp of its state line → this process read it: the pipe hop, plus 0-1 ms of rounding. */
    pipe: [] as number[],
    baseInput: [] as number[],
    baseToNode: [] as number[],
  };
  let muted = false;
  for (let i = 0; i < WARMUP + ROUNDS; i += 1) {
    const cycleStart = performance.now();
    const measured = i >= WARMUP;

    muted = !muted;
    const changed = states.next(muted ? 'muted' : 'live');
    await mute.click();
    const line = await changed;
    const [click] = (await page.evaluate('window.__benchClicks.take()')) as Mark[];
    const worker = (await workerFrame(page).evaluate('window.__benchMarks.take()')) as { received: number[]; sent: number[] };
    const [received] = worker.received;
    const [sent] = worker.sent;
    if (!click || received === undefined || sent === undefined) throw new Error('a mark of the click is missing in the page or the worker');
    if (measured) {
      samples.app.push(line.at - click.at);
      samples.appInput.push(click.handled - click.at);
      samples.postMessage.push(received - click.handled);
      samples.worker.push(sent - received);
      samples.toState.push(line.at - sent);
      samples.pipe.push(line.at - line.loggedAt);
    }
    await sleep(Math.max(0, cycleStart + CYCLE_MS / 2 - performance.now()));

    const reached = new Promise<number>((resolve) => (bareReached = resolve));
    await probe.click();
    const at = await reached;
    const [probeClick] = (await page.evaluate('window.__benchClicks.take()')) as Mark[];
    if (!probeClick) throw new Error('the probe click was not seen in the page');
    if (measured) {
      samples.baseline.push(at - probeClick.at);
      samples.baseInput.push(probeClick.handled - probeClick.at);
      samples.baseToNode.push(at - probeClick.handled);
    }
    await sleep(Math.max(0, cycleStart + CYCLE_MS - performance.now()));
  }

  for (const values of Object.values(samples)) values.sort((a, b) => a - b);
  const ms = (v: number): string => `${v.toFixed(2).padStart(6)} ms`;
  const row = (label: string, values: number[]): string =>
    `${label.padEnd(60)} p50 ${ms(percentile(values, 50))}   p99 ${ms(percentile(values, 99))}`;
  const ratio = (p: number): string => `${(percentile(samples.app, p) / percentile(samples.baseline, p)).toFixed(1)}x`;
  console.log(`\nCard click → app state (${ROUNDS} rounds each, alternating, ${CYCLE_MS} ms apart; Chromium ${chromium.browser.version()})`);
  console.log(row('click → bare ws in Node', samples.baseline));
  console.log(row('click → state muted/live (Chromium, emulator, worker, serve)', samples.app));
  console.log(`${'ratio'.padEnd(60)} p50 ${ratio(50).padStart(9)}   p99 ${ratio(99).padStart(9)}`);
  console.log('  the app, hop by hop:');
  console.log(row('    click → the page\'s capturing listener runs', samples.appInput));
  console.log(row('    → the card\'s postMessage reaches the worker frame', samples.postMessage));
  console.log(row('    → the worker (outbox kept) hands the event to its socket', samples.worker));
  console.log(row('    → serve\'s state line is read here', samples.toState));
  console.log(row('      of which serve\'s line timestamp (whole ms) → read here', samples.pipe));
  console.log('  the baseline:');
  console.log(row('    click → the page\'s capturing listener runs', samples.baseInput));
  console.log(row('    → its message reaches the bare server', samples.baseToNode));
} finally {
  if (serve) {
    serve.child.kill('SIGTERM');
    await exited(serve.child);
  }
  await chromium?.close();
  await emulator?.close();
  for (const client of bare.clients) client.terminate();
  await new Promise((resolve) => bare.close(resolve));
  rmSync(tempDir, { recursive: true, force: true });
}
