// The windows' one bridge to the main process: a function per IPC call (the list in common/ipc-channels.ts)
// and a status subscription. Nothing else of Electron or Node reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, IPC_PREFIX, IPC_STATUS_EVENT } from '../common/ipc-channels.ts';

const bridge: Record<string, unknown> = Object.fromEntries(
  IPC_CHANNELS.map((channel) => [channel, (...args: unknown[]) => ipcRenderer.invoke(`${IPC_PREFIX}${channel}`, ...args)]),
);
bridge.onStatus = (listener: (status: unknown) => void): (() => void) => {
  const handler = (_event: unknown, status: unknown): void => listener(status);
  ipcRenderer.on(IPC_STATUS_EVENT, handler);
  return () => ipcRenderer.removeListener(IPC_STATUS_EVENT, handler);
};

contextBridge.exposeInMainWorld('companion', bridge);
