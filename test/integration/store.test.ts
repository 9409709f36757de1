import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { NormalizedEvent } from '../../common/card-events.ts';
import { normalizeEventPayload } from '../../common/card-events.ts';
import { openDatabase, NewerSchemaError } from '../../main/core/store/database.ts';
import { MIGRATIONS } from '../../main/core/store/migrations.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { summarizeCall } from '../../main/core/calls/timeline.ts';
import { callsQuery, eventsQuery, queryParams } from '../../main/core/export/export-log.ts';
import { MUTED_SHARE } from '../../main/core/log/log-filter.ts';
import { LOG_SORT_COLUMNS, pageIdsSql } from '../../main/core/log/session-log.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const stores: SessionStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function openStore(dir = tempDir()): SessionStore {
  const store = SessionStore.openInDir(dir);
  stores.push(store);
  return store;
}

function normalized(name: string, payload: unknown): NormalizedEvent {
  const result = normalizeEventPayload(name, payload);
  if (!result.ok) throw new Error(result.error);
  return result.event;
}

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

function setup(store: SessionStore, appSid = 'sid-1') {
  const ids = store.resolveOperator({ memberId: 'm1', domain: 'acme.bitrix24.com', userId: '7', userName: 'Olga' }, T0);
  return store.resolveFrame(ids, { appSid, origin: 'https://w.test', uri: '/' }, T0)!.frame;
}

let seq = 0;
function ingest(store: SessionStore, frameId: number, name: string, payload: unknown, seconds: number, eventId = `e${++seq}`) {
  return store.ingest(frameId, { eventId, seq, clientAt: T0 + seconds * 1000, at: T0 + seconds * 1000, receivedAt: T0, event: normalized(name, payload) });
}

