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
