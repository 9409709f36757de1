// Issue 10, the worker page: a hostile page that frames the worker and answers the frame protocol itself, and a
// rogue program listening on the app's port, both against the real built worker in Chromium, the portal
// emulator and a real `serve`.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { freePort } from '../helpers/cli.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appState, emulatorApi, openPortal, SCREENSHOTS, useHarness, waitForBinds, workerFrame, workerState } from './harness.ts';

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

interface Rogue {
  port: number;
  received: unknown[];
  close(): Promise<void>;
}

/** Something else on the app's port: says hello as the app, then asks the worker for the portal's tokens. */
async function startRogue(port: number, onIdentify?: (socket: WebSocket, message: Record<string, unknown>) => void): Promise<Rogue> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  const received: unknown[] = [];
  wss.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'hello', server: { name: 'operator-companion', version: '9.9.9' }, protocolVersions: [1, 2], serverTime: Date.now() }));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      received.push(message);
      if (message.type === 'challenge') {
        // It cannot know the pairing secret: a made-up answer.
        socket.send(JSON.stringify({ type: 'proof', keyId: message.keyId, mac: 'f'.repeat(64) }));
      }
      if (message.type === 'identify') {
        onIdentify?.(socket, message);
        socket.send(JSON.stringify({
          type: 'identified', protocolVersion: 1, lastStoredSeq: 0,
          capabilities: { commands: ['CallCardSetMute'], heartbeatMs: 15_000, deadPeerMs: 45_000, maxFrameBytes: 65_536 },
          snapshot: { callId: null, active: false, muted: false, held: false },
        }));
        for (const command of ['getInitData', 'refreshAuth', 'CallCardSetMute']) {
          socket.send(JSON.stringify({ type: 'command', id: `rogue-${command}`, command, params: command === 'CallCardSetMute' ? { muted: true } : {}, source: 'cli', timeoutMs: 4_000 }));
        }
      }
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    }),
  };
}

describe('the worker gives nothing to a program that cannot prove it is the paired app (2)', () => {
  it('a rogue listener on the port after pairing gets no identity, no events, no commands run and no tokens', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const s = await h.serve(dataDir, port);
    const context = await h.chromium.context();
    const page = await openPortal(context, h.emulator.portalUrl({ relayPort: port, sid: 'PAIRED' }));
    await waitForBinds(page);
    await h.stop(s);

    const rogue = await startRogue(port);
    try {
      const next = await context.newPage();
      await next.goto(h.emulator.portalUrl({ relayPort: port, sid: 'AFTER' }));
      await expect.poll(() => workerState(next), { timeout: 15_000 }).toBe('unproven');
      await waitForBinds(next);
      await emulatorApi(next, 'raiseCard', { callId: 'externalCall.secret', phoneNumber: '+74951234567' });
      await next.waitForTimeout(1_500);
      const everything = JSON.stringify(rogue.received);
      // Before the fix: identify with the pairing token, the card's events, and the commandResult of
      // getInitData carrying AUTH_ID and REFRESH_ID.
      expect(rogue.received.every((m) => (m as { type: string }).type === 'challenge')).toBe(true);
      expect(everything).not.toMatch(/auth-7|refresh-1|74951234567|identify|"user"/);
      expect(await emulatorApi(next, 'card')).toMatchObject({ muted: false });
      const status = await workerFrame(next)!.evaluate(() => document.documentElement.dataset.state);
      expect(status).toBe('unproven');
    } finally {
      await rogue.close();
    }

    // The real app comes back: it proves itself and the worker carries on.
    const back = await h.serve(dataDir, port);
    const again = await openPortal(context, h.emulator.portalUrl({ relayPort: back.port, sid: 'BACK' }));
    await waitForBinds(again);
    await emulatorApi(again, 'raiseCard', { callId: 'externalCall.after', phoneNumber: '+74951234567' });
    await expect.poll(() => appState(dataDir)).toBe('live');
  });

  it('a worker that has never paired still refuses to run anything but the card commands, and forwards no portal reply', async () => {
    const port = await freePort();
    const rogue = await startRogue(port);
    try {
      const context = await h.chromium.context();
      const page = await context.newPage();
      await page.goto(h.emulator.portalUrl({ relayPort: port, sid: 'FRESH' }));
      await expect.poll(() => rogue.received.filter((m) => (m as { type: string }).type === 'commandResult').length, { timeout: 15_000 }).toBe(3);
      const results = rogue.received.filter((m) => (m as { type: string }).type === 'commandResult') as Array<Record<string, unknown>>;
      // Before the fix: getInitData answered with the init data (AUTH_ID, REFRESH_ID) in `result`.
      expect(JSON.stringify(rogue.received)).not.toMatch(/auth-7|refresh-1|AUTH_ID|REFRESH_ID/);
      for (const result of results) expect(result).not.toHaveProperty('result');
      expect(results.find((r) => r.id === 'rogue-getInitData')).toMatchObject({ outcome: 'card_refused', detail: expect.stringMatching(/not a card command/) });
      expect(results.find((r) => r.id === 'rogue-refreshAuth')).toMatchObject({ outcome: 'card_refused' });
    } finally {
      await rogue.close();
    }
  });
});
