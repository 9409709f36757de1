// Group commit: events that arrive in the same turn of the event loop, from any number of tabs, are stored in
// one transaction and acknowledged together after its commit. With one tab sending one event at a time this
// adds a single `setImmediate` hop; with many tabs at once it saves an fsync per event. The state (the tray, the
// microphone) hears of the change before the commit's fsync: what the card did is true already. The calls' figures,
// computed in memory as the events are stored, are written to the calls table after the acks have gone out:
// at once for a call that ended (an export run right after sees it), within FIGURES_DELAY_MS for calls going on,
// so events coming one by one share one write.
import type { CallUpdate, IncomingEvent, SessionStore } from './store/session-store.ts';

export type IngestOutcome = { ok: true; duplicate: boolean } | { ok: false; error: Error };

interface Pending {
  frameId: number;
  incoming: IncomingEvent;
  resolve(outcome: IngestOutcome): void;
}

/** Most events stored in one transaction; a burst beyond it takes several. */
const MAX_BATCH = 500;
/** Longest time the calls table trails an ongoing call's events (the log window refreshes no faster). */
export const FIGURES_DELAY_MS = 250;

export class IngestQueue {
  private readonly store: SessionStore;
  private readonly onStored: (changed: readonly CallUpdate[]) => void;
  private queue: Pending[] = [];
  private afterFlush: Array<() => void> = [];
  private scheduled = false;
  private figuresTimer: NodeJS.Timeout | undefined;
  private figuresSoon: NodeJS.Immediate | undefined;
  private readonly onError: (error: unknown) => void;

  /**
   * `onStored` hears the calls that changed, before their events' commit; `onError`: it threw, or writing the
   * figures failed (they stay in memory and are tried again with the next events).
   */
  constructor(store: SessionStore, onStored: (changed: readonly CallUpdate[]) => void, onError: (error: unknown) => void = () => {}) {
    this.store = store;
    this.onStored = onStored;
    this.onError = onError;
  }

  enqueue(frameId: number, incoming: IncomingEvent): Promise<IngestOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ frameId, incoming, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Runs `fn` once everything queued so far is stored. A worker sends the event of an applied command before
   * the command's result; handling the result after the event keeps "done" from racing ahead of the state.
   */
  afterPending(fn: () => void): void {
    if (this.queue.length === 0) fn();
    else this.afterFlush.push(fn);
  }

  /** Stores everything queued now (also used before shutdown). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      let outcomes: IngestOutcome[];
      let changed: readonly CallUpdate[] = [];
      try {
        // The state changes before the commit's fsync; the acks (below) only after it.
        const result = this.store.ingestBatch(batch, (calls) => this.tell(calls));
        outcomes = result.results.map((r) => ('error' in r ? { ok: false, error: r.error } : { ok: true, duplicate: r.duplicate }));
        changed = result.changed;
      } catch (error) {
        // The commit itself failed (disk full, I/O error): nothing of the batch is stored, nothing is acked.
        const failure = error instanceof Error ? error : new Error(String(error));
        outcomes = batch.map(() => ({ ok: false, error: failure }));
      }
      batch.forEach((item, i) => item.resolve(outcomes[i] as IngestOutcome));
      if (changed.length > 0) this.scheduleFigures(changed.some((c) => c.call.endedAt !== null));
    }
    for (const fn of this.afterFlush.splice(0)) fn();
  }

  /** A fault in what follows the state (the tray, a broadcast) must not undo storing the events. */
  private tell(calls: readonly CallUpdate[]): void {
    if (calls.length === 0) return;
    try {
      this.onStored(calls);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Stores what is queued and writes every call's figures now (before shutdown). */
  close(): void {
    this.flush();
    this.writeFigures();
  }

  private scheduleFigures(callEnded: boolean): void {
    if (callEnded) {
      // setImmediate runs after the acks' sends (they follow from the resolved promises, in microtasks).
      this.figuresSoon ??= setImmediate(() => this.writeFigures());
    } else {
      this.figuresTimer ??= setTimeout(() => this.writeFigures(), FIGURES_DELAY_MS);
    }
  }

  private writeFigures(): void {
    clearTimeout(this.figuresTimer);
    clearImmediate(this.figuresSoon);
    this.figuresTimer = undefined;
    this.figuresSoon = undefined;
    try {
      this.store.writeFigures();
    } catch (error) {
      this.onError(error);
    }
  }
}
