// The one typed IPC map between the app windows and the main process: argument schemas (checked by the main
// process before any handler runs), result types, and the status view the windows render.
import { z } from 'zod';
import { POLICY_PLATFORMS, type PolicyFile } from './browser-policy.ts';
import { IPC_CHANNELS, WINDOW_VIEWS, type IpcChannel, type WindowView } from './ipc-channels.ts';
import type { OperatorState } from './protocol-constants.ts';
import type { Settings } from './settings.ts';

export const CARD_ACTIONS = ['mute', 'unmute', 'toggle', 'hold', 'unhold'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];

export type ProblemKind =
  | 'no_tab' | 'hotkey_failed' | 'wayland' | 'settings_invalid' | 'pairing_waiting' | 'store_recovered' | 'export_failed'
  | 'microphone_failed' | 'microphone_disagrees' | 'central_failed';

export interface ScheduledRunView {
  day: string;
  at: number;
  ok: boolean;
  path?: string;
  rows?: number;
  error?: string;
}
export interface Problem {
  kind: ProblemKind;
  detail: string;
}

export interface HotkeyStatus {
  action: 'toggleMute' | 'mute' | 'unmute' | 'hold';
  accelerator: string;
  registered: boolean;
  error?: string;
}

export interface StatusView {
  state: OperatorState;
  /** The tray shows `problem` over the operator state when something keeps the app from working. */
  problem: boolean;
  call: {
    callId: string;
    phoneNumber: string | null;
    direction: string | null;
    startedAt: number;
    muted: boolean;
    held: boolean;
    mutedSince: number | null;
    heldSince: number | null;
    pending: boolean;
  } | null;
  connectedTabs: number;
  /** Of those, tabs the browser has frozen (asleep; they resume by themselves). */
  asleepTabs: number;
  lastEventAt: number | null;
  port: number;
  hotkeys: HotkeyStatus[];
  hotkeysPaused: boolean;
  pendingPairings: number;
  problems: Problem[];
  /** The operator's real microphone; null when the app only mirrors the card. */
  microphone: {
    device: string | null;
    muted: boolean | null;
    controlledByApp: boolean;
    error: string | null;
    disagreesWithCard: boolean;
  } | null;
  /** The sync to the central PostgreSQL; null when none is set up. */
  central: CentralStatusView | null;
  now: number;
}

export interface CentralStatusView {
  /** Where it syncs to: user@host:port/database */
  target: string;
  /** When a batch (or an empty check) last succeeded. */
  lastSyncAt: number | null;
  /** Calls and events not yet in the central database. */
  rowsWaiting: number;
  /** The last failure (or why the sync cannot start), one line; null while it works. */
  lastError: string | null;
  /** Since when it has been failing without a success; null when fine. */
  failingSince: number | null;
  /** False when it stopped for good (a newer schema) or could not start (settings, keychain). */
  running: boolean;
}

export interface PairingRequestView {
  id: string;
  origin: string;
  domain: string;
  userId: string;
  userName: string | null;
  askedAt: number;
}

