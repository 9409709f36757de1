// Pairing requests waiting for the operator's answer. The core asks (`ask`); the pairing window lists them and
// answers (`decide`). Requests are answered in any order; each resolves the worker's wait once.
import { randomUUID } from 'node:crypto';
import type { PairingRequestView } from '../../../common/ipc.ts';
import { PAIRING_PROMPT_TIMEOUT_MS, type PairingRequest } from '../pairing.ts';

interface Pending {
  view: PairingRequestView;
  resolve(allow: boolean | null): void;
  timer: NodeJS.Timeout;
}

export class PairingPrompts {
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly timeoutMs: number;

  /** An unanswered prompt goes away after `timeoutMs` (the core stops waiting for it at the same time). */
  constructor(now: () => number = Date.now, timeoutMs = PAIRING_PROMPT_TIMEOUT_MS) {
    this.now = now;
    this.timeoutMs = timeoutMs;
  }

  /** The approval callback the core calls for a new (origin, portal, operator). */
  ask = (request: PairingRequest): Promise<boolean | null> =>
    new Promise((resolve) => {
      const id = randomUUID();
      const timer = setTimeout(() => this.settle(id, null), this.timeoutMs);
      timer.unref();
      this.pending.set(id, { view: { id, ...request, askedAt: this.now() }, resolve, timer });
      this.changed();
    });

  list(): PairingRequestView[] {
    return [...this.pending.values()].map((p) => p.view);
  }

  decide(id: string, allow: boolean): boolean {
    return this.settle(id, allow);
  }

  private settle(id: string, allow: boolean | null): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(allow);
    this.changed();
    return true;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** At quit: every waiting worker is refused this time (it asks again next time; nothing is remembered). */
  dispose(): void {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.resolve(null);
    }
    this.pending.clear();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
