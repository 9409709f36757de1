// The columns of each export, in order; docs/export.md describes the same list for people.
// A cell is a string, a number or empty (null); formatting for a file type is the writer's business.
import { formatInstant } from './time-zone.ts';

export type Cell = string | number | null;

export interface Column<Row> {
  name: string;
  value(row: Row, timeZone: string): Cell;
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
const time = (ms: number | null, timeZone: string): Cell => (ms === null ? null : formatInstant(ms, timeZone));

export const CALL_COLUMNS: ReadonlyArray<Column<CallExportRow>> = [
  { name: 'call_id', value: (r) => r.callId },
  { name: 'portal', value: (r) => r.domain },
  { name: 'operator_id', value: (r) => r.operatorUserId },
  { name: 'operator_name', value: (r) => r.operatorName },
  { name: 'phone_number', value: (r) => r.phoneNumber },
  { name: 'direction', value: (r) => r.direction },
  { name: 'line_number', value: (r) => r.lineNumber },
  { name: 'crm_entity_type', value: (r) => r.crmEntityType },
  { name: 'crm_entity_id', value: (r) => r.crmEntityId },
  { name: 'started_at', value: (r, tz) => time(r.startedAt, tz) },
  { name: 'ended_at', value: (r, tz) => time(r.endedAt, tz) },
  { name: 'end_reason', value: (r) => r.endReason },
  { name: 'duration_s', value: (r) => seconds(r.durationMs) },
  { name: 'muted_s', value: (r) => seconds(r.mutedMs) },
  { name: 'muted_percent', value: (r) => (r.durationMs > 0 ? Math.round((r.mutedMs / r.durationMs) * 1000) / 10 : 0) },
  { name: 'mute_count', value: (r) => r.muteCount },
  { name: 'longest_mute_s', value: (r) => seconds(r.longestMuteMs) },
  { name: 'held_s', value: (r) => seconds(r.heldMs) },
  { name: 'hold_count', value: (r) => r.holdCount },
  { name: 'gap_s', value: (r) => seconds(r.gapMs) },
];

export const EVENT_COLUMNS: ReadonlyArray<Column<EventExportRow>> = [
  { name: 'event_id', value: (r) => r.eventId },
  { name: 'at', value: (r, tz) => time(r.at, tz) },
  { name: 'call_id', value: (r) => r.callId },
  { name: 'portal', value: (r) => r.domain },
  { name: 'operator_id', value: (r) => r.operatorUserId },
  { name: 'operator_name', value: (r) => r.operatorName },
  { name: 'tab', value: (r) => r.appSid },
  { name: 'seq', value: (r) => r.seq },
  { name: 'event', value: (r) => r.name },
  { name: 'source', value: (r) => r.source },
  { name: 'payload', value: (r) => r.payload },
  { name: 'browser_time', value: (r, tz) => time(r.clientAt, tz) },
  { name: 'received_at', value: (r, tz) => time(r.receivedAt, tz) },
];