describe('database', () => {
  it('applies the migrations, sets WAL and FULL sync, and records the version', () => {
    const store = openStore();
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('refuses a database from a newer version and leaves it untouched', () => {
    const dir = tempDir();
    const file = path.join(dir, 'sessions.sqlite');
    const db = openDatabase(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(NewerSchemaError);
    expect(() => openDatabase(file)).toThrow(new RegExp(`newer Operator Companion.*schema version ${MIGRATIONS.length + 1}`));
    const again = openDatabase(file, { migrations: [...MIGRATIONS, 'SELECT 1'] });
    expect(again.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    again.close();
  });

  it('brings a version-1 database with data up to date, keeping the data', () => {
    const dir = tempDir();
    const file = path.join(dir, 'sessions.sqlite');
    const v1 = openDatabase(file, { migrations: MIGRATIONS.slice(0, 1) });
    v1.prepare("INSERT INTO portals (member_id, domain, first_seen_at) VALUES ('m1', 'acme.bitrix24.com', 1)").run();
    v1.close();
    const store = openStore(dir);
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.prepare('SELECT member_id, domain FROM portals').all()).toEqual([{ member_id: 'm1', domain: 'acme.bitrix24.com' }]);
    expect(store.listBlocks()).toEqual([]);
  });

  it('migrates step by step in one transaction: a failing migration leaves the old version', () => {
    const dir = tempDir();
    const file = path.join(dir, 'sessions.sqlite');
    openDatabase(file).close();
    expect(() => openDatabase(file, { migrations: [...MIGRATIONS, 'CREATE TABLE extra (x)', 'NOT SQL'] })).toThrow();
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'").get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('session store', () => {
  it('stores each event once and keeps call figures in step', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+4930', CALL_DIRECTION: 'incoming' }, 0);
    ingest(store, frame.id, 'muteButtonClick', true, 10, 'mute-1');
    expect(ingest(store, frame.id, 'muteButtonClick', true, 10, 'mute-1').duplicate).toBe(true);
    ingest(store, frame.id, 'muteButtonClick', false, 40);
    const result = ingest(store, frame.id, 'hangupButtonClick', [], 60);
    expect(result.changed[0]?.summary).toMatchObject({ mutedMs: 30_000, muteCount: 1, endReason: 'hangup' });
    store.writeFigures();
    const row = store.db.prepare('SELECT * FROM calls').get() as Record<string, unknown>;
    expect(row).toMatchObject({ call_id: 'c1', phone_number: '+4930', direction: 'incoming', duration_ms: 60_000, muted_ms: 30_000, end_reason: 'hangup' });
    expect(store.counts().events).toBe(4);
  });

  it('stores a batch in one transaction; an item that fails is rolled back alone', () => {
    const store = openStore();
    const frame = setup(store);
    const item = (eventId: string, name: string, payload: unknown, seconds: number, frameId = frame.id) => ({
      frameId,
      incoming: { eventId, seq: seconds + 1, clientAt: T0 + seconds * 1000, at: T0 + seconds * 1000, receivedAt: T0, event: normalized(name, payload) },
    });
    const { results, changed } = store.ingestBatch([
      item('b1', 'initialized', { CALL_ID: 'c1' }, 0),
      item('b2', 'muteButtonClick', true, 10),
      item('b3', 'muteButtonClick', false, 20, 9999), // no such frame
      item('b2', 'muteButtonClick', true, 10),
      item('b4', 'hangupButtonClick', [], 30),
    ]);
    expect(results.map((r) => ('error' in r ? r.error.message : r.duplicate))).toEqual([false, false, 'no frame 9999', true, false]);
    expect(changed).toHaveLength(1);
    expect(changed[0]?.summary).toMatchObject({ mutedMs: 20_000, endReason: 'hangup' });
    expect(store.db.prepare('SELECT event_id FROM events ORDER BY id').pluck().all()).toEqual(['b1', 'b2', 'b4']);
  });

  it('a repeated initialized for the same CALL_ID is the same call', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 5);
    expect(store.counts().calls).toBe(1);
  });

  it('a new call on the same frame ends the previous one as replaced', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c2' }, 30);
    store.writeFigures();
    const rows = store.db.prepare('SELECT call_id, end_reason, ended_at FROM calls ORDER BY id').all();
    expect(rows).toEqual([
      { call_id: 'c1', end_reason: 'replaced', ended_at: T0 + 30_000 },
      { call_id: 'c2', end_reason: null, ended_at: null },
    ]);
  });

  it('events after a close belong to no call; entityChanged fills in the CRM binding', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1', PHONE_NUMBER: 'unknown' }, 0);
    ingest(store, frame.id, 'entityChanged', { PHONE_NUMBER: '+4930', CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 12 }, 1);
    ingest(store, frame.id, 'closeButtonClick', '', 2);
    ingest(store, frame.id, 'muteButtonClick', true, 3);
    store.writeFigures();
    expect(store.db.prepare('SELECT phone_number, crm_entity_type, crm_entity_id, end_reason FROM calls').get()).toEqual({
      phone_number: '+4930', crm_entity_type: 'CONTACT', crm_entity_id: '12', end_reason: 'closed',
    });
    expect(store.db.prepare("SELECT call_id FROM events WHERE name = 'muteButtonClick'").get()).toEqual({ call_id: null });
  });

  it('never stores which keypad key was pressed', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    ingest(store, frame.id, 'dialpadButtonClick', '7', 1);
    expect(store.db.prepare("SELECT payload FROM events WHERE name = 'dialpadButtonClick'").get()).toEqual({ payload: '{"key":"redacted"}' });
  });

  it('an initialized without CALL_ID (old portals) still makes a call', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', '+4930111', 0, 'legacy-1');
    expect(store.db.prepare('SELECT call_id, phone_number FROM calls').get()).toEqual({ call_id: 'unidentified:legacy-1', phone_number: '+4930111' });
  });
});

