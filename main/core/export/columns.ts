// The columns of each export, in order; docs/export.md describes the same list for people.
// Each column says what kind of value it holds, so every file type can write it properly: CSV and JSON Lines
// as text in the chosen time zone, XLSX as typed cells (numbers, and times as dates).

export type Cell = string | number | null;

export type ColumnKind = 'text' | 'number' | 'time';

export interface Column<Row> {
  name: string;
  kind: ColumnKind;
  /** Text or number as is; a time as ms since the epoch (UTC). */
  value(row: Row): Cell;
}

export interface CallExportRow {
  id: number;
  callId: string;
  domain: string;
  operatorUserId: string;
  operatorName: string | null;
  phoneNumber: string | null;
  direction: string | null;
  lineNumber: string | null;
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
  /** Null where the app controlled no microphone (mirror only). */
  micMutedMs: number | null;
}

export interface EventExportRow {
  eventId: string;
  at: number;
  clientAt: number | null;
  receivedAt: number;
  callId: string | null;
  domain: string;
  operatorUserId: string;
  operatorName: string | null;
  appSid: string;
  seq: number | null;
  name: string;
  source: string;
  payload: string | null;
}

/** Milliseconds as seconds with one decimal: what a report wants, without false precision. */
const seconds = (ms: number): number => Math.round(ms / 100) / 10;
const text = <Row>(name: string, value: (r: Row) => Cell): Column<Row> => ({ name, kind: 'text', value });
const number = <Row>(name: string, value: (r: Row) => Cell): Column<Row> => ({ name, kind: 'number', value });
const time = <Row>(name: string, value: (r: Row) => number | null): Column<Row> => ({ name, kind: 'time', value });

export const CALL_COLUMNS: ReadonlyArray<Column<CallExportRow>> = [
  text('call_id', (r) => r.callId),
  text('portal', (r) => r.domain),
  text('operator_id', (r) => r.operatorUserId),
  text('operator_name', (r) => r.operatorName),
  text('phone_number', (r) => r.phoneNumber),
  text('direction', (r) => r.direction),
  text('line_number', (r) => r.lineNumber),
  text('crm_entity_type', (r) => r.crmEntityType),
  text('crm_entity_id', (r) => r.crmEntityId),
  time('started_at', (r) => r.startedAt),
  time('ended_at', (r) => r.endedAt),
  text('end_reason', (r) => r.endReason),
  number('duration_s', (r) => seconds(r.durationMs)),
  number('muted_s', (r) => seconds(r.mutedMs)),
  number('muted_percent', (r) => (r.durationMs > 0 ? Math.round((r.mutedMs / r.durationMs) * 1000) / 10 : 0)),
  number('mic_muted_s', (r) => (r.micMutedMs === null ? null : seconds(r.micMutedMs))),
  number('mute_count', (r) => r.muteCount),
  number('longest_mute_s', (r) => seconds(r.longestMuteMs)),
  number('held_s', (r) => seconds(r.heldMs)),
  number('hold_count', (r) => r.holdCount),
  number('gap_s', (r) => seconds(r.gapMs)),
];

export const EVENT_COLUMNS: ReadonlyArray<Column<EventExportRow>> = [
  text('event_id', (r) => r.eventId),
  time('at', (r) => r.at),
  text('call_id', (r) => r.callId),
  text('portal', (r) => r.domain),
  text('operator_id', (r) => r.operatorUserId),
  text('operator_name', (r) => r.operatorName),
  text('tab', (r) => r.appSid),
  number('seq', (r) => r.seq),
  text('event', (r) => r.name),
  text('source', (r) => r.source),
  text('payload', (r) => r.payload),
  time('browser_time', (r) => r.clientAt),
  time('received_at', (r) => r.receivedAt),
];
