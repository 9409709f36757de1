// The one place that turns a call's stored events into its figures and its current state.
// Pure: the same events always give the same result, whether they arrived live or were replayed after an
// outage, because it works only on the times the browser recorded (corrected to the app's clock).

export const SYSTEM_EVENT_NAMES = ['callReplaced', 'ownerLost', 'ownerBack'] as const;
export type SystemEventName = (typeof SYSTEM_EVENT_NAMES)[number];

/** What the app saw or did to the operator's real microphone during a call (payload: MicrophoneEventPayload). */
export const MICROPHONE_EVENT_NAME = 'microphone';
export interface MicrophoneEventPayload {
  muted: boolean;
  /** The device's name as the OS gives it. */
  device: string | null;
  /**
   * 'call_start': the state found when the call began; 'app_start': found when the app started during a call it
   * had before; 'change': muted or unmuted; 'device': a new device; 'call_end': given back at the end.
   */
  reason: 'call_start' | 'app_start' | 'change' | 'device' | 'call_end';
}

export type EndReason = 'hangup' | 'closed' | 'replaced' | 'connection_lost';

/** The slice of a stored event that the timeline needs. */
export interface TimelineEvent {
  name: string;
  /** Corrected time, ms since the epoch. */
  at: number;
  payload: unknown;
}

/** `muted` is the card's mute; `mic_muted` the real microphone's, where the app controls one. */
export type IntervalKind = 'muted' | 'held' | 'gap' | 'mic_muted';
export interface Interval {
  kind: IntervalKind;
  from: number;
  to: number;
}

export interface CallSummary {
  startedAt: number;
  endedAt: number | null;
  endReason: EndReason | null;
  /** Up to `endedAt`, or up to `asOf` for a call still going on. */
  durationMs: number;
  mutedMs: number;
  /** Times the call was muted; a mute split by a gap counts once. */
  muteCount: number;
  longestMuteMs: number;
  heldMs: number;
  holdCount: number;
  gapMs: number;
  /** Time the real microphone was muted; null for a call without microphone events (mirror only). */
  micMutedMs: number | null;
  /** State at the end of the events (or at the end of the call). */
  muted: boolean;
  held: boolean;
  mutedSince: number | null;
  heldSince: number | null;
  intervals: Interval[];
}

function isContinuous(event: TimelineEvent): boolean {
  return (event.payload as { continuous?: unknown } | null)?.continuous === true;
}

/**
 * An owner that lost its connection and came back as the same frame, with every event it saw meanwhile,
 * hid nothing: its `ownerLost` and `ownerBack` are left out, so the replayed events in between count as if
 * they had arrived live.
 */
function continuouslyResumedOutages(events: readonly TimelineEvent[]): Set<TimelineEvent> {
  const ignored = new Set<TimelineEvent>();
  let lost: TimelineEvent | null = null;
  for (const event of events) {
    if (event.name === 'ownerLost') lost = event;
    else if (event.name === 'ownerBack') {
      if (lost && isContinuous(event)) {
        ignored.add(lost);
        ignored.add(event);
      }
      lost = null;
    }
  }
  return ignored;
}

