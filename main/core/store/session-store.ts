// The durable record: portals, operators, pairings, worker frames and connections, calls and every event.
// Each event is written once (by its id) and acknowledged once its commit is on disk. Its call's figures are
// computed in memory at the same moment (the state and the tray use them at once) and written to the calls table
// just after, without an fsync of their own: they are derived from the events, and a crash in between is repaired
// when the store opens, from the events (`call_figures_written`).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { CommandSource, NormalizedEvent } from '../../../common/card-events.ts';
import { MICROPHONE_EVENT_NAME, summarizeCall, type CallSummary, type MicrophoneEventPayload, type SystemEventName, type TimelineEvent } from '../calls/timeline.ts';
import { CallTimelines } from './call-timelines.ts';
import { DATABASE_FILE, isCorruptionError, moveAside, openDatabase, type MovedAside } from './database.ts';

export interface OperatorIdentity {
  memberId: string;
  domain: string;
  userId: string;
  userName: string | null;
}

export interface FrameRow {
  id: number;
  portalId: number;
  operatorId: number;
  lastSeq: number;
  clockOffsetMs: number;
  currentCallId: number | null;
}

export interface CallRow {
  id: number;
  portalId: number;
  operatorId: number;
  ownerFrameId: number;
  callId: string;
  phoneNumber: string | null;
  direction: string | null;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
}

export interface IncomingEvent {
  eventId: string;
  seq: number;
  clientAt: number;
  /** Client time corrected by the frame's clock offset. */
  at: number;
  receivedAt: number;
  event: NormalizedEvent;
}

/** A call as it stands after a change, with its figures. */
export interface CallUpdate {
  call: CallRow;
  summary: CallSummary;
}

export interface IngestResult {
  duplicate: boolean;
  /** Calls whose figures changed (the event's own call, and a call it replaced). */
  changed: CallUpdate[];
}

export type BatchItemResult = { duplicate: boolean } | { error: Error };

export interface BatchResult {
  /** One per item, in order. */
  results: BatchItemResult[];
  changed: CallUpdate[];
}

export interface PairingRow {
  id: number;
  origin: string;
  domain: string;
  memberId: string;
  userId: string;
  userName: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface BlockRow {
  id: number;
  origin: string;
  domain: string;
  memberId: string;
  userId: string;
  userName: string | null;
  createdAt: number;
}

export interface StoreCounts {
  portals: number;
  operators: number;
  calls: number;
  openCalls: number;
  events: number;
  firstCallAt: number | null;
  lastCallAt: number | null;
}

const EVENT_SOURCE_CARD = 'card';

/**
 * WAL checkpoints run with the figures' write, after the acks, at most this often, instead of inside whichever
 * event's commit crosses SQLite's threshold (its 1000-page default made the ack's p99). SQLite's own check stays,
 * at a higher threshold, for writes that never reach the figures' write.
 */
const CHECKPOINT_INTERVAL_MS = 1_000;
const AUTOCHECKPOINT_PAGES = 4_000;

export class SessionStore {
  readonly file: string;
  readonly db: Database.Database;
  private readonly stmts;
  private readonly ingestOne: (frameId: number, incoming: IncomingEvent, added: AddedEvent[]) => boolean;
  private readonly timelines: CallTimelines;
  /** Figures computed as events were stored and not yet written to the calls table (see `writeFigures`). */
  private readonly unwritten = new Map<number, CallSummary>();
  private lastCheckpointAt = 0;

  /** Opens the data directory's store; a damaged file is moved aside and reported through `onMovedAside`. */
  static openInDir(dataDir: string, onMovedAside?: (moved: MovedAside) => void): SessionStore {
    const file = path.join(dataDir, DATABASE_FILE);
    try {
      return new SessionStore(file);
    } catch (error) {
      if (!isCorruptionError(error)) throw error;
      const moved = moveAside(file, error instanceof Error ? error.message : String(error));
      onMovedAside?.(moved);
      return new SessionStore(file);
    }
  }

