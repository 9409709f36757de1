// The events of recently touched calls, kept in memory in timeline order, so that storing an event can give its
// call's figures without reading the whole call back from the database on the ack path.
import type { TimelineEvent } from '../calls/timeline.ts';

/** Calls kept at once; an operator has one call at a time, a busy PC a handful. Older ones are read again. */
const DEFAULT_CAPACITY = 256;

export class CallTimelines {
  private readonly byCall = new Map<number, TimelineEvent[]>();
  private readonly load: (callRowId: number) => TimelineEvent[];
  private readonly capacity: number;

  /** `load` reads a call's events in timeline order (by time, then row id) from the database. */
  constructor(load: (callRowId: number) => TimelineEvent[], capacity = DEFAULT_CAPACITY) {
    this.load = load;
    this.capacity = capacity;
  }

  get(callRowId: number): readonly TimelineEvent[] {
    let events = this.byCall.get(callRowId);
    if (events === undefined) {
      events = this.load(callRowId);
      if (this.byCall.size >= this.capacity) this.byCall.delete(this.byCall.keys().next().value as number);
      this.byCall.set(callRowId, events);
    }
    return events;
  }

  /**
   * An event just stored for the call. Its row id is the largest yet, so among events at the same time it comes
   * last, as the database orders them. A call not in memory is left alone: its next read includes the event.
   */
  add(callRowId: number, event: TimelineEvent): void {
    const events = this.byCall.get(callRowId);
    if (events === undefined) return;
    let index = events.length;
    while (index > 0 && (events[index - 1] as TimelineEvent).at > event.at) index -= 1;
    events.splice(index, 0, event);
  }

  /** What memory holds of the call may not be what the database holds (a rolled-back commit): read it again. */
  forget(callRowId: number): void {
    this.byCall.delete(callRowId);
  }
}
