// A session log of a chosen size, written straight into a real store (the same schema the app writes):
// operators, tabs, calls with their figures and their events. For export tests, window tests and benchmarks.
// Each call's events are a real card sequence (opened, mutes and holds, hung up) and its stored figures are
// computed from them by the app's own timeline, so a call's row and its timeline never contradict each other.
import path from 'node:path';
import { summarizeCall, type TimelineEvent } from '../../main/core/calls/timeline.ts';
import { DATABASE_FILE, openDatabase } from '../../main/core/store/database.ts';

export interface SeedOptions {
  calls: number;
  /** Events in all, spread over the calls. */
  events: number;
  operators?: number;
  /** First call's start, ms since the epoch; calls follow every `spacingMs`. */
  start?: number;
  spacingMs?: number;
}

export function seedStore(dataDir: string, options: SeedOptions): { calls: number; events: number; mutedMs: number; heldMs: number } {
  const db = openDatabase(path.join(dataDir, DATABASE_FILE));
  const operators = options.operators ?? 20;
  const start = options.start ?? Date.UTC(2025, 11, 1, 6, 0, 0);
  const spacing = options.spacingMs ?? 60_000;
  const perCall = Math.max(1, Math.floor(options.events / options.calls));
  let mutedTotal = 0;
  let heldTotal = 0;
  let eventCount = 0;
  db.transaction(() => {
    db.prepare("INSERT INTO portals (member_id, domain, first_seen_at) VALUES ('seed', 'acme.bitrix24.com', ?)").run(start);
    const operator = db.prepare('INSERT INTO operators (portal_id, user_id, name) VALUES (1, ?, ?)');
    const frame = db.prepare("INSERT INTO frames (portal_id, operator_id, app_sid, origin, first_seen_at) VALUES (1, ?, ?, 'https://worker.test', ?)");
    for (let o = 1; o <= operators; o += 1) {
      operator.run(String(o), `Оператор ${o}`);
      frame.run(o, `seed-${o}`, start);
    }
    const call = db.prepare(`INSERT INTO calls (portal_id, operator_id, owner_frame_id, call_id, phone_number, direction, started_at, ended_at,
      end_reason, duration_ms, muted_ms, mute_count, longest_mute_ms, held_ms, hold_count, gap_ms) VALUES (1, ?, ?, ?, ?, ?, ?, ?, 'hangup', ?, ?, ?, ?, ?, ?, 0)`);
    const event = db.prepare(`INSERT INTO events (event_id, frame_id, call_id, seq, name, source, payload, client_at, at, received_at)
      VALUES (?, ?, ?, ?, ?, 'card', ?, ?, ?, ?)`);
    for (let c = 1; c <= options.calls; c += 1) {
      const op = ((c - 1) % operators) + 1;
      const startedAt = start + c * spacing;
      const duration = 30_000 + (c % 600) * 1_000;
      const n = c === options.calls ? options.events - eventCount : Math.min(perCall, options.events - eventCount);
      // Between opening and hanging up, the card is muted and unmuted, held and resumed, in an order that
      // differs from call to call; times are whole seconds so exported seconds add up exactly.
      const events: Array<TimelineEvent & { payload: unknown }> = [];
      for (let e = 0; e < n; e += 1) {
        const at = startedAt + Math.floor((duration * e) / Math.max(1, n) / 1_000) * 1_000;
        const step = (e + c) % 4;
        const name = e === 0 ? 'initialized' : e === n - 1 ? 'hangupButtonClick' : step < 2 ? 'muteButtonClick' : 'holdButtonClick';
        const payload = name === 'initialized' ? { callId: `externalCall.seed.${c}` } : name === 'muteButtonClick' ? { muted: step === 0 } : name === 'holdButtonClick' ? { held: step === 2 } : null;
        events.push({ name, at, payload });
      }
      // A call seeded with too few events to include its hang-up still ends, at the end of its duration.
      const figures = summarizeCall(events.at(-1)?.name === 'hangupButtonClick' ? events : [...events, { name: 'hangupButtonClick', at: startedAt + duration, payload: null }]);
      mutedTotal += figures.mutedMs;
      heldTotal += figures.heldMs;
      call.run(op, op, `externalCall.seed.${c}`, `+7495${String(1_000_000 + c).slice(-7)}`, c % 3 === 0 ? 'outgoing' : 'incoming', startedAt, figures.endedAt,
        figures.durationMs, figures.mutedMs, figures.muteCount, figures.longestMuteMs, figures.heldMs, figures.holdCount);
      for (const e of events) {
        eventCount += 1;
        event.run(`seed-${c}-${eventCount}`, op, c, eventCount, e.name, e.payload === null ? null : JSON.stringify(e.payload), e.at, e.at, e.at + 5);
      }
    }
  })();
  db.close();
  return { calls: options.calls, events: eventCount, mutedMs: mutedTotal, heldMs: heldTotal };
}
