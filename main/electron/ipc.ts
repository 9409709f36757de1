// The only place that touches ipcMain: every channel of the IPC map is served through dispatchIpc (arguments
// validated, explicit results), and only for our own windows' main frames.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS, IPC_PREFIX } from '../../common/ipc-channels.ts';
import type { IpcHandlers } from '../core/desktop/desktop-controller.ts';
import { dispatchIpc } from '../core/desktop/ipc-dispatch.ts';

export const APP_ORIGIN = 'app://companion';

export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false;
  try {
    return new URL(frame.url).origin === APP_ORIGIN;
  } catch {
    return false;
  }
}

export function registerIpc(ipcMain: Pick<IpcMain, 'handle'>, handlers: IpcHandlers): void {
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(`${IPC_PREFIX}${channel}`, (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) return { ok: false, error: 'calls are accepted from Operator Companion\'s own windows only' };
      return dispatchIpc(handlers, channel, args);
    });
  }
}
