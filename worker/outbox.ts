// The worker's memory of every event the app has not acknowledged yet, kept in localStorage so that a reload,
// a navigation or an app that is down loses nothing. One outbox per frame (APP_SID), bounded: when full, the
// oldest events go and the loss is counted, so the app can record a gap instead of pretending.

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
}

export const OUTBOX_PREFIX = 'operator-companion.outbox.';
export const MAX_OUTBOX_EVENTS = 1000;
/** An outbox whose page has not touched it for this long belongs to a closed tab. */
export const ORPHAN_AFTER_MS = 30_000;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function newId(): string {
  return crypto.randomUUID();
}

export class Outbox {
  private state: OutboxState;
  private readonly key: string;

  private constructor(state: OutboxState) {
    this.state = state;
    this.key = OUTBOX_PREFIX + state.appSid;
  }

  /** The outbox of a frame: what a previous load of the same frame left, or a new one. */
  static open(appSid: string): Outbox {
    const saved = Outbox.read(OUTBOX_PREFIX + appSid);
    const box = new Outbox(saved ?? { appSid, identity: null, nextSeq: 1, lastAckedSeq: 0, droppedEvents: 0, events: [], aliveAt: Date.now() });
    box.touch();
    return box;
  }

  /** Outboxes of closed tabs that still hold events the app never acknowledged. */
  static orphans(exceptAppSid: string, now = Date.now()): Outbox[] {
    const store = storage();
    if (!store) return [];
    const found: Outbox[] = [];
    const keys = Array.from({ length: store.length }, (_, i) => store.key(i));
    for (const key of keys) {
      if (!key?.startsWith(OUTBOX_PREFIX) || key === OUTBOX_PREFIX + exceptAppSid) continue;
      const state = Outbox.read(key);
      if (!state) continue;
      if (state.events.length === 0 && now - state.aliveAt > ORPHAN_AFTER_MS) store.removeItem(key);
      else if (state.identity && state.events.length > 0 && now - state.aliveAt > ORPHAN_AFTER_MS) found.push(new Outbox(state));
    }
    return found;
  }

  private static read(key: string): OutboxState | null {
    try {
      const text = storage()?.getItem(key);
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
    this.save();
  }

  /** Forgets the outbox once it is empty (an adopted orphan that was delivered). */
  removeIfEmpty(): boolean {
    if (this.state.events.length > 0) return false;
    storage()?.removeItem(this.key);
    return true;
  }

  private save(): void {
    try {
      storage()?.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // Storage full or unavailable: the events stay in memory for this page's life.
    }
  }
}
