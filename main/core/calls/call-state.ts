// The live picture: which frames are connected, which calls are going on, what the card's mute and hold are,
// which of the app's own commands are still waiting for the card. It derives the one operator state the tray
// shows and routes commands to the frame that owns the card. Figures come from the store's timeline, so the
// live view and the stored record can never disagree.
import type { CommandSource } from '../../../common/card-events.ts';
import { CARD_ACTIONS, type CardAction } from '../../../common/ipc.ts';
import type { CardSnapshot, CommandOutcome, CommandResultMessage, OperatorState } from '../../../common/protocol.ts';
import type { WorkerConnection } from '../relay/worker-connection.ts';
import type { CallUpdate, SessionStore } from '../store/session-store.ts';

export { CARD_ACTIONS, type CardAction };

export interface CommandResponse {
  ok: boolean;
  outcome: CommandOutcome;
  message: string;
  /** What was asked of the card. */
  requested?: { muted: boolean } | { held: boolean };
}

export interface CallView {
  rowId: number;
  callId: string;
  phoneNumber: string | null;
  direction: string | null;
  startedAt: number;
  muted: boolean;
  held: boolean;
  mutedSince: number | null;
  heldSince: number | null;
  ownerConnected: boolean;
  /** Asked by the app, not yet confirmed by the card. */
  requested: { muted?: boolean; held?: boolean };
}

export type FrameLifecycle = 'visible' | 'hidden' | 'frozen';

export interface OperatorView {
  state: OperatorState;
  connectedFrames: number;
  /** Connected tabs the browser has frozen: asleep, not gone (their sockets stay; they resume and resync). */
  asleepFrames: number;
  call: CallView | null;
}

export interface CallStateOptions {
  /** How long a card's owner may be away before the call is taken as cut off. */
  graceMs: number;
  commandTimeoutMs: number;
  now: () => number;
  onError?: (error: unknown) => void;
}

interface PendingCommand {
  callRowId: number;
  frameId: number;
  requested: { muted: boolean } | { held: boolean };
  timer: NodeJS.Timeout;
  resolve(response: CommandResponse): void;
}

export class CallState {
  private readonly store: SessionStore;
  private readonly options: CallStateOptions;
  private readonly connections = new Map<number, WorkerConnection>();
  private readonly lifecycles = new Map<number, FrameLifecycle>();
  private readonly live = new Map<number, CallUpdate>();
  private readonly graceTimers = new Map<number, NodeJS.Timeout>();
  /** When each call in its grace period lost its owner. */
  private readonly lostAt = new Map<number, number>();
  /** The page load each frame last connected from (in this run of the app). */
  private readonly pages = new Map<number, string>();
  private readonly pending = new Map<string, PendingCommand>();
  private readonly listeners = new Set<(view: OperatorView) => void>();
  private lastEmitted = '';
  private disposed = false;

  constructor(store: SessionStore, options: CallStateOptions) {
    this.store = store;
    this.options = options;
  }

  /** Picks up calls left open by the last run; their owners get the grace period to come back. */
  restore(): void {
    for (const call of this.store.openCalls()) {
      const update = { call, summary: this.store.summary(call.id) };
      this.live.set(call.id, update);
      // An open call's duration runs to its last event.
      const lastEventAt = update.summary.startedAt + update.summary.durationMs;
      const lostAt = Math.max(lastEventAt, this.store.frameLastSeenAt(call.ownerFrameId) ?? 0);
      this.startGrace(call.id, lostAt);
    }
  }