function flag(payload: unknown, key: 'muted' | 'held'): boolean | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const value = (payload as Record<string, unknown>)[key];
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * @param events the call's events in order (by `at`, then arrival); the first must be its `initialized`.
 * @param asOf for a call that has not ended: where open intervals stop (default: the last event's time).
 */
export function summarizeCall(events: readonly TimelineEvent[], asOf?: number): CallSummary {
  const first = events[0];
  if (!first) throw new Error('a call has at least its initialized event');
  const startedAt = first.at;

  let muted = false;
  let held = false;
  let mutedSince: number | null = null;
  let heldSince: number | null = null;
  let endedAt: number | null = null;
  let endReason: EndReason | null = null;
  let lostAt: number | null = null;
  let muteCount = 0;
  let holdCount = 0;
  let micSeen = false;
  let micMutedSince: number | null = null;
  const intervals: Interval[] = [];

  const setMuted = (value: boolean, at: number): void => {
    if (value === muted) return;
    muted = value;
    if (value) {
      mutedSince = at;
      muteCount += 1;
    }
    else if (mutedSince !== null) {
      // Zero-length: a mute carried over a gap and cleared at once by a re-created card.
      if (at > mutedSince) intervals.push({ kind: 'muted', from: mutedSince, to: at });
      mutedSince = null;
    }
  };
  const setHeld = (value: boolean, at: number): void => {
    if (value === held) return;
    held = value;
    if (value) {
      heldSince = at;
      holdCount += 1;
    }
    else if (heldSince !== null) {
      if (at > heldSince) intervals.push({ kind: 'held', from: heldSince, to: at });
      heldSince = null;
    }
  };
  const end = (reason: EndReason, at: number): void => {
    if (endedAt !== null) return;
    endedAt = at;
    endReason = reason;
  };

  const ignored = continuouslyResumedOutages(events);
  for (const event of events) {
    if (ignored.has(event)) continue;
    // A call that ended stays ended, except that a lost owner may come back (see ownerBack).
    if (endedAt !== null && !(endReason === 'connection_lost' && event.name === 'ownerBack')) continue;
    switch (event.name) {
      case 'initialized':
        // A re-created card (same CALL_ID) starts unmuted and not held (BITRIX24.md §3.1).
        if (event !== first) {
          setMuted(false, event.at);
          setHeld(false, event.at);
        }
        break;
      case 'muteButtonClick':
      case 'CallCardSetMute': {
        const value = flag(event.payload, 'muted');
        if (value !== undefined) setMuted(value, event.at);
        break;
      }
      case 'holdButtonClick':
      case 'CallCardSetHold': {
        const value = flag(event.payload, 'held');
        if (value !== undefined) setHeld(value, event.at);
        break;
      }
      case MICROPHONE_EVENT_NAME: {
        // The app watches the microphone itself, not through the tab: a gap in the tab's events is no gap here.
        const value = flag(event.payload, 'muted');
        if (value === undefined) break;
        micSeen = true;
        if (value && micMutedSince === null) micMutedSince = event.at;
        else if (!value && micMutedSince !== null) {
          if (event.at > micMutedSince) intervals.push({ kind: 'mic_muted', from: micMutedSince, to: event.at });
          micMutedSince = null;
        }
        break;
      }
      case 'hangupButtonClick':
        end('hangup', event.at);
        break;
      case 'closeButtonClick':
        end('closed', event.at);
        break;
      case 'callReplaced':
        end('replaced', event.at);
        break;
      case 'ownerLost':
        lostAt = event.at;
        end('connection_lost', event.at);
        break;
      case 'ownerBack':
        if (endReason !== 'connection_lost' || lostAt === null) break;
        // What happened between the loss and the return is unknown: a gap, during which nothing counts as
        // muted or held. (An owner that came back with everything it saw was dropped from the events above.)
        intervals.push({ kind: 'gap', from: lostAt, to: event.at });
        if (mutedSince !== null) {
          intervals.push({ kind: 'muted', from: mutedSince, to: lostAt });
          mutedSince = event.at;
        }
        if (heldSince !== null) {
          intervals.push({ kind: 'held', from: heldSince, to: lostAt });
          heldSince = event.at;
        }
        endedAt = null;
        endReason = null;
        lostAt = null;
        break;
      default:
        break;
    }
  }

  const lastAt = events[events.length - 1]?.at ?? startedAt;
  const stop = endedAt ?? Math.max(asOf ?? lastAt, lastAt);
  // A call cut off by a lost connection ends at the loss; what is open then is closed there.
  if (mutedSince !== null) intervals.push({ kind: 'muted', from: mutedSince, to: stop });
  if (heldSince !== null) intervals.push({ kind: 'held', from: heldSince, to: stop });
  if (micMutedSince !== null && stop > micMutedSince) intervals.push({ kind: 'mic_muted', from: micMutedSince, to: stop });
  intervals.sort((a, b) => a.from - b.from || a.to - b.to);

  let mutedMs = 0;
  let longestMuteMs = 0;
  let heldMs = 0;
  let gapMs = 0;
  let micMutedMs = 0;
  for (const interval of intervals) {
    const length = Math.max(0, interval.to - interval.from);
    if (interval.kind === 'muted') {
      mutedMs += length;
      longestMuteMs = Math.max(longestMuteMs, length);
    } else if (interval.kind === 'held') {
      heldMs += length;
    } else if (interval.kind === 'mic_muted') {
      micMutedMs += length;
    } else {
      gapMs += length;
    }
  }
  const ended = endedAt !== null;
  return {
    startedAt,
    endedAt,
    endReason,
    durationMs: Math.max(0, stop - startedAt),
    mutedMs,
    muteCount,
    longestMuteMs,
    heldMs,
    holdCount,
    gapMs,
    micMutedMs: micSeen ? micMutedMs : null,
    muted: ended ? false : muted,
    held: ended ? false : held,
    mutedSince: ended ? null : mutedSince,
    heldSince: ended ? null : heldSince,
    intervals,
  };
}
