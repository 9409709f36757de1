// The export's fast paths write exactly what the reference does: the compiled CSV row writer against `csvCell` on
// every cell (tricky text, odd zones, times at minute edges), and a whole events and calls export of a seeded store
// against the rows of the former joined queries formatted by the reference. XLSX cells read back in their columns
// around empty ones, and text keeps its edge spaces (xml:space only where needed).
import path from 'node:path';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { CALL_COLUMNS, EVENT_COLUMNS, type CallExportRow, type EventExportRow } from '../../main/core/export/columns.ts';
import { openForExport, queryParams, referenceCsvRow, serializer, streamExport, type ExportOptions } from '../../main/core/export/export-log.ts';
import { DATABASE_FILE, openDatabase } from '../../main/core/store/database.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();

const TEXTS = [
  'plain', '', ' plain', '=SUM(A1:A9)', '+74951234567', '+7 495', '-1', '@cmd', '\tx', '\n=1+2', '\u00a0@SUM(1)', 'a,b', 'a;b',
  'say "hi"', 'two\nlines', 'cr\rhere', 'Оператор 7', 'Ёлка, "ёж"', 'ѐ=1', '\u200b=1', '\ufeff+1', '日本語', '😀 emoji', '"quoted"',
  '0123', '{"muted":true}', 'x'.repeat(300), 'tail space ', '\u0085=1',
];
const ZONES = ['UTC', 'Europe/Moscow', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Africa/Monrovia', 'Europe/Amsterdam'];
const TIMES: Array<number | null> = [
  null, 0, -1, 59_999, 60_000, 61_001, Date.UTC(2025, 11, 1, 6, 0, 59, 999), Date.UTC(2025, 2, 30, 0, 59, 59), Date.UTC(2025, 2, 30, 1, 0, 0),
  Date.UTC(2025, 9, 26, 0, 59, 59, 500), Date.UTC(1971, 0, 1, 12, 0, 30), Date.UTC(1900, 0, 1), Date.UTC(1, 0, 1), Date.UTC(9999, 11, 31), 8.64e15, Number.NaN,
  -62_135_596_800_000 + 3 * 86_400_000, Date.UTC(1937, 5, 1, 3, 4, 5),
];

function eventRows(): EventExportRow[] {
  return TEXTS.flatMap((text, i) =>
    TIMES.map((at, j) => ({
      eventId: text, at: at as number, clientAt: TIMES[(j + 3) % TIMES.length] ?? null, receivedAt: (at ?? 0) + 5, callId: i % 3 === 0 ? null : text,
      domain: text, operatorUserId: String(i), operatorName: i % 4 === 0 ? null : text, appSid: text, seq: j % 5 === 0 ? null : j, name: text, source: 'card', payload: i % 2 ? text : null,
    })),
  );
}

function callRows(): CallExportRow[] {
  return TEXTS.map((text, i) => ({
    id: i, callId: text, domain: text, operatorUserId: String(i), operatorName: text, phoneNumber: i % 2 ? '+74951234567' : text, direction: 'incoming',
    lineNumber: null, crmEntityType: text, crmEntityId: null, startedAt: TIMES[i % TIMES.length] as number, endedAt: TIMES[(i + 1) % TIMES.length] ?? null,
    endReason: i % 3 ? null : 'hangup', durationMs: i * 1234, mutedMs: i * 321, muteCount: i, longestMuteMs: 17, heldMs: 0, holdCount: 0, gapMs: i === 5 ? -5 : 0,
    micMutedMs: i % 2 ? null : 1049,
  }));
}

describe('the compiled CSV row writer', () => {
  it('writes every row exactly as the reference does, in every zone and with either delimiter', () => {
    for (const timeZone of ZONES) {
      for (const csvDelimiter of [',', ';'] as const) {
        const options = { format: 'csv' as const, timeZone, csvDelimiter };
        const events = serializer(EVENT_COLUMNS, options);
        const reference = referenceCsvRow(EVENT_COLUMNS, csvDelimiter, timeZone);
        for (const row of eventRows()) expect(events.row(row)).toBe(reference(row));
        const calls = serializer(CALL_COLUMNS, options);
        const callReference = referenceCsvRow(CALL_COLUMNS, csvDelimiter, timeZone);
        for (const row of callRows()) expect(calls.row(row)).toBe(callReference(row));
      }
    }
  });

  it('formats each second of a time-ordered run as the reference does (the per-minute cache)', () => {
    for (const timeZone of ['Europe/Moscow', 'America/New_York']) {
      const row = serializer(EVENT_COLUMNS, { format: 'csv', timeZone, csvDelimiter: ',' }).row;
      const reference = referenceCsvRow(EVENT_COLUMNS, ',', timeZone);
      // Across New York's spring-forward hour, second by second, with millisecond offsets.
      for (let at = Date.UTC(2025, 2, 9, 6, 58, 0); at < Date.UTC(2025, 2, 9, 7, 3, 0); at += 997) {
        const event = eventRows()[0]!;
        const r = { ...event, at, clientAt: at + 1, receivedAt: at + 999 };
        expect(row(r)).toBe(reference(r));
      }
    }
  });
});

/** The events query and shape before the frame map (issue 14): frames, operators and portals joined per row. */
const JOINED_EVENTS = `
  SELECT e.event_id AS eventId, e.at, e.client_at AS clientAt, e.received_at AS receivedAt, c.call_id AS callId,
         p.domain, o.user_id AS operatorUserId, o.name AS operatorName, f.app_sid AS appSid, e.seq, e.name, e.source, e.payload
  FROM events e JOIN frames f ON f.id = e.frame_id JOIN operators o ON o.id = f.operator_id JOIN portals p ON p.id = f.portal_id
  LEFT JOIN calls c ON c.id = e.call_id
  WHERE e.at >= @from AND e.at < @to AND (@operator IS NULL OR o.user_id = @operator) ORDER BY e.at, e.id`;
const JOINED_CALLS = `
  SELECT c.id, c.call_id AS callId, p.domain, o.user_id AS operatorUserId, o.name AS operatorName, c.phone_number AS phoneNumber, c.direction,
         c.line_number AS lineNumber, c.crm_entity_type AS crmEntityType, c.crm_entity_id AS crmEntityId, c.started_at AS startedAt, c.ended_at AS endedAt,
         c.end_reason AS endReason, c.duration_ms AS durationMs, c.muted_ms AS mutedMs, c.mute_count AS muteCount, c.longest_mute_ms AS longestMuteMs,
         c.held_ms AS heldMs, c.hold_count AS holdCount, c.gap_ms AS gapMs, c.mic_muted_ms AS micMutedMs
  FROM calls c JOIN operators o ON o.id = c.operator_id JOIN portals p ON p.id = c.portal_id
  WHERE c.started_at >= @from AND c.started_at < @to AND (@operator IS NULL OR o.user_id = @operator) ORDER BY c.started_at, c.id`;

async function exported(dataDir: string, options: ExportOptions): Promise<string> {
  const db = openForExport(dataDir);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  try {
    await streamExport(db, options, out);
  } finally {
    db.close();
  }
  return Buffer.concat(chunks).toString('utf8');
}

function referenceFile(dataDir: string, kind: 'calls' | 'events', options: ExportOptions): string {
  const db = openForExport(dataDir);
  try {
    const columns = (kind === 'calls' ? CALL_COLUMNS : EVENT_COLUMNS) as typeof EVENT_COLUMNS;
    const d = options.csvDelimiter ?? ',';
    const row = referenceCsvRow(columns, d, options.timeZone);
    const rows = db.prepare(kind === 'calls' ? JOINED_CALLS : JOINED_EVENTS).all({ ...queryParams(options), operator: options.operator ?? null }) as EventExportRow[];
    return `\uFEFF${columns.map((c) => c.name).join(d)}\r\n${rows.map(row).join('')}`;
  } finally {
    db.close();
  }
}

describe('a whole export', () => {
  it('is byte for byte the reference text of the former joined queries (a seeded store with awkward values)', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 400, events: 4_000, operators: 5 });
    // Awkward operators, tabs and payloads, a second portal, an event with no call, a call still going on.
    const db = openDatabase(path.join(dataDir, DATABASE_FILE));
    db.prepare("INSERT INTO portals (member_id, domain, first_seen_at) VALUES ('p2', '=evil.bitrix24.com', 0)").run();
    db.prepare("INSERT INTO operators (portal_id, user_id, name) VALUES (2, '+123', 'Иван \"Ваня\", старший')").run();
    const op = (db.prepare('SELECT max(id) FROM operators').pluck().get() as number);
    db.prepare("INSERT INTO frames (portal_id, operator_id, app_sid, origin, first_seen_at) VALUES (2, ?, ' tab;1', 'https://w.test', 0)").run(op);
    const frame = (db.prepare('SELECT max(id) FROM frames').pluck().get() as number);
    db.prepare(`INSERT INTO calls (portal_id, operator_id, owner_frame_id, call_id, phone_number, started_at, duration_ms, muted_ms)
      VALUES (2, ?, ?, '-call', '+74950000000', ?, 5000, 2500)`).run(op, frame, Date.UTC(2025, 11, 1, 6, 30, 0));
    const call = (db.prepare('SELECT max(id) FROM calls').pluck().get() as number);
    const insert = db.prepare(`INSERT INTO events (event_id, frame_id, call_id, seq, name, source, payload, client_at, at, received_at)
      VALUES (?, ?, ?, ?, ?, 'card', ?, ?, ?, ?)`);
    TEXTS.forEach((text, i) => {
      const at = Date.UTC(2025, 11, 1, 6, 30, i, i * 37);
      insert.run(`odd-${i}`, frame, i % 2 ? call : null, i % 3 ? i : null, text || 'x', i % 4 ? text : null, i % 5 ? at - 1 : null, at, at + 999);
    });
    db.close();

    for (const timeZone of ['Europe/Moscow', 'America/New_York', 'UTC']) {
      for (const csvDelimiter of [',', ';'] as const) {
        for (const kind of ['events', 'calls'] as const) {
          const options: ExportOptions = { kind, format: 'csv', timeZone, csvDelimiter };
          expect(await exported(dataDir, options)).toBe(referenceFile(dataDir, kind, options));
        }
      }
    }
    // With filters: an operator (the frame tables joined for the condition only) and a time range.
    const filtered: ExportOptions = { kind: 'events', format: 'csv', timeZone: 'Europe/Moscow', operator: '+123', from: Date.UTC(2025, 11, 1, 6, 30, 5), to: Date.UTC(2025, 11, 1, 6, 30, 20) };
    const text = await exported(dataDir, filtered);
    expect(text.split('\r\n').length).toBe(17);
    expect(text).toBe(referenceFile(dataDir, 'events', filtered));
  });
});

