// What each IPC call of the app windows does: a table over the desktop controller and its services. Arguments
// arrive here already validated (ipc-dispatch.ts) and from a window allowed to make the call (main/electron/ipc.ts).
import { browserPolicy } from '../../../common/browser-policy.ts';
import type { DesktopController, IpcHandlers } from './desktop-controller.ts';

export function createIpcHandlers(desktop: DesktopController): IpcHandlers {
  const log = desktop.sessionLog;
  return {
    getStatus: async () => desktop.status(),
    command: async (action) => {
      const response = await desktop.command(action, 'window');
      return { ok: response.ok, outcome: response.outcome, message: response.message };
    },
    getSettings: async () => desktop.settingsView(),
    updateSettings: async (change) => desktop.applySettings(change),
    recordHotkeys: async (recording) => desktop.recordHotkeys(recording),
    setCentralPassword: (name, password) => desktop.setCentralPassword(name, password),
    listMicrophones: () => desktop.microphones(),
    listPairings: async () => ({ paired: desktop.companion.pairing.list(), blocked: desktop.companion.pairing.blocked() }),
    revokePairing: async (id) => desktop.companion.revokePairing(id),
    unblockClient: async (id) => desktop.companion.pairing.unblock(id),
    pendingPairings: async () => desktop.prompts.list(),
    decidePairing: async (id, allow) => desktop.prompts.decide(id, allow),
    previewPolicy: async (portal, platform) => browserPolicy(portal, platform),
    savePolicy: async (portal, platform) => {
      const file = browserPolicy(portal, platform);
      // .reg files are UTF-16 with a byte-order mark, as regedit expects.
      const data = file.encoding === 'utf16le' ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(file.content, 'utf16le')]) : Buffer.from(file.content, 'utf8');
      const path = await desktop.platformSaveFile(file.fileName, data);
      return path === null ? { saved: false } : { saved: true, path };
    },
    openWindow: async (view) => {
      desktop.openWindow(view);
      return view;
    },
    logCalls: (filter, sort, page, source) => log.calls(filter, sort, page, source),
    logTimeline: (id, source) => log.timeline(id, source),
    logTotals: (filter, timeZone, source) => log.totals(filter, timeZone, source),
    exportLog: (format, filter, timeZone, source) => log.startExport(format, filter, timeZone, source),
    cancelExport: async () => log.cancelExport(),
  };
}