describe('session-log queries use their indexes', () => {
  const plan = (store: SessionStore, sql: { source: string }, params: Record<string, unknown>): string =>
    (store.db.prepare(`EXPLAIN QUERY PLAN ${sql.source}`).all(params) as Array<{ detail: string }>).map((r) => r.detail).join('\n');

  it('calls by time range', () => {
    const store = openStore();
    const detail = plan(store, callsQuery(store.db, {}), queryParams({ from: 0, to: 1 }));
    expect(detail).toMatch(/SEARCH c USING INDEX calls_by_start \(started_at>\? AND started_at<\?\)/);
  });

  it('calls by operator and time range', () => {
    const store = openStore();
    const detail = plan(store, callsQuery(store.db, { operator: '7' }), queryParams({ from: 0, to: 1, operator: '7' }));
    expect(detail).toMatch(/USING INDEX calls_by_operator_start \(operator_id=\? AND started_at>\? AND started_at<\?\)/);
  });

  it('calls by muted share, for the session log\'s "muted more than N %" sort and filter', () => {
    const store = openStore();
    const sql = `SELECT c.id FROM calls c WHERE ${MUTED_SHARE} > @share ORDER BY ${MUTED_SHARE} DESC LIMIT 200`;
    const detail = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ share: 0.2 }) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
    expect(detail).toMatch(/USING (COVERING )?INDEX calls_by_muted_share/);
    expect(detail).not.toMatch(/TEMP B-TREE/);
  });

  it('a page of the session log in every sort, either direction: ids from an index in order, never a sort of all calls (migration 6)', () => {
    const store = openStore();
    for (const column of LOG_SORT_COLUMNS) {
      for (const descending of [false, true]) {
        const sql = pageIdsSql({}, { column, descending });
        const detail = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ limit: 200, offset: 900_000 }) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
        expect(detail, `${column} ${descending ? 'descending' : 'ascending'}`).not.toMatch(/TEMP B-TREE/);
        expect(detail, column).toMatch(/USING (COVERING INDEX|INDEX calls_by_start)/);
        // Only ids are read while skipping to the page (a covering index), except by start time, whose index
        // holds the row id as well.
        if (column === 'operator') expect(detail).toMatch(/SCAN o USING COVERING INDEX operators_by_name[\s\S]*SEARCH c USING COVERING INDEX calls_by_operator_start/);
        else expect(detail).toMatch(/SCAN c USING COVERING INDEX/);
      }
    }
  });

  it('the per-day totals read each call and then its events in one ordered scan', () => {
    const store = openStore();
    const sql = `SELECT c.id, e.at FROM calls c JOIN operators o ON o.id = c.operator_id JOIN portals p ON p.id = c.portal_id LEFT JOIN events e ON e.call_id = c.id
      WHERE c.started_at >= @from AND c.started_at < @to ORDER BY c.started_at, c.id, e.at, e.id`;
    const detail = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ from: 0, to: 1 }) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
    expect(detail).toMatch(/SEARCH c USING INDEX calls_by_start/);
    expect(detail).toMatch(/SEARCH e USING (COVERING )?INDEX events_by_call \(call_id=\?\)/);
  });

  it('events by time range', () => {
    const store = openStore();
    const detail = plan(store, eventsQuery(store.db, {}), queryParams({ from: 0, to: 1 }));
    expect(detail).toMatch(/SEARCH e USING INDEX events_by_time \(at>\? AND at<\?\)/);
  });
});