  constructor(file: string) {
    this.file = file;
    this.db = openDatabase(file);
    const db = this.db;
    db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    this.ingestOne = db.transaction((frameId: number, incoming: IncomingEvent, added: AddedEvent[]) => this.ingestOneBody(frameId, incoming, added));
    this.stmts = {
      portalByMember: db.prepare<[string], { id: number; domain: string }>('SELECT id, domain FROM portals WHERE member_id = ?'),
      insertPortal: db.prepare('INSERT INTO portals (member_id, domain, first_seen_at) VALUES (?, ?, ?)'),
      updatePortalDomain: db.prepare('UPDATE portals SET domain = ? WHERE id = ?'),
      operatorByUser: db.prepare<[number, string], { id: number; name: string | null }>(
        'SELECT id, name FROM operators WHERE portal_id = ? AND user_id = ?',
      ),
      insertOperator: db.prepare('INSERT INTO operators (portal_id, user_id, name) VALUES (?, ?, ?)'),
      updateOperatorName: db.prepare('UPDATE operators SET name = ? WHERE id = ?'),
      frameBySid: db.prepare<[number, string], FrameRow>(
        `SELECT id, portal_id AS portalId, operator_id AS operatorId, last_seq AS lastSeq,
                clock_offset_ms AS clockOffsetMs, current_call_id AS currentCallId
         FROM frames WHERE portal_id = ? AND app_sid = ?`,
      ),
      frameById: db.prepare<[number], FrameRow>(
        `SELECT id, portal_id AS portalId, operator_id AS operatorId, last_seq AS lastSeq,
                clock_offset_ms AS clockOffsetMs, current_call_id AS currentCallId
         FROM frames WHERE id = ?`,
      ),
      insertFrame: db.prepare(
        'INSERT INTO frames (portal_id, operator_id, app_sid, origin, uri, first_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      updateFrameSeen: db.prepare('UPDATE frames SET uri = ? WHERE id = ?'),
      setFrameOffset: db.prepare('UPDATE frames SET clock_offset_ms = ? WHERE id = ?'),
      setFrameSeq: db.prepare('UPDATE frames SET last_seq = max(last_seq, ?) WHERE id = ?'),
      setFrameCall: db.prepare('UPDATE frames SET current_call_id = ? WHERE id = ?'),
      insertConnection: db.prepare('INSERT INTO connections (frame_id, opened_at, clock_offset_ms) VALUES (?, ?, ?)'),
      closeConnection: db.prepare('UPDATE connections SET closed_at = ?, close_code = ? WHERE id = ? AND closed_at IS NULL'),
      lastClosedAt: db.prepare<[number], { closedAt: number | null }>(
        'SELECT max(coalesce(closed_at, opened_at)) AS closedAt FROM connections WHERE frame_id = ?',
      ),
      eventExists: db.prepare<[string], { id: number }>('SELECT id FROM events WHERE event_id = ?'),
      insertEvent: db.prepare(
        `INSERT INTO events (event_id, frame_id, call_id, seq, name, source, payload, client_at, at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      callByCallId: db.prepare<[number, string], CallRow>(
        `SELECT ${CALL_COLUMNS} FROM calls WHERE portal_id = ? AND call_id = ?`,
      ),
      callById: db.prepare<[number], CallRow>(`SELECT ${CALL_COLUMNS} FROM calls WHERE id = ?`),
      openCalls: db.prepare<[], CallRow>(`SELECT ${CALL_COLUMNS} FROM calls WHERE ended_at IS NULL ORDER BY started_at`),
      insertCall: db.prepare(
        `INSERT INTO calls (portal_id, operator_id, owner_frame_id, call_id, phone_number, direction, line_number,
                            crm_entity_type, crm_entity_id, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      setCallOwner: db.prepare('UPDATE calls SET owner_frame_id = ? WHERE id = ?'),
      updateCallEntity: db.prepare(
        `UPDATE calls SET phone_number = coalesce(?, phone_number), crm_entity_type = coalesce(?, crm_entity_type),
                          crm_entity_id = coalesce(?, crm_entity_id) WHERE id = ?`,
      ),
      callEvents: db.prepare<[number], { name: string; at: number; payload: string | null }>(
        'SELECT name, at, payload FROM events WHERE call_id = ? ORDER BY at, id',
      ),
      figuresWrittenThrough: db.prepare<[], { through: number }>('SELECT through_event_id AS through FROM call_figures_written'),
      setFiguresWrittenThrough: db.prepare('UPDATE call_figures_written SET through_event_id = (SELECT coalesce(max(id), 0) FROM events)'),
      callsWithEventsAfter: db.prepare<[number], { id: number }>(
        'SELECT DISTINCT call_id AS id FROM events WHERE id > ? AND call_id IS NOT NULL',
      ),
      updateCallFigures: db.prepare(
        `UPDATE calls SET started_at = ?, ended_at = ?, end_reason = ?, duration_ms = ?, muted_ms = ?, mute_count = ?,
                          longest_mute_ms = ?, held_ms = ?, hold_count = ?, gap_ms = ?, mic_muted_ms = ? WHERE id = ?`,
      ),
      pairingByHash: db.prepare<[string], { id: number; origin: string; portalId: number; operatorId: number; revokedAt: number | null }>(
        `SELECT id, origin, portal_id AS portalId, operator_id AS operatorId, revoked_at AS revokedAt
         FROM pairings WHERE token_hash = ?`,
      ),
      insertPairing: db.prepare(
        'INSERT INTO pairings (origin, portal_id, operator_id, token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      touchPairing: db.prepare('UPDATE pairings SET last_used_at = ? WHERE id = ?'),
      revokePairing: db.prepare('UPDATE pairings SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      isBlocked: db.prepare<[string, number, number], { n: number }>(
        'SELECT count(*) AS n FROM pairing_blocks WHERE origin = ? AND portal_id = ? AND operator_id = ?',
      ),
      block: db.prepare('INSERT OR IGNORE INTO pairing_blocks (origin, portal_id, operator_id, created_at) VALUES (?, ?, ?, ?)'),
      unblock: db.prepare('DELETE FROM pairing_blocks WHERE rowid = ?'),
      listBlocks: db.prepare<[], BlockRow>(
        `SELECT b.rowid AS id, b.origin, po.domain, po.member_id AS memberId, o.user_id AS userId, o.name AS userName,
                b.created_at AS createdAt
         FROM pairing_blocks b JOIN portals po ON po.id = b.portal_id JOIN operators o ON o.id = b.operator_id
         ORDER BY b.created_at`,
      ),
      listPairings: db.prepare<[], PairingRow>(
        `SELECT p.id, p.origin, po.domain, po.member_id AS memberId, o.user_id AS userId, o.name AS userName,
                p.created_at AS createdAt, p.last_used_at AS lastUsedAt, p.revoked_at AS revokedAt
         FROM pairings p JOIN portals po ON po.id = p.portal_id JOIN operators o ON o.id = p.operator_id
         ORDER BY p.created_at`,
      ),
    };
    this.timelines = new CallTimelines((id) => this.readTimeline(id));
    this.repairFigures();
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.writeFigures();
    } finally {
      // Figures that could not be written (a full disk) are recomputed from the events at the next start.
      this.db.close();
    }
  }

  // ------------------------------------------------------------ identities

  /**
   * Finds or creates the portal and operator a worker speaks for. Call it only for an authorised worker: it also
   * takes the portal's domain and the operator's name as given. `update: false` (a blocked request) creates what
   * is missing and changes nothing that exists.
   */
  resolveOperator(identity: OperatorIdentity, now: number, update = true): { portalId: number; operatorId: number } {
    return this.db
      .transaction(() => {
        const portalId = this.portalId(identity.memberId, identity.domain, now, update);
        return { portalId, operatorId: this.operatorId(portalId, identity.userId, identity.userName, update) };
      })
      .immediate();
  }

  /** The ids of the portal and operator a worker claims to be, if they exist; writes nothing. */
  findOperator(identity: OperatorIdentity): { portalId: number; operatorId: number } | null {
    const portal = this.stmts.portalByMember.get(identity.memberId);
    const operator = portal ? this.stmts.operatorByUser.get(portal.id, identity.userId) : undefined;
    return portal && operator ? { portalId: portal.id, operatorId: operator.id } : null;
  }

  /**
   * Finds or creates the row of a worker frame (one Bitrix24 tab or slider). A frame belongs to the operator it
   * was first seen with: another operator presenting its APP_SID gets null (and changes nothing).
   */
  resolveFrame(
    ids: { portalId: number; operatorId: number },
    frame: { appSid: string; origin: string; uri: string | null },
    now: number,
  ): { frame: FrameRow; created: boolean } | null {
    return this.db
      .transaction(() => {
        const existing = this.stmts.frameBySid.get(ids.portalId, frame.appSid);
        if (existing) {
          if (existing.operatorId !== ids.operatorId) return null;
          this.stmts.updateFrameSeen.run(frame.uri, existing.id);
          return { frame: existing, created: false };
        }
        const info = this.stmts.insertFrame.run(ids.portalId, ids.operatorId, frame.appSid, frame.origin, frame.uri, now);
        return { frame: this.frame(Number(info.lastInsertRowid)), created: true };
      })
      .immediate();
  }

  portalId(memberId: string, domain: string, now: number, update = true): number {
    const row = this.stmts.portalByMember.get(memberId);
    if (row) {
      if (update && row.domain !== domain) this.stmts.updatePortalDomain.run(domain, row.id);
      return row.id;
    }
    return Number(this.stmts.insertPortal.run(memberId, domain, now).lastInsertRowid);
  }

  operatorId(portalId: number, userId: string, name: string | null, update = true): number {
    const row = this.stmts.operatorByUser.get(portalId, userId);
    if (row) {
      if (update && name !== null && row.name !== name) this.stmts.updateOperatorName.run(name, row.id);
      return row.id;
    }
    return Number(this.stmts.insertOperator.run(portalId, userId, name).lastInsertRowid);
  }

  frame(id: number): FrameRow {
    const row = this.stmts.frameById.get(id);
    if (!row) throw new Error(`no frame ${id}`);
    return row;
  }

  setClockOffset(frameId: number, offsetMs: number): void {
    this.stmts.setFrameOffset.run(Math.round(offsetMs), frameId);
  }

  openConnection(frameId: number, openedAt: number, clockOffsetMs: number): number {
    return Number(this.stmts.insertConnection.run(frameId, openedAt, Math.round(clockOffsetMs)).lastInsertRowid);
  }

  closeConnection(connectionId: number, closedAt: number, code: number): void {
    this.stmts.closeConnection.run(closedAt, code, connectionId);
  }

  /** When the frame was last seen connected (for calls left open by a crash). */
  frameLastSeenAt(frameId: number): number | null {
    return this.stmts.lastClosedAt.get(frameId)?.closedAt ?? null;
  }

  // ------------------------------------------------------------ events and calls

  /** Stores one event from a frame, once. Returns whether it was a duplicate and which calls changed. */
  ingest(frameId: number, incoming: IncomingEvent): IngestResult {
    const { results, changed } = this.ingestBatch([{ frameId, incoming }]);
    const [result] = results;
    if (result && 'error' in result) throw result.error;
    return { duplicate: result?.duplicate ?? false, changed };
  }

  /**
   * Stores several events in one transaction: one commit (one fsync) for all of them, so many tabs sending at
   * once cost little more than one. Each event is its own savepoint: one that fails is rolled back alone and
   * reported in its slot. Each changed call's figures are recomputed once, at the end.
   *
   * `beforeCommit` hears the changed calls as soon as they are known, before the commit and its fsync: what the
   * card did is true whether or not the disk keeps up, so the state and the tray may show it at once (the acks
   * wait for this method to return). Writes it makes join the transaction. If the commit then fails, it hears the
   * calls again as the database holds them.
   */
  ingestBatch(
    items: ReadonlyArray<{ frameId: number; incoming: IncomingEvent }>,
    beforeCommit?: (changed: readonly CallUpdate[]) => void,
  ): BatchResult {
    const dirty = new Set<number>();
    try {
      return this.db
        .transaction((): BatchResult => {
          const results = items.map(({ frameId, incoming }): BatchItemResult => {
            const added: AddedEvent[] = [];
            try {
              const duplicate = this.ingestOne(frameId, incoming, added);
              // Only now is the event's savepoint released: memory learns what the database kept.
              for (const { callRowId, event } of added) {
                this.timelines.add(callRowId, event);
                dirty.add(callRowId);
              }
              return { duplicate };
            } catch (error) {
              return { error: error instanceof Error ? error : new Error(String(error)) };
            }
          });
          const changed = [...dirty].map((id) => this.computeFigures(id));
          beforeCommit?.(changed);
          return { results, changed };
        })
        .immediate();
    } catch (error) {
      // The commit failed: nothing of the batch is stored, so what memory learnt from it is read again.
      for (const id of dirty) this.recomputeFromDatabase(id);
      const asStored = [...dirty].flatMap((id) => {
        const summary = this.unwritten.get(id);
        return summary ? [{ call: this.callWithFigures(id, summary), summary }] : [];
      });
      if (asStored.length > 0) beforeCommit?.(asStored);
      throw error;
    }
  }

  /** Returns true for a duplicate. Lists the events it stored in `added`. Run as `ingestOne` (a savepoint). */
  private ingestOneBody(frameId: number, incoming: IncomingEvent, added: AddedEvent[]): boolean {
    if (this.stmts.eventExists.get(incoming.eventId)) return true;
    const frame = this.frame(frameId);
    let callRowId = frame.currentCallId;
    const { event } = incoming;
    // A call is read before this event writes to it, with what memory knows of it (earlier events of the batch too).
    const current = (id: number): CallRow => this.callWithFigures(id, summarizeCall(this.timelines.get(id)));

    if (event.name === 'initialized') {
      const callId = event.payload.callId || `unidentified:${incoming.eventId}`;
      const existing = this.stmts.callByCallId.get(frame.portalId, callId);
      if (frame.currentCallId !== null && frame.currentCallId !== existing?.id) {
        const previous = current(frame.currentCallId);
        if (previous.endedAt === null) {
          added.push(this.insertSystemEvent(previous.id, previous.ownerFrameId, 'callReplaced', incoming.at, null, incoming.receivedAt));
        }
      }
      if (existing) {
        callRowId = existing.id;
        // The card was re-created (a reloaded tab, or another tab) after its call was cut off: what happened in
        // between is unknown, a gap.
        if (current(existing.id).endReason === 'connection_lost') {
          added.push(this.insertSystemEvent(existing.id, frameId, 'ownerBack', Math.max(incoming.at, current(existing.id).endedAt ?? 0), { continuous: false }, incoming.receivedAt));
        }
        if (existing.ownerFrameId !== frameId) this.stmts.setCallOwner.run(frameId, existing.id);
      } else {
        const p = event.payload;
        const info = this.stmts.insertCall.run(
          frame.portalId, frame.operatorId, frameId, callId, p.phoneNumber, p.direction, p.lineNumber,
          p.crmEntityType, p.crmEntityId, incoming.at,
        );
        callRowId = Number(info.lastInsertRowid);
      }
      this.stmts.setFrameCall.run(callRowId, frameId);
    } else if (event.name === 'entityChanged' && event.payload !== null && callRowId !== null) {
      const p = event.payload;
      this.stmts.updateCallEntity.run(p.phoneNumber, p.crmEntityType, p.crmEntityId, callRowId);
    }

    const source = event.name === 'CallCardSetMute' || event.name === 'CallCardSetHold' ? event.payload.source : EVENT_SOURCE_CARD;
    const payload = event.payload === null ? null : JSON.stringify(event.payload);
    const at = Math.round(incoming.at);
    this.stmts.insertEvent.run(
      incoming.eventId, frameId, callRowId, incoming.seq, event.name, source, payload, Math.round(incoming.clientAt), at,
      incoming.receivedAt,
    );
    this.stmts.setFrameSeq.run(incoming.seq, frameId);
    // The card is gone once closed; later events on this frame belong to no call until the next one.
    if (event.name === 'closeButtonClick') this.stmts.setFrameCall.run(null, frameId);
    if (callRowId !== null) added.push({ callRowId, event: timelineEvent(event.name, at, payload) });
    return false;
  }

  /** Records something the app itself observed about a call (a lost or returning owner). */
  recordSystemEvent(callRowId: number, name: SystemEventName, at: number, payload: unknown, now: number): CallUpdate {
    return this.recordForCall(callRowId, (ownerFrameId) => this.insertSystemEvent(callRowId, ownerFrameId, name, at, payload, now));
  }

  /** Records what the app saw or did to the microphone during a call, with who caused it. */
  recordMicrophoneEvent(callRowId: number, at: number, payload: MicrophoneEventPayload, source: 'card' | CommandSource, now: number): CallUpdate {
    return this.recordForCall(callRowId, (ownerFrameId) =>
      this.insertSystemEvent(callRowId, ownerFrameId, MICROPHONE_EVENT_NAME, at, payload, now, source),
    );
  }

  /** Stores an event the app made for a call, with the call's figures, in one durable transaction. */
  private recordForCall(callRowId: number, insert: (ownerFrameId: number) => AddedEvent): CallUpdate {
    try {
      return this.db
        .transaction((): CallUpdate => {
          this.timelines.add(callRowId, insert(this.call(callRowId).ownerFrameId).event);
          return this.refreshCall(callRowId);
        })
        .immediate();
    } catch (error) {
      this.recomputeFromDatabase(callRowId);
      throw error;
    }
  }

  private insertSystemEvent(callRowId: number, frameId: number, name: string, at: number, payload: unknown, now: number, source = 'system'): AddedEvent {
    const json = payload === null ? null : JSON.stringify(payload);
    const rounded = Math.round(at);
    this.stmts.insertEvent.run(`system:${randomUUID()}`, frameId, callRowId, null, name, source, json, null, rounded, now);
    return { callRowId, event: timelineEvent(name, rounded, json) };
  }

  /** The call as it stands, its figures included even where they are not written to its row yet. */
  call(id: number): CallRow {
    const figures = this.unwritten.get(id);
    return figures ? this.callWithFigures(id, figures) : this.callRow(id);
  }

  openCalls(): CallRow[] {
    this.writeFigures();
    return this.stmts.openCalls.all();
  }

  /** The call's events as the timeline reads them. */
  timeline(callRowId: number): readonly TimelineEvent[] {
    return this.timelines.get(callRowId);
  }

  summary(callRowId: number, asOf?: number): CallSummary {
    return summarizeCall(this.timelines.get(callRowId), asOf);
  }

  /**
   * Writes the figures computed as events were stored to the calls table, in one transaction without an fsync of
   * its own (synchronous=NORMAL): they are derived from events already on disk, the next durable commit takes them
   * to disk too, and a crash before that is repaired from the events when the store opens. Called just after the
   * acks (the ingest queue), before reading the calls table in this process, and on close.
   */
  writeFigures(): void {
    if (this.unwritten.size === 0) return;
    const write = this.db.transaction(() => {
      for (const [id, figures] of this.unwritten) this.updateFigures(id, figures);
      this.stmts.setFiguresWrittenThrough.run();
    });
    // Inside a transaction under way (SQLite refuses to change the level there), the figures go with its commit.
    if (this.db.inTransaction) write();
    else {
      this.db.pragma('synchronous = NORMAL');
      try {
        write.immediate();
      } finally {
        this.db.pragma('synchronous = FULL');
      }
    }
    // An ended call rarely changes again (a late replay reads it back).
    for (const [id, figures] of this.unwritten) if (figures.endedAt !== null) this.timelines.forget(id);
    this.unwritten.clear();
    const now = Date.now();
    if (!this.db.inTransaction && now - this.lastCheckpointAt >= CHECKPOINT_INTERVAL_MS) {
      this.lastCheckpointAt = now;
      // PASSIVE: copies what no reader still needs, never waits for one (an export may be reading).
      this.db.pragma('wal_checkpoint(PASSIVE)');
    }
  }

  /** How many calls have figures waiting to be written. */
  get unwrittenFigures(): number {
    return this.unwritten.size;
  }

  private callRow(id: number): CallRow {
    const row = this.stmts.callById.get(id);
    if (!row) throw new Error(`no call ${id}`);
    return row;
  }

  private callWithFigures(id: number, figures: CallSummary): CallRow {
    return { ...this.callRow(id), startedAt: figures.startedAt, endedAt: figures.endedAt, endReason: figures.endReason };
  }

  /** Figures of a call whose events changed in the batch being stored; written after the acks. */
  private computeFigures(callRowId: number): CallUpdate {
    const summary = summarizeCall(this.timelines.get(callRowId));
    this.unwritten.set(callRowId, summary);
    return { call: this.callWithFigures(callRowId, summary), summary };
  }

  /** Figures written at once, in the caller's durable transaction (system and microphone events, repairs). */
  private refreshCall(callRowId: number): CallUpdate {
    const summary = summarizeCall(this.timelines.get(callRowId));
    this.updateFigures(callRowId, summary);
    this.unwritten.delete(callRowId);
    return { call: this.callRow(callRowId), summary };
  }

  private updateFigures(callRowId: number, s: CallSummary): void {
    this.stmts.updateCallFigures.run(
      s.startedAt, s.endedAt, s.endReason, s.durationMs, s.mutedMs, s.muteCount, s.longestMuteMs, s.heldMs,
      s.holdCount, s.gapMs, s.micMutedMs, callRowId,
    );
  }

  private recomputeFromDatabase(callRowId: number): void {
    this.timelines.forget(callRowId);
    try {
      this.unwritten.set(callRowId, summarizeCall(this.timelines.get(callRowId)));
    } catch {
      // A call created in the failed commit does not exist.
      this.unwritten.delete(callRowId);
      this.timelines.forget(callRowId);
    }
  }

  private readTimeline(callRowId: number): TimelineEvent[] {
    return this.stmts.callEvents.all(callRowId).map((e) => timelineEvent(e.name, e.at, e.payload));
  }

  /** Figures the last run computed but did not live to write: recomputed from the events, which are on disk. */
  private repairFigures(): void {
    const through = this.stmts.figuresWrittenThrough.get()?.through ?? 0;
    const calls = this.stmts.callsWithEventsAfter.all(through);
    if (calls.length === 0) return;
    this.db
      .transaction(() => {
        for (const { id } of calls) this.refreshCall(id);
        this.stmts.setFiguresWrittenThrough.run();
      })
      .immediate();
  }

  // ------------------------------------------------------------ pairings

  findPairing(tokenHash: string): { id: number; origin: string; portalId: number; operatorId: number; revokedAt: number | null } | undefined {
    return this.stmts.pairingByHash.get(tokenHash);
  }

  insertPairing(origin: string, portalId: number, operatorId: number, tokenHash: string, now: number): number {
    return Number(this.stmts.insertPairing.run(origin, portalId, operatorId, tokenHash, now).lastInsertRowid);
  }

  touchPairing(id: number, now: number): void {
    this.stmts.touchPairing.run(now, id);
  }

  revokePairing(id: number, now: number): boolean {
    return this.stmts.revokePairing.run(now, id).changes > 0;
  }

  listPairings(): PairingRow[] {
    return this.stmts.listPairings.all();
  }

  isBlocked(origin: string, portalId: number, operatorId: number): boolean {
    return (this.stmts.isBlocked.get(origin, portalId, operatorId)?.n ?? 0) > 0;
  }

  block(origin: string, portalId: number, operatorId: number, now: number): void {
    this.stmts.block.run(origin, portalId, operatorId, now);
  }

  unblock(id: number): boolean {
    return this.stmts.unblock.run(id).changes > 0;
  }

  listBlocks(): BlockRow[] {
    return this.stmts.listBlocks.all();
  }

  // ------------------------------------------------------------ status

  counts(): StoreCounts {
    return storeCounts(this.db);
  }
}

/** What a store holds; also read by `operator-companion status` on a read-only connection. */
export function storeCounts(db: Database.Database): StoreCounts {
  return db
    .prepare<[], StoreCounts>(
      `SELECT (SELECT count(*) FROM portals) AS portals, (SELECT count(*) FROM operators) AS operators,
              (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM calls WHERE ended_at IS NULL) AS openCalls,
              (SELECT count(*) FROM events) AS events,
              (SELECT min(started_at) FROM calls) AS firstCallAt, (SELECT max(started_at) FROM calls) AS lastCallAt`,
    )
    .get() as StoreCounts;
}

/** An event stored for a call in the transaction under way, told to memory once it is kept. */
interface AddedEvent {
  callRowId: number;
  event: TimelineEvent;
}

function timelineEvent(name: string, at: number, payload: string | null): TimelineEvent {
  return { name, at, payload: payload === null ? null : (JSON.parse(payload) as unknown) };
}

const CALL_COLUMNS = `id, portal_id AS portalId, operator_id AS operatorId, owner_frame_id AS ownerFrameId, call_id AS callId,
  phone_number AS phoneNumber, direction, started_at AS startedAt, ended_at AS endedAt, end_reason AS endReason`;
