// The windows' one bridge to the main process: a function per IPC call this window may make (VIEW_CHANNELS in
// common/ipc-channels.ts) and a status subscription. Nothing else of Electron or Node reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_EXPORT_PROGRESS_EVENT, IPC_PREFIX, IPC_STATUS_EVENT, VIEW_CHANNELS, viewOf } from '../common/ipc-channels.ts';

// Only the calls this window uses (the main process checks the same list).
// A preload runs in the page's window (sandboxed, without the DOM typings here): its URL names the view.
const view = viewOf((globalThis as { location?: { search: string } }).location?.search ?? '');
const channels = view === null ? [] : VIEW_CHANNELS[view];
const bridge: Record<string, unknown> = Object.fromEntries(
  channels.map((channel) => [channel, (...args: unknown[]) => ipcRenderer.invoke(`${IPC_PREFIX}${channel}`, ...args)]),
);
/** Subscribes to a push channel from the main process; returns the unsubscribe function. */
const subscribe = (channel: string) => (listener: (payload: unknown) => void): (() => void) => {
  const handler = (_event: unknown, payload: unknown): void => listener(payload);
  ipcRenderer.on(channel, handler);
  return () => ipcRenderer.removeListener(channel, handler);
};
bridge.onStatus = subscribe(IPC_STATUS_EVENT);
bridge.onExportProgress = subscribe(IPC_EXPORT_PROGRESS_EVENT);

contextBridge.exposeInMainWorld('companion', bridge);
