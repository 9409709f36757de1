// Pairing requests waiting for the operator's answer. The core asks (`ask`); the pairing window lists them and
// answers (`decide`). Requests are answered in any order; each resolves the worker's wait once.
import { randomUUID } from 'node:crypto';
import type { PairingRequestView } from '../../../common/ipc.ts';
import type { PairingRequest } from '../pairing.ts';

interface Pending {
  view: PairingRequestView;
  resolve(allow: boolean | null): void;
}

export class PairingPrompts {
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** The approval callback the core calls for a new (origin, portal, operator). */
  ask = (request: PairingRequest): Promise<boolean | null> =>
    new Promise((resolve) => {
      const id = randomUUID();
      this.pending.set(id, { view: { id, ...request, askedAt: this.now() }, resolve });
      this.changed();
    });

  list(): PairingRequestView[] {
    return [...this.pending.values()].map((p) => p.view);
  }

  decide(id: string, allow: boolean): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
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
    for (const entry of this.pending.values()) entry.resolve(null);
    this.pending.clear();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
