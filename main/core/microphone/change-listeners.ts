// The adapters' subscribers to outside changes: the first to arrive starts the OS notifications, the last to leave
// stops them, and a burst of notifications (one per role, per property, per event line) reaches them once.
export class ChangeListeners {
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  get size(): number {
    return this.listeners.size;
  }

  /** Adds one; true when it is the first (time to start watching). */
  add(listener: () => void): boolean {
    this.listeners.add(listener);
    return this.listeners.size === 1;
  }

  /** Removes one; true when it was the last (time to stop watching). */
  delete(listener: () => void): boolean {
    return this.listeners.delete(listener) && this.listeners.size === 0;
  }

  clear(): void {
    this.listeners.clear();
  }

  /** Tells every listener once, soon; further calls before then are part of the same burst. */
  emit(): void {
    if (this.scheduled || this.listeners.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const listener of [...this.listeners]) {
        try {
          listener();
        } catch {
          // a listener's failure is its own
        }
      }
    });
  }
}

/**
 * The native adapters' watch bookkeeping, one task at a time (registrations are asynchronous, and notifications may
 * arrive meanwhile). Best effort: a failed registration shows up as a failing read, which the caller reports.
 */
export class WatchTasks {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `task` after those before it; settles when it has (never rejects). */
  run(task: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(task).catch(() => {});
    return this.tail;
  }
}
