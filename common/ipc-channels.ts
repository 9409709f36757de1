// Names of the calls the app windows may make to the main process, one per action. Kept free of schemas so
// the preload (one small CommonJS file) can build its bridge from the same list the main process serves.
export const IPC_CHANNELS = [
  'getStatus',
  'command',
  'getSettings',
  'updateSettings',
  'listPairings',
  'revokePairing',
  'unblockClient',
  'pendingPairings',
  'decidePairing',
  'previewPolicy',
  'savePolicy',
  'openWindow',
  'logCalls',
  'logTimeline',
  'logTotals',
  'exportLog',
  'cancelExport',
  'listMicrophones',
  'recordHotkeys',
  'setCentralPassword',
] as const;
export type IpcChannel = (typeof IPC_CHANNELS)[number];

/** Main → windows: pushed when the status (or the pending pairing requests) change. */
export const IPC_STATUS_EVENT = 'companion:status';
/** Main → windows: progress of a running export. */
export const IPC_EXPORT_PROGRESS_EVENT = 'companion:exportProgress';
export const IPC_PREFIX = 'companion:';

export const WINDOW_VIEWS = ['status', 'pairing', 'settings', 'assistant', 'log'] as const;
/** The on-screen "muted" badge: a page of its own, shown by the main process only (not a window one opens). */
export const INDICATOR_VIEW = 'indicator';
export type WindowView = (typeof WINDOW_VIEWS)[number];

/** Every page the main process loads: the windows and the badge. */
export type AppView = WindowView | typeof INDICATOR_VIEW;

const EVERY_VIEW: readonly IpcChannel[] = ['getStatus', 'getSettings'];

/**
 * The calls each page may make: only what it uses, so the session log cannot change settings and the pairing
 * window cannot export. The preload exposes these and the main process refuses the rest.
 */
export const VIEW_CHANNELS: Readonly<Record<AppView, readonly IpcChannel[]>> = {
  status: [...EVERY_VIEW, 'command', 'openWindow'],
  pairing: [...EVERY_VIEW, 'pendingPairings', 'decidePairing'],
  settings: [...EVERY_VIEW, 'updateSettings', 'listPairings', 'revokePairing', 'unblockClient', 'listMicrophones', 'recordHotkeys', 'setCentralPassword'],
  assistant: [...EVERY_VIEW, 'previewPolicy', 'savePolicy'],
  log: [...EVERY_VIEW, 'logCalls', 'logTimeline', 'logTotals', 'exportLog', 'cancelExport'],
  indicator: EVERY_VIEW,
};

/** The page a URL's `?view=` names, or null when it names none of ours. */
export function viewOf(search: string): AppView | null {
  const view = new URLSearchParams(search).get('view');
  return view !== null && Object.hasOwn(VIEW_CHANNELS, view) ? (view as AppView) : null;
}
