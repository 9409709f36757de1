// The only place that touches ipcMain: every channel of the IPC map is served through dispatchIpc (arguments
// validated, explicit results), and only for our own windows' main frames.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { IPC_CHANNELS, IPC_PREFIX, VIEW_CHANNELS, viewOf, type IpcChannel } from '../../common/ipc-channels.ts';
import type { IpcHandlers } from '../core/desktop/desktop-controller.ts';
import { dispatchIpc } from '../core/desktop/ipc-dispatch.ts';

const APP_SCHEME = 'app';
const APP_HOST = 'companion';

/** The URL of a page of the app's own windows, served by the `app:` protocol handler. */
export function appUrl(pathAndQuery: string): string {
  return `${APP_SCHEME}://${APP_HOST}${pathAndQuery}`;
}

/**
 * Whether a URL is one of the app's own pages. Compares scheme and host, not `origin`: the WHATWG URL parser
 * gives every non-special scheme such as `app:` the opaque origin "null", whatever its host.
 */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    // Chromium lower-cases the host of a scheme registered as standard; Node's parser keeps an opaque host as is.
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host.toLowerCase() === APP_HOST;
  } catch {
    return false;
  }
}

export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>): boolean {
  // senderFrame is null when the frame has navigated or been destroyed since it sent the message.
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false;
  return isAppUrl(frame.url);
}

/** Whether the page that sent it may make this call: each window only the calls it uses. */
export function senderMayCall(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, channel: IpcChannel): boolean {
  const url = event.senderFrame?.url;
  if (!url) return false;
  const view = viewOf(new URL(url).search);
  return view !== null && VIEW_CHANNELS[view].includes(channel);
}

export function registerIpc(ipcMain: Pick<IpcMain, 'handle'>, handlers: IpcHandlers): void {
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(`${IPC_PREFIX}${channel}`, (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) return { ok: false, error: 'calls are accepted from Operator Companion\'s own windows only' };
      if (!senderMayCall(event, channel)) return { ok: false, error: `this window may not call "${channel}"` };
      return dispatchIpc(handlers, channel, args);
    });
  }
}
