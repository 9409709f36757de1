// The desktop app's main process, kept thin: it starts the same core as `serve` and renders its state in the
// tray. Pairing approval is a native dialog. The full tray, hotkeys and windows come with the desktop-app work.
import { app, dialog, Menu, nativeImage, Tray, type NativeImage } from 'electron';
import type { OperatorState } from '../../common/protocol.ts';
import type { OperatorView } from '../core/calls/call-state.ts';
import { startInstance, type Instance } from '../core/instance.ts';
import { defaultDataDir } from '../core/paths.ts';
import type { PairingRequest } from '../core/pairing.ts';

const STATE_LABEL: Record<OperatorState, string> = {
  not_connected: 'Not connected to Bitrix24',
  waiting: 'Waiting for a call',
  live: 'On a call: microphone live',
  muted: 'On a call: MUTED',
  on_hold: 'On a call: on hold',
  pending: 'Waiting for the call card…',
};

const STATE_COLOR: Record<OperatorState, [number, number, number]> = {
  not_connected: [128, 128, 128],
  waiting: [80, 140, 220],
  live: [40, 170, 80],
  muted: [220, 50, 50],
  on_hold: [230, 160, 30],
  pending: [160, 120, 200],
};

function stateImage(state: OperatorState): NativeImage {
  const size = 16;
  const [r, g, b] = STATE_COLOR[state];
  const pixels = Buffer.alloc(size * size * 4);
  for (let i = 0; i < size * size; i += 1) pixels.set([b, g, r, 255], i * 4); // BGRA
  return nativeImage.createFromBitmap(pixels, { width: size, height: size });
}

async function askToPair(request: PairingRequest): Promise<boolean> {
  const { response } = await dialog.showMessageBox({
    type: 'question',
    buttons: ['Allow', 'Block'],
    defaultId: 0,
    cancelId: 1,
    title: 'Operator Companion',
    message: `Allow this Bitrix24 tab to connect?`,
    detail: `Portal: ${request.domain}\nUser: ${request.userName ?? request.userId}\nWorker page: ${request.origin}`,
  });
  return response === 0;
}

function renderTray(tray: Tray, instance: Instance, view: OperatorView): void {
  tray.setImage(stateImage(view.state));
  tray.setToolTip(`Operator Companion: ${STATE_LABEL[view.state]}${view.call?.phoneNumber ? ` (${view.call.phoneNumber})` : ''}`);
  const act = (action: 'toggle' | 'hold' | 'unhold') => () => void instance.companion.command(action, 'tray');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: STATE_LABEL[view.state], enabled: false },
      { type: 'separator' },
      { label: view.call?.muted ? 'Unmute' : 'Mute', enabled: view.call !== null, click: act('toggle') },
      { label: view.call?.held ? 'Resume' : 'Hold', enabled: view.call !== null, click: act(view.call?.held ? 'unhold' : 'hold') },
      { type: 'separator' },
      { label: 'Quit', role: 'quit' },
    ]),
  );
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  const dataDir = defaultDataDir();
  app.setPath('userData', dataDir);
  await app.whenReady();
  const instance = await startInstance({
    dataDir,
    allowedOrigins: (process.env.OPERATOR_COMPANION_ORIGINS ?? '').split(',').filter(Boolean),
    approvePairing: askToPair,
  });
  const tray = new Tray(stateImage('not_connected'));
  const render = (view: OperatorView): void => renderTray(tray, instance, view);
  render(instance.companion.state.view());
  instance.companion.state.onChange(render);
  app.on('window-all-closed', () => {
    // A tray app keeps running without windows.
  });
  let stopping = false;
  app.on('before-quit', (event) => {
    if (stopping) return;
    stopping = true;
    event.preventDefault();
    void instance.stop().finally(() => {
      tray.destroy();
      app.quit();
    });
  });
}

start().catch((error: unknown) => {
  dialog.showErrorBox('Operator Companion could not start', error instanceof Error ? error.message : String(error));
  app.exit(1);
});
