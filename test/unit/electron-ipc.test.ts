// The IPC gate with the event shapes Electron 45 passes to `ipcMain.handle` listeners: `senderFrame` is a
// WebFrameMain whose `url` is the frame's current URL string (here the `app://companion/…` page the window
// manager loads), or null when the frame navigated away or was destroyed (electron.d.ts, IpcMainInvokeEvent).
import type { IpcMainInvokeEvent } from 'electron';
import { describe, expect, it } from 'vitest';
import { appUrl, isAppUrl, isTrustedSender, registerIpc } from '../../main/electron/ipc.ts';
import type { IpcHandlers } from '../../main/core/desktop/desktop-controller.ts';
import { IPC_CHANNELS, IPC_PREFIX, VIEW_CHANNELS } from '../../common/ipc-channels.ts';

interface FrameShape {
  url: string;
}

function invokeEvent(frameUrl: string | null, options: { subframe?: boolean } = {}): Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'> {
  const mainFrame: FrameShape = { url: frameUrl ?? 'about:blank' };
  const senderFrame: FrameShape | null = frameUrl === null ? null : options.subframe ? { url: frameUrl } : mainFrame;
  return { senderFrame, sender: { mainFrame } } as unknown as Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>;
}

describe('the app:// scheme', () => {
  it('is a non-special scheme: WHATWG URL gives it the opaque origin "null", so the gate cannot compare origins', () => {
    // The reason the check compares scheme and host: Node and Chromium agree on this.
    expect(new URL('app://companion/index.html').origin).toBe('null');
  });

  it('recognises the URLs the window manager loads, and nothing else', () => {
    expect(isAppUrl(appUrl('/index.html?view=status'))).toBe(true);
    expect(isAppUrl('app://companion/index.html?view=log#x')).toBe(true);
    expect(isAppUrl('app://COMPANION/index.html')).toBe(true); // Chromium canonicalises a standard scheme's host to lower case
    expect(isAppUrl('app://evil/index.html')).toBe(false);
    expect(isAppUrl('app://companion.evil/index.html')).toBe(false);
    expect(isAppUrl('https://companion/index.html')).toBe(false);
    expect(isAppUrl('file:///opt/app/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('isTrustedSender', () => {
  it('accepts the main frame of an app window', () => {
    for (const view of ['status', 'pairing', 'settings', 'assistant', 'log']) {
      expect(isTrustedSender(invokeEvent(`app://companion/index.html?view=${view}`))).toBe(true);
    }
  });

  it('refuses a destroyed or navigated frame (senderFrame null), a subframe, and other pages', () => {
    expect(isTrustedSender(invokeEvent(null))).toBe(false);
    expect(isTrustedSender(invokeEvent(appUrl('/index.html'), { subframe: true }))).toBe(false);
    expect(isTrustedSender(invokeEvent('https://acme.bitrix24.com/'))).toBe(false);
    expect(isTrustedSender(invokeEvent('app://other/index.html'))).toBe(false);
  });
});

describe('registerIpc', () => {
  function registered(): Map<string, (event: unknown, ...args: unknown[]) => unknown> {
    const channels = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
    const handlers = Object.fromEntries(IPC_CHANNELS.map((c) => [c, async (...args: unknown[]) => ({ channel: c, args })])) as unknown as IpcHandlers;
    registerIpc({ handle: (channel, listener) => void channels.set(channel, listener as never) }, handlers);
    return channels;
  }

  it('serves every channel of the map under the prefix', () => {
    expect([...registered().keys()].sort()).toEqual(IPC_CHANNELS.map((c) => `${IPC_PREFIX}${c}`).sort());
  });

  it('answers an app window, and refuses anyone else with a message', async () => {
    const getStatus = registered().get(`${IPC_PREFIX}getStatus`)!;
    expect(await getStatus(invokeEvent('app://companion/index.html?view=status'))).toEqual({ ok: true, value: { channel: 'getStatus', args: [] } });
    expect(await getStatus(invokeEvent('https://acme.bitrix24.com/'))).toEqual({ ok: false, error: "calls are accepted from Operator Companion's own windows only" });
  });

  it('gives each window only the calls it uses', async () => {
    const channels = registered();
    const updateSettings = channels.get(`${IPC_PREFIX}updateSettings`)!;
    const exportLog = channels.get(`${IPC_PREFIX}exportLog`)!;
    expect(await updateSettings(invokeEvent('app://companion/index.html?view=log'), {})).toEqual({ ok: false, error: 'this window may not call "updateSettings"' });
    expect(await exportLog(invokeEvent('app://companion/index.html?view=pairing'), 'csv', {}, 'UTC')).toEqual({ ok: false, error: 'this window may not call "exportLog"' });
    expect(await updateSettings(invokeEvent('app://companion/index.html?view=settings'), {})).toMatchObject({ ok: true });
    // A page of ours that names no view gets nothing.
    expect(await channels.get(`${IPC_PREFIX}getStatus`)!(invokeEvent('app://companion/index.html'))).toMatchObject({ ok: false });
  });

  it('lists, for every view, only channels that exist, and every channel is used by some view', () => {
    for (const list of Object.values(VIEW_CHANNELS)) for (const channel of list) expect(IPC_CHANNELS).toContain(channel);
    const used = new Set(Object.values(VIEW_CHANNELS).flat());
    expect(IPC_CHANNELS.filter((c) => !used.has(c))).toEqual([]);
  });
});