describe('figures computed in memory as events are stored, written after the ack', () => {
  const rowFigures = (db: SessionStore['db'], id: number) =>
    db.prepare('SELECT started_at AS startedAt, ended_at AS endedAt, end_reason AS endReason, duration_ms AS durationMs, muted_ms AS mutedMs, mute_count AS muteCount, longest_mute_ms AS longestMuteMs, held_ms AS heldMs, hold_count AS holdCount, gap_ms AS gapMs FROM calls WHERE id = ?').get(id);
  /** What a reader of the file sees once the figures are written. */
  const storedFigures = (store: SessionStore, id: number) => {
    store.writeFigures();
    return rowFigures(store.db, id);
  };
  /** The figures recomputed from the events in the file, independently of what the store keeps in memory. */
  const recomputed = (db: SessionStore['db'], id: number) => {
    const events = (db.prepare('SELECT name, at, payload FROM events WHERE call_id = ? ORDER BY at, id').all(id) as Array<{ name: string; at: number; payload: string | null }>)
      .map((e) => ({ name: e.name, at: e.at, payload: e.payload === null ? null : (JSON.parse(e.payload) as unknown) }));
    const s = summarizeCall(events);
    return { startedAt: s.startedAt, endedAt: s.endedAt, endReason: s.endReason, durationMs: s.durationMs, mutedMs: s.mutedMs, muteCount: s.muteCount, longestMuteMs: s.longestMuteMs, heldMs: s.heldMs, holdCount: s.holdCount, gapMs: s.gapMs };
  };

  it('equal a recomputation from every stored event, with replays out of order, system events and a failed write', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'kept' }, 0);
    const id = (store.db.prepare("SELECT id FROM calls WHERE call_id = 'kept'").get() as { id: number }).id;
    // A deterministic walk: clicks in order, late replays of older clicks, holds, a lost and returning owner.
    let t = 1;
    for (let i = 0; i < 60; i += 1) {
      const at = i % 7 === 3 ? t - 4 : (t += 1); // every seventh event is a replay from a few seconds back
      if (i % 11 === 5) store.recordSystemEvent(id, i % 2 === 0 ? 'ownerLost' : 'ownerBack', T0 + at * 1000, { continuous: i % 3 === 0 }, T0);
      else ingest(store, frame.id, i % 5 === 0 ? 'holdButtonClick' : 'muteButtonClick', i % 2 === 0, at);
      expect(storedFigures(store, id)).toEqual(recomputed(store.db, id));
    }
    // An event whose write fails leaves nothing behind, in the file or in memory: the next event (which SQLite may
    // give the same row id) counts, the failed one not.
    store.db.exec("CREATE TEMP TRIGGER fail_once BEFORE INSERT ON events WHEN NEW.event_id = 'doomed' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
    expect(() => ingest(store, frame.id, 'holdButtonClick', true, t + 0.5, 'doomed')).toThrow('simulated failure');
    expect(storedFigures(store, id)).toEqual(recomputed(store.db, id));
    ingest(store, frame.id, 'muteButtonClick', true, t + 0.6, 'after');
    expect(storedFigures(store, id)).toEqual(recomputed(store.db, id));
    expect((store.db.prepare("SELECT count(*) AS n FROM events WHERE event_id = 'doomed'").get() as { n: number }).n).toBe(0);
    // Writing the figures fails (disk full, here a trigger): they stay in memory and are written the next time.
    store.db.exec("CREATE TEMP TRIGGER fail_figures BEFORE UPDATE OF muted_ms ON calls BEGIN SELECT RAISE(ABORT, 'simulated failure'); END");
    ingest(store, frame.id, 'hangupButtonClick', [], t + 1);
    expect(() => store.writeFigures()).toThrow('simulated failure');
    expect(store.call(id)).toMatchObject({ endReason: 'hangup' });
    store.db.exec('DROP TRIGGER fail_figures');
    expect(storedFigures(store, id)).toEqual(recomputed(store.db, id));
    expect(storedFigures(store, id)).toMatchObject({ endReason: 'hangup' });
  });

  it('are not written by the commit that acks the event, but the store answers with them at once', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    store.writeFigures();
    const id = store.openCalls()[0]!.id;
    ingest(store, frame.id, 'muteButtonClick', true, 10);
    const result = ingest(store, frame.id, 'hangupButtonClick', [], 30);
    expect(result.changed[0]?.call).toMatchObject({ endedAt: T0 + 30_000, endReason: 'hangup' });
    expect(store.call(id)).toMatchObject({ endedAt: T0 + 30_000, endReason: 'hangup' });
    expect(store.unwrittenFigures).toBe(1);
    expect(rowFigures(store.db, id)).toMatchObject({ endedAt: null, mutedMs: 0 });
    store.writeFigures();
    expect(store.unwrittenFigures).toBe(0);
    expect(rowFigures(store.db, id)).toMatchObject({ endedAt: T0 + 30_000, mutedMs: 20_000, endReason: 'hangup' });
  });

  it('are told before the commit (the state may show them at once), and told again as stored if the commit fails', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    const item = (eventId: string, muted: boolean, seconds: number) => ({
      frameId: frame.id,
      incoming: { eventId, seq: seconds + 1, clientAt: T0 + seconds * 1000, at: T0 + seconds * 1000, receivedAt: T0, event: normalized('muteButtonClick', muted) },
    });
    const reader = new Database(store.file, { readonly: true });
    const committed = (eventId: string) => reader.prepare('SELECT count(*) FROM events WHERE event_id = ?').pluck().get(eventId);
    const heard: Array<{ muted: boolean; committed: unknown }> = [];
    store.ingestBatch([item('m1', true, 10)], (changed) => heard.push({ muted: changed[0]!.summary.muted, committed: committed('m1') }));
    expect(heard).toEqual([{ muted: true, committed: 0 }]);
    expect(committed('m1')).toBe(1);

    // A commit that fails (here a foreign key checked at commit, broken by a write in the callback): the calls are
    // told again as the database holds them, and nothing of the batch is kept.
    store.db.pragma('defer_foreign_keys = ON');
    heard.length = 0;
    const breakCommit = () => store.db.prepare("INSERT INTO events (event_id, frame_id, name, source, at, received_at) VALUES ('orphan', 9999, 'x', 'system', 0, 0)").run();
    expect(() => store.ingestBatch([item('m2', false, 20)], (changed) => {
      heard.push({ muted: changed[0]!.summary.muted, committed: committed('m2') });
      if (heard.length === 1) breakCommit();
    })).toThrow(/FOREIGN KEY/);
    expect(heard).toEqual([{ muted: false, committed: 0 }, { muted: true, committed: 0 }]);
    expect(store.summary(store.openCalls()[0]!.id).muted).toBe(true);
    reader.close();
  });

  it('written from inside a transaction (SQLite refuses to change the sync level there), they go with its commit', () => {
    const store = openStore();
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    const id = store.openCalls()[0]!.id;
    ingest(store, frame.id, 'muteButtonClick', true, 10);
    store.db.transaction(() => store.writeFigures())();
    expect(store.unwrittenFigures).toBe(0);
    expect(rowFigures(store.db, id)).toMatchObject({ muteCount: 1 });
  });

  it('a crash before they are written is repaired from the events when the store opens again', () => {
    const dir = tempDir();
    const store = SessionStore.openInDir(dir);
    const frame = setup(store);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c1' }, 0);
    ingest(store, frame.id, 'initialized', { CALL_ID: 'c2' }, 5); // replaces c1: two calls change
    ingest(store, frame.id, 'muteButtonClick', true, 10);
    ingest(store, frame.id, 'hangupButtonClick', [], 40);
    const ids = (store.db.prepare('SELECT id FROM calls ORDER BY id').pluck().all() as number[]);
    expect(rowFigures(store.db, ids[1]!)).toMatchObject({ endedAt: null });
    store.db.close(); // as a crash would: the figures in memory are gone
    const again = openStore(dir);
    for (const id of ids) expect(rowFigures(again.db, id)).toEqual(recomputed(again.db, id));
    expect(rowFigures(again.db, ids[0]!)).toMatchObject({ endReason: 'replaced', endedAt: T0 + 5_000 });
    expect(rowFigures(again.db, ids[1]!)).toMatchObject({ endReason: 'hangup', mutedMs: 30_000 });
    const through = again.db.prepare('SELECT through_event_id FROM call_figures_written').pluck().get();
    expect(through).toBe(again.db.prepare('SELECT max(id) FROM events').pluck().get());
  });
});