describe('XLSX cells', () => {
  it('read back in their columns when cells before them are empty', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 3, events: 9, operators: 1 });
    const db = openDatabase(path.join(dataDir, DATABASE_FILE));
    // A call still going on: no ended_at or end_reason, no microphone figure, no direction.
    db.prepare("UPDATE calls SET ended_at = NULL, end_reason = NULL, direction = NULL, phone_number = ' +7 495', duration_ms = 4000 WHERE id = 2").run();
    db.close();
    const file = path.join(dataDir, 'log.xlsx');
    const { exportToFile } = await import('../../main/core/export/export-log.ts');
    const reader = openForExport(dataDir);
    await exportToFile(reader, { kind: 'calls', format: 'xlsx', timeZone: 'UTC' }, file);
    reader.close();
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file);
    const sheet = workbook.getWorksheet('Calls')!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const cell = (row: number, name: string): unknown => sheet.getRow(row).getCell(header.indexOf(name) + 1).value;
    expect(cell(3, 'direction')).toBeNull();
    expect(cell(3, 'ended_at')).toBeNull();
    expect(cell(3, 'phone_number')).toBe(' +7 495');
    expect(cell(3, 'duration_s')).toBe(4);
    expect(cell(3, 'mic_muted_s')).toBeNull();
    expect(cell(3, 'call_id')).toBe('externalCall.seed.2');
    expect(cell(3, 'gap_s')).toBe(0);
    expect(cell(2, 'end_reason')).toBe('hangup');
    expect(header.length).toBe(CALL_COLUMNS.length);
    expect((sheet.getRow(3).values as unknown[]).length).toBeLessThanOrEqual(CALL_COLUMNS.length + 1);
  });
});
