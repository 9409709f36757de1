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