  onChange(listener: (view: OperatorView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A frame finished its handshake. `continuous`: it still holds every event it saw since it was last here.
   * `pageId`: its page load. Another page load than before is a reloaded tab: the call card died with the old page,
   * so its call ends where the old page was lost (a re-created card with the same call id resumes it, with the
   * time between as a gap). The same page reconnecting keeps its card, and its call goes on.
   */
  attach(frameId: number, conn: WorkerConnection, continuous: boolean, pageId?: string): void {
    const previous = this.connections.get(frameId);
    this.connections.set(frameId, conn);
    if (previous && previous !== conn) previous.close('replaced', 'the same frame connected again');
    const knownPage = this.pages.get(frameId);
    const reloaded = pageId !== undefined && knownPage !== undefined && knownPage !== pageId;
    if (pageId !== undefined) this.pages.set(frameId, pageId);
    const updates: CallUpdate[] = [];
    for (const { call } of [...this.live.values()]) {
      if (call.ownerFrameId !== frameId) continue;
      const lostAt = this.lostAt.get(call.id);
      this.stopGrace(call.id);
      if (reloaded && lostAt !== undefined) updates.push(this.store.recordSystemEvent(call.id, 'ownerLost', lostAt, null, this.options.now()));
    }
    const currentCallId = this.store.frame(frameId).currentCallId;
    if (currentCallId !== null && !reloaded) {
      const call = this.store.call(currentCallId);
      if (call.endReason === 'connection_lost' && call.ownerFrameId === frameId) {
        // Never before the loss it ends, whatever the clocks say: the pair must stay in order.
        const at = Math.max(this.options.now(), call.endedAt ?? 0);
        updates.push(this.store.recordSystemEvent(call.id, 'ownerBack', at, { continuous }, this.options.now()));
      }
    }
    if (updates.length > 0) this.apply(updates);
    this.emit();
  }

  detach(frameId: number, conn: WorkerConnection): void {
    if (this.disposed || this.connections.get(frameId) !== conn) return;
    this.connections.delete(frameId);
    this.lifecycles.delete(frameId);
    const lostAt = this.options.now();
    for (const { call } of this.live.values()) {
      if (call.ownerFrameId === frameId) this.startGrace(call.id, lostAt);
    }
    for (const [id, command] of this.pending) {
      if (command.frameId === frameId) this.settle(id, { ok: false, outcome: 'not_connected', message: 'the tab that shows the call card went away' });
    }
    this.emit();
  }

  /** What a connected tab reported of itself (shown, hidden, frozen). */
  setLifecycle(frameId: number, lifecycle: FrameLifecycle): void {
    if (!this.connections.has(frameId)) return;
    this.lifecycles.set(frameId, lifecycle);
    this.emit();
  }

  isConnected(frameId: number): boolean {
    return this.connections.has(frameId);
  }

  /** The store changed these calls. */
  apply(updates: readonly CallUpdate[]): void {
    const ended: CallUpdate[] = [];
    for (const update of updates) {
      const isNew = !this.live.has(update.call.id);
      if (update.call.endedAt === null) this.live.set(update.call.id, update);
      else {
        this.live.delete(update.call.id);
        this.stopGrace(update.call.id);
      }
      if (isNew && update.call.endedAt === null && this.connections.has(update.call.ownerFrameId)) ended.push(...this.endAbandoned(update.call));
    }
    if (ended.length > 0) this.apply(ended);
    else if (updates.length > 0) this.emit();
  }

  /**
   * An operator has one line: a call starting in a connected tab means a call of theirs whose tab went away is
   * over, at the moment its tab went, not at the end of its grace period.
   */
  private endAbandoned(started: CallUpdate['call']): CallUpdate[] {
    const ended: CallUpdate[] = [];
    for (const { call } of [...this.live.values()]) {
      const lostAt = this.lostAt.get(call.id);
      if (call.id === started.id || call.operatorId !== started.operatorId || lostAt === undefined) continue;
      this.stopGrace(call.id);
      ended.push(this.store.recordSystemEvent(call.id, 'ownerLost', lostAt, null, this.options.now()));
    }
    return ended;
  }

  snapshotForFrame(frameId: number): CardSnapshot {
    const currentCallId = this.store.frame(frameId).currentCallId;
    const update = currentCallId === null ? undefined : this.live.get(currentCallId);
    if (!update) return { callId: null, active: false, muted: false, held: false };
    return { callId: update.call.callId, active: true, muted: update.summary.muted, held: update.summary.held };
  }

  view(): OperatorView {
    const current = this.currentCall();
    const call = current ? this.callView(current) : null;
    let state: OperatorState;
    if (this.connections.size === 0 && !call?.ownerConnected) state = 'not_connected';
    else if (!call) state = 'waiting';
    else if (!call.ownerConnected) state = 'not_connected';
    else if (call.requested.muted !== undefined || call.requested.held !== undefined) state = 'pending';
    else if (call.held) state = 'on_hold';
    else if (call.muted) state = 'muted';
    else state = 'live';
    let asleep = 0;
    for (const lifecycle of this.lifecycles.values()) if (lifecycle === 'frozen') asleep += 1;
    return { state, connectedFrames: this.connections.size, asleepFrames: asleep, call };
  }

  /** Asks the card that owns the current call to change; resolves when the card answered or the wait ran out. */
  command(action: CardAction, source: CommandSource): Promise<CommandResponse> {
    const current = this.currentCall();
    if (!current) return Promise.resolve({ ok: false, outcome: 'no_call', message: 'there is no call going on' });
    const conn = this.connections.get(current.call.ownerFrameId);
    if (!conn) {
      return Promise.resolve({ ok: false, outcome: 'not_connected', message: 'the tab that shows the call card is not connected' });
    }
    const view = this.callView(current);
    const requested = this.target(action, view);
    const [command, params] = 'muted' in requested
      ? (['CallCardSetMute', { muted: requested.muted }] as const)
      : (['CallCardSetHold', { held: requested.held }] as const);
    const id = conn.sendCommand(command, params, source, this.options.commandTimeoutMs);
    return new Promise<CommandResponse>((resolve) => {
      const timer = setTimeout(
        () => this.settle(id, { ok: false, outcome: 'timed_out', message: `the card did not answer within ${this.options.commandTimeoutMs} ms` }),
        this.options.commandTimeoutMs,
      );
      this.pending.set(id, { callRowId: current.call.id, frameId: current.call.ownerFrameId, requested, timer, resolve });
      this.emit();
    });
  }

  commandResult(frameId: number, message: CommandResultMessage): void {
    const command = this.pending.get(message.id);
    if (!command || command.frameId !== frameId) return;
    const outcome = message.outcome;
    const text: Record<typeof outcome, string> = {
      ok: 'done',
      card_refused: `the card refused${message.detail ? `: ${message.detail}` : ''}`,
      no_call: 'the tab has no call card',
      no_answer: 'the card did not answer',
    };
    this.settle(message.id, { ok: outcome === 'ok', outcome, message: text[outcome] });
  }

  /** Stops timers; the store stays open for whoever owns it. */
  dispose(): void {
    this.disposed = true;
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
    this.graceTimers.clear();
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, outcome: 'not_connected', message: 'the app is shutting down' });
    this.listeners.clear();
  }

