// Debian's Chromium started the way a person starts it, driven over the bare DevTools protocol. Playwright
// launches Chromium with --disable-background-timer-throttling, --disable-renderer-backgrounding and
// --disable-backgrounding-occluded-windows, and emulates focus on every page it attaches to: all its pages stay
// visible and their timers run. Here nothing of that: a tab put behind another is really hidden
// (`document.visibilityState === 'hidden'`), and the browser throttles and freezes it as it would an operator's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { HOSTILE_HOST, PORTAL_HOST, WORKER_HOST } from '../emulator/portal-server.ts';
import { CHROMIUM } from './browser.ts';

export interface PlainTab {
  targetId: string;
  /** Evaluates an expression in the tab's page (promises awaited) and returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  visibility(): Promise<string>;
  /** Page Lifecycle through the DevTools protocol: 'frozen' freezes the page as the browser would, 'active' resumes it. */
  setLifecycle(state: 'frozen' | 'active'): Promise<void>;
  close(): Promise<void>;
}

export interface PlainChromium {
  /** Opens a tab in the foreground (the previous foreground tab goes to the background). */
  open(url: string): Promise<PlainTab>;
  close(): Promise<void>;
}

export async function launchPlainChromium(extraArgs: string[] = []): Promise<PlainChromium> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'opcomp-chromium-'));
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--remote-debugging-port=0',
    // The emulator's certificate is made at test time.
    '--ignore-certificate-errors',
    `--host-resolver-rules=MAP ${PORTAL_HOST} 127.0.0.1, MAP ${WORKER_HOST} 127.0.0.1, MAP ${HOSTILE_HOST} 127.0.0.1`,
    ...extraArgs,
    'about:blank',
  ];
  const child: ChildProcess = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${output.slice(-2000)}`)));
  });
  const socket = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  const send = <T>(method: string, params: object = {}, sessionId?: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      nextId += 1;
      pending.set(nextId, { resolve: resolve as (value: unknown) => void, reject });
      socket.send(JSON.stringify({ id: nextId, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  return {
    async open(url) {
      const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url });
      const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      const evaluate = async <T>(expression: string): Promise<T> => {
        const reply = await send<{ result: { value?: T }; exceptionDetails?: { exception?: { description?: string }; text: string } }>(
          'Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
        if (reply.exceptionDetails) throw new Error(reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text);
        return reply.result.value as T;
      };
      return {
        targetId,
        evaluate,
        visibility: () => evaluate<string>('document.visibilityState'),
        setLifecycle: async (state) => void (await send('Page.setWebLifecycleState', { state }, sessionId)),
        close: async () => void (await send('Target.closeTarget', { targetId })),
      };
    },
    async close() {
      socket.close();
      child.kill();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
