// The worker's memory of every event the app has not acknowledged yet, persisted (see persistence.ts) so that
// a reload, a navigation or an app that is down loses nothing. One outbox per frame (APP_SID), bounded: when
// full, the oldest events go and the loss is counted, so the app can record a gap instead of pretending. Where
// only a small cookie can be kept, the newest events that fit are persisted and the rest counted as lost
// should the page go away before the app is back.
import { persistence, safeKey } from './persistence.ts';

export interface Identity {
  domain: string;
  memberId: string;
  userId: string;
  userName?: string;
  uri?: string;
}

export interface OutboxEvent {
  id: string;
  seq: number;
  at: number;
  name: string;
  payload: unknown;
}

interface OutboxState {
  appSid: string;
  identity: Identity | null;
  nextSeq: number;
  lastAckedSeq: number;
  droppedEvents: number;
  events: OutboxEvent[];
  /** When the owning page last showed it is alive; an old value marks an orphan another tab may adopt. */
  aliveAt: number;
  /** Set as the owning page went away (pagehide): its events may be adopted at once. */
  closedAt?: number;
  /** Events held in memory that did not fit in storage: lost if this page goes away. */
  notPersisted?: number;
}

export const OUTBOX_PREFIX = 'oc_outbox_';
export const MAX_OUTBOX_EVENTS = 1000;
/** An outbox whose page has not touched it for this long belongs to a closed tab. */
export const ORPHAN_AFTER_MS = 30_000;

function newId(): string {
  return crypto.randomUUID();
}

export class Outbox {
  private state: OutboxState;
  private readonly key: string;

  private constructor(state: OutboxState) {
    this.state = state;
    this.key = OUTBOX_PREFIX + safeKey(state.appSid);
  }

  /** The outbox of a frame: what a previous load of the same frame left, or a new one. */
  static open(appSid: string): Outbox {
    const saved = Outbox.read(OUTBOX_PREFIX + safeKey(appSid));
    const box = new Outbox(saved ?? { appSid, identity: null, nextSeq: 1, lastAckedSeq: 0, droppedEvents: 0, events: [], aliveAt: Date.now() });
    box.touch();
    return box;
  }

  /** Outboxes of closed tabs that still hold events the app never acknowledged. */
  static orphans(exceptAppSid: string, now = Date.now()): Outbox[] {
    const store = persistence();
    const found: Outbox[] = [];
    for (const key of store.keys(OUTBOX_PREFIX)) {
      if (key === OUTBOX_PREFIX + safeKey(exceptAppSid)) continue;
      const state = Outbox.read(key);
      // Closed for sure (pagehide), or silent for long. A hidden tab may run its timers only once a minute, so
      // "silent" can be wrong; the app never lets an adopted outbox take over a frame that is still connected.
      if (!state || (state.closedAt === undefined && now - state.aliveAt <= ORPHAN_AFTER_MS)) continue;
      if (state.events.length === 0 || !state.identity) store.remove(key);
      else {
        // Whatever did not fit in storage went with the closed page.
        state.droppedEvents += state.notPersisted ?? 0;
        state.notPersisted = 0;
        found.push(new Outbox(state));
      }
    }
    return found;
  }

  private static read(key: string): OutboxState | null {
    try {
      const text = persistence().get(key);
      if (!text) return null;
      const state = JSON.parse(text) as OutboxState;
      return Array.isArray(state.events) && typeof state.nextSeq === 'number' ? state : null;
    } catch {
      return null;
    }
  }

  get appSid(): string {
    return this.state.appSid;
  }
  get identity(): Identity | null {
    return this.state.identity;
  }
  get lastAckedSeq(): number {
    return this.state.lastAckedSeq;
  }
  get droppedEvents(): number {
    return this.state.droppedEvents;
  }
  get pending(): readonly OutboxEvent[] {
    return this.state.events;
  }

  setIdentity(identity: Identity): void {
    this.state.identity = identity;
    this.save();
  }

  add(name: string, payload: unknown, at = Date.now()): OutboxEvent {
    const event = { id: newId(), seq: this.state.nextSeq, at, name, payload };
    this.state.nextSeq += 1;
    this.state.events.push(event);
    if (this.state.events.length > MAX_OUTBOX_EVENTS) {
      this.state.events.splice(0, this.state.events.length - MAX_OUTBOX_EVENTS);
      this.state.droppedEvents += 1;
    }
    this.save();
    return event;
  }

  /** The app stored everything up to `seq`. */
  storedUpTo(seq: number): void {
    this.state.lastAckedSeq = Math.max(this.state.lastAckedSeq, seq);
    this.state.events = this.state.events.filter((e) => e.seq > seq);
    this.save();
  }

  acked(id: string, seq: number): void {
    this.state.events = this.state.events.filter((e) => e.id !== id);
    if (this.state.events.every((e) => e.seq > seq)) this.state.lastAckedSeq = Math.max(this.state.lastAckedSeq, seq);
    this.save();
  }

  /** The app refused this event for good (invalid): keeping it would resend it for ever. */
  drop(id: string): void {
    this.state.events = this.state.events.filter((e) => e.id !== id);
    this.save();
  }

  /** The dropped events were reported to the app in a handshake; the count starts again. */
  droppedReported(): void {
    this.state.droppedEvents = 0;
    this.save();
  }

  touch(): void {
    this.state.aliveAt = Date.now();
    delete this.state.closedAt;
    this.save();
  }

  /** The page is going away for good: what it still holds may be adopted by the next tab at once. */
  markClosed(): void {
    this.state.closedAt = Date.now();
    this.save();
  }

  /** Forgets the outbox once it is empty (an adopted orphan that was delivered). */
  removeIfEmpty(): boolean {
    if (this.state.events.length > 0) return false;
    persistence().remove(this.key);
    return true;
  }

  private save(): void {
    const store = persistence();
    if (store.set(this.key, JSON.stringify({ ...this.state, notPersisted: 0 }))) return;
    // Too large for what this browser lets the frame keep: keep the newest events that fit.
    let keep = this.state.events.length;
    while (keep > 0) {
      keep = Math.floor(keep / 2);
      const events = this.state.events.slice(this.state.events.length - keep);
      const trimmed = { ...this.state, events, notPersisted: this.state.events.length - keep };
      if (store.set(this.key, JSON.stringify(trimmed))) return;
    }
  }
}