  private settle(id: string, response: CommandResponse): void {
    const command = this.pending.get(id);
    if (!command) return;
    this.pending.delete(id);
    clearTimeout(command.timer);
    command.resolve({ ...response, requested: command.requested });
    this.emit();
  }

  private target(action: CardAction, view: CallView): { muted: boolean } | { held: boolean } {
    switch (action) {
      case 'mute':
        return { muted: true };
      case 'unmute':
        return { muted: false };
      case 'toggle':
        // A second press before the card answered toggles what was asked, not what was confirmed.
        return { muted: !(view.requested.muted ?? view.muted) };
      case 'hold':
        return { held: true };
      case 'unhold':
        return { held: false };
    }
  }

  /**
   * The most recent call whose owner is connected. A call whose tab is away (its grace period) is shown only while
   * no tab at all is connected (a reload): when another tab is there, the tray follows the tab that is really
   * connected, not a call that may be over.
   */
  private currentCall(): CallUpdate | undefined {
    let best: CallUpdate | undefined;
    for (const update of this.live.values()) {
      const connected = this.connections.has(update.call.ownerFrameId);
      if (!connected && this.connections.size > 0) continue;
      const bestConnected = best !== undefined && this.connections.has(best.call.ownerFrameId);
      if (!best || (connected && !bestConnected) || (connected === bestConnected && update.call.startedAt >= best.call.startedAt)) {
        best = update;
      }
    }
    return best;
  }

  private callView({ call, summary }: CallUpdate): CallView {
    const requested: CallView['requested'] = {};
    for (const command of this.pending.values()) {
      if (command.callRowId !== call.id) continue;
      if ('muted' in command.requested) requested.muted = command.requested.muted;
      else requested.held = command.requested.held;
    }
    return {
      rowId: call.id,
      callId: call.callId,
      phoneNumber: call.phoneNumber,
      direction: call.direction,
      startedAt: call.startedAt,
      muted: summary.muted,
      held: summary.held,
      mutedSince: summary.mutedSince,
      heldSince: summary.heldSince,
      ownerConnected: this.connections.has(call.ownerFrameId),
      requested,
    };
  }

  private startGrace(callRowId: number, lostAt: number): void {
    this.stopGrace(callRowId);
    this.lostAt.set(callRowId, lostAt);
    const timer = setTimeout(() => {
      this.graceTimers.delete(callRowId);
      this.lostAt.delete(callRowId);
      const update = this.live.get(callRowId);
      if (this.disposed || !update || this.connections.has(update.call.ownerFrameId)) return;
      try {
        this.apply([this.store.recordSystemEvent(callRowId, 'ownerLost', lostAt, null, this.options.now())]);
      } catch (error) {
        // The store is failing (disk full?): try again later rather than lose the record or crash the app.
        this.options.onError?.(error);
        this.startGrace(callRowId, lostAt);
      }
    }, this.options.graceMs);
    timer.unref();
    this.graceTimers.set(callRowId, timer);
  }

  private stopGrace(callRowId: number): void {
    clearTimeout(this.graceTimers.get(callRowId));
    this.graceTimers.delete(callRowId);
    this.lostAt.delete(callRowId);
  }

  private emit(): void {
    const view = this.view();
    // Listeners render; they need to hear only about real changes.
    const key = JSON.stringify(view);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    for (const listener of this.listeners) listener(view);
  }
}