export interface PairedClientView {
  id: number;
  origin: string;
  domain: string;
  userId: string;
  userName: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export type BlockedClientView = Omit<PairedClientView, 'lastUsedAt' | 'revokedAt'>;

export const LOG_SORT_COLUMNS = ['startedAt', 'operator', 'phone', 'duration', 'muted', 'mutedPercent', 'held', 'gap'] as const;

export const logFilterSchema = z
  .object({
    from: z.number().int().optional(),
    to: z.number().int().optional(),
    operator: z.string().max(50).optional(),
    phone: z.string().max(50).optional(),
    portal: z.string().max(200).optional(),
    minMutedPercent: z.number().min(0).max(100).optional(),
  })
  .strict();
export type LogFilterInput = z.input<typeof logFilterSchema>;

/** Which log the session-log window reads: this PC's SQLite, or the whole team's central PostgreSQL (read-only URL). */
export const LOG_SOURCES = ['local', 'team'] as const;
export type LogSource = (typeof LOG_SOURCES)[number];
const logSource = z.enum(LOG_SOURCES).default('local');

export const LOG_EXPORT_FORMATS = ['csv', 'csv-semicolon', 'xlsx', 'jsonl'] as const;
export type LogExportFormat = (typeof LOG_EXPORT_FORMATS)[number];

export interface LogCallView {
  id: number;
  callId: string;
  portal: string;
  operatorId: string;
  operatorName: string | null;
  phoneNumber: string | null;
  direction: string | null;
  crmEntityType: string | null;
  crmEntityId: string | null;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  durationMs: number;
  mutedMs: number;
  muteCount: number;
  longestMuteMs: number;
  heldMs: number;
  holdCount: number;
  gapMs: number;
}

export interface ExportProgress {
  running: boolean;
  done: number;
  total: number;
  /** Set when it ended: where it went, or why not. */
  result?: { ok: true; path: string; rows: number } | { ok: false; error: string };
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** What each call takes (checked at the door) and gives. */
export const IPC_ARGS = {
  getStatus: z.tuple([]),
  command: z.tuple([z.enum(CARD_ACTIONS)]),
  getSettings: z.tuple([]),
  updateSettings: z.tuple([z.record(z.string(), z.unknown())]),
  listPairings: z.tuple([]),
  revokePairing: z.tuple([z.number().int().positive()]),
  unblockClient: z.tuple([z.number().int().positive()]),
  pendingPairings: z.tuple([]),
  decidePairing: z.tuple([z.string().min(1).max(64), z.boolean()]),
  previewPolicy: z.tuple([z.string().min(1).max(300), z.enum(POLICY_PLATFORMS)]),
  savePolicy: z.tuple([z.string().min(1).max(300), z.enum(POLICY_PLATFORMS)]),
  openWindow: z.tuple([z.enum(WINDOW_VIEWS)]),
  logCalls: z.tuple([
    logFilterSchema,
    z.object({ column: z.enum(LOG_SORT_COLUMNS), descending: z.boolean() }).strict(),
    z.object({ offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000) }).strict(),
    logSource,
  ]),
  logTimeline: z.tuple([z.number().int().positive(), logSource]),
  logTotals: z.tuple([logFilterSchema, z.string().min(1).max(64), logSource]),
  exportLog: z.tuple([z.enum(LOG_EXPORT_FORMATS), logFilterSchema, z.string().min(1).max(64), logSource]),
  cancelExport: z.tuple([]),
  listMicrophones: z.tuple([]),
  recordHotkeys: z.tuple([z.boolean()]),
  setCentralPassword: z.tuple([z.enum(['centralSync', 'centralRead']), z.string().max(1000)]),
} satisfies Record<IpcChannel, z.ZodType>;

export interface IpcResults {
  getStatus: StatusView;
  command: { ok: boolean; outcome: string; message: string };
  getSettings: { settings: Settings; problems: string[]; scheduledRuns: ScheduledRunView[]; centralPasswords: { centralSync: boolean; centralRead: boolean } };
  updateSettings: { settings: Settings; hotkeys: HotkeyStatus[] };
  listPairings: { paired: PairedClientView[]; blocked: BlockedClientView[] };
  revokePairing: boolean;
  unblockClient: boolean;
  pendingPairings: PairingRequestView[];
  decidePairing: boolean;
  previewPolicy: PolicyFile;
  savePolicy: { saved: boolean; path?: string };
  openWindow: WindowView;
  logCalls: { rows: LogCallView[]; total: number | null };
  logTimeline: { call: LogCallView; events: Array<{ at: number; name: string; source: string; payload: string | null }>; intervals: Array<{ kind: 'muted' | 'held' | 'gap' | 'mic_muted'; from: number; to: number }> } | null;
  logTotals: Array<{ day: string; operatorId: string; operatorName: string | null; calls: number; durationMs: number; mutedMs: number; heldMs: number; gapMs: number }>;
  exportLog: { started: boolean };
  cancelExport: boolean;
  /** The microphones the app can control; `error` says why there are none to choose from. */
  listMicrophones: { devices: Array<{ id: string; name: string; isDefault: boolean }>; error: string | null };
  /** While a hotkey field records, the global hotkeys are let go, so pressing one reaches the field. */
  recordHotkeys: boolean;
  /** Keeps a central login's password in the system keychain ('' forgets it); fails with the reason where there is none. */
  setCentralPassword: { stored: boolean };
}

export type IpcArgs<C extends IpcChannel> = z.input<(typeof IPC_ARGS)[C]>;

/** The bridge the preload exposes as `window.companion`: a function per call, plus status updates. */
export type CompanionBridge = {
  [C in IpcChannel]: (...args: IpcArgs<C>) => Promise<IpcResult<IpcResults[C]>>;
} & {
  onStatus(listener: (status: StatusView) => void): () => void;
  onExportProgress(listener: (progress: ExportProgress) => void): () => void;
};

export { IPC_CHANNELS };
