import { describe, expect, it } from 'vitest';
import { summarizeCall, type TimelineEvent } from '../../main/core/calls/timeline.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const s = (seconds: number): number => T0 + seconds * 1000;
const ev = (name: string, seconds: number, payload: unknown = null): TimelineEvent => ({ name, at: s(seconds), payload });
const init = ev('initialized', 0, { callId: 'c1' });

describe('summarizeCall', () => {
  it('counts mute and hold intervals up to the hang-up', () => {
    const summary = summarizeCall([
      init,
      ev('muteButtonClick', 10, { muted: true }),
      ev('muteButtonClick', 25, { muted: false }),
      ev('holdButtonClick', 30, { held: true }),
      ev('CallCardSetMute', 40, { muted: true, commandId: 'x', source: 'hotkey' }),
      ev('holdButtonClick', 50, { held: false }),
      ev('hangupButtonClick', 70),
    ]);
    expect(summary).toMatchObject({
      endedAt: s(70),
      endReason: 'hangup',
      durationMs: 70_000,
      mutedMs: 15_000 + 30_000,
      muteCount: 2,
      longestMuteMs: 30_000,
      heldMs: 20_000,
      holdCount: 1,
      gapMs: 0,
      muted: false,
    });
  });

  it('ignores repeated clicks reporting the state the card is already in', () => {
    const summary = summarizeCall([
      init,
      ev('muteButtonClick', 5, { muted: true }),
      ev('muteButtonClick', 6, { muted: true }),
      ev('muteButtonClick', 9, { muted: false }),
      ev('hangupButtonClick', 10),
    ]);
    expect(summary.muteCount).toBe(1);
    expect(summary.mutedMs).toBe(4_000);
  });

  it('keeps an open call going until asOf and reports the current state', () => {
    const summary = summarizeCall([init, ev('muteButtonClick', 10, { muted: true })], s(40));
    expect(summary).toMatchObject({ endedAt: null, durationMs: 40_000, mutedMs: 30_000, muted: true, mutedSince: s(10) });
  });

  it('ignores events after the end, and a close after a hang-up keeps the hang-up', () => {
    const summary = summarizeCall([
      init,
      ev('hangupButtonClick', 20),
      ev('muteButtonClick', 21, { muted: true }),
      ev('closeButtonClick', 30),
    ]);
    expect(summary).toMatchObject({ endedAt: s(20), endReason: 'hangup', mutedMs: 0, muteCount: 0 });
  });

  it('a re-created card starts unmuted', () => {
    const summary = summarizeCall([
      init,
      ev('muteButtonClick', 10, { muted: true }),
      ev('initialized', 20, { callId: 'c1' }),
      ev('hangupButtonClick', 30),
    ]);
    expect(summary.mutedMs).toBe(10_000);
  });

  it('a lost owner ends the call at the loss, closing the open mute there', () => {
    const summary = summarizeCall([init, ev('muteButtonClick', 10, { muted: true }), ev('ownerLost', 30)]);
    expect(summary).toMatchObject({ endedAt: s(30), endReason: 'connection_lost', mutedMs: 20_000, muted: false });
  });

  it('an owner that comes back with all it saw hides nothing: no gap, replayed clicks count', () => {
    const live = summarizeCall([
      init,
      ev('muteButtonClick', 10, { muted: true }),
      ev('muteButtonClick', 50, { muted: false }),
      ev('hangupButtonClick', 90),
    ]);
    const replayed = summarizeCall([
      init,
      ev('muteButtonClick', 10, { muted: true }),
      ev('ownerLost', 30),
      ev('muteButtonClick', 50, { muted: false }),
      ev('ownerBack', 80, { continuous: true }),
      ev('hangupButtonClick', 90),
    ]);
    expect(replayed).toEqual(live);
  });

  it('an owner replaced by another frame records the outage as a gap that counts as neither muted nor held', () => {
    const summary = summarizeCall([
      init,
      ev('muteButtonClick', 10, { muted: true }),
      ev('ownerLost', 30),
      ev('ownerBack', 90, { continuous: false }),
      ev('initialized', 90, { callId: 'c1' }),
      ev('hangupButtonClick', 100),
    ]);
    expect(summary).toMatchObject({ endReason: 'hangup', gapMs: 60_000, mutedMs: 20_000, muteCount: 1, durationMs: 100_000 });
    expect(summary.intervals.map((i) => i.kind)).toEqual(['muted', 'gap']);
  });

  it('a hold that spans a gap is split around it', () => {
    const summary = summarizeCall([
      init,
      ev('holdButtonClick', 10, { held: true }),
      ev('ownerLost', 20),
      ev('ownerBack', 50, { continuous: false }),
      ev('holdButtonClick', 60, { held: false }),
      ev('hangupButtonClick', 70),
    ]);
    expect(summary).toMatchObject({ heldMs: 10_000 + 10_000, holdCount: 1, gapMs: 30_000 });
  });

  it('refuses an empty event list', () => {
    expect(() => summarizeCall([])).toThrow(/initialized/);
  });

  it('counts the real microphone apart from the card, through gaps, and up to the end', () => {
    const mic = (seconds: number, muted: boolean): TimelineEvent => ev('microphone', seconds, { muted, device: 'Jabra', reason: 'change' });
    const summary = summarizeCall([
      init,
      mic(0, false),
      ev('muteButtonClick', 10, { muted: true }),
      mic(10.2, true),
      ev('ownerLost', 20),
      ev('ownerBack', 30, { continuous: false }),
      mic(40, false),
      mic(50, true),
      ev('hangupButtonClick', 60),
      mic(61, false),
    ]);
    // The card's mute stops at the loss and resumes at the return; the microphone is watched by the app itself.
    expect(summary.mutedMs).toBe(10_000 + 30_000);
    expect(summary.micMutedMs).toBe(29_800 + 10_000);
    expect(summary.intervals.filter((i) => i.kind === 'mic_muted')).toEqual([
      { kind: 'mic_muted', from: s(10.2), to: s(40) },
      { kind: 'mic_muted', from: s(50), to: s(60) },
    ]);
  });

  it('has no microphone figure for a call the app only mirrored', () => {
    expect(summarizeCall([init, ev('muteButtonClick', 5, { muted: true }), ev('hangupButtonClick', 9)]).micMutedMs).toBeNull();
  });
});
