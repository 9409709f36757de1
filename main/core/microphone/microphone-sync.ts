// Keeps the operator's real microphone and the call card saying the same thing, and records what the microphone
// did during each call. The rules (docs/microphone.md):
// - the card muted or unmuted (a click, or the app's own command) → the microphone follows;
// - a hotkey, the tray or the CLI → the microphone at once, then the card (Companion.command);
// - the microphone changed outside the app → recorded with source `system`, and the card is brought along;
// - the call ends → the microphone is unmuted if the app muted it (settable), never if the operator had;
// - what the app muted is written down before muting (a claim file), so a restart with no call gives it back, with
//   whatever the adapter needs to give it back as it was (macOS's volume fallback: the level before mute);
// - the default device changed mid-call while muted → the new device is muted too.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { CommandSource } from '../../../common/card-events.ts';
import type { CallView, OperatorView } from '../calls/call-state.ts';
import type { MicrophoneEventPayload } from '../calls/timeline.ts';
import type { CallUpdate } from '../store/session-store.ts';
import type { DeviceChoice, MicrophonePort, MicrophoneReading, RestoreState, SetMutedOptions } from './microphone-port.ts';

export const END_OF_CALL_RULES = ['app', 'always', 'never'] as const;
/** At the end of a call: unmute what the app muted (`app`), unmute whatever the state (`always`), or leave it. */
export type EndOfCallRule = (typeof END_OF_CALL_RULES)[number];

export const CLAIM_FILE = 'microphone-claim.json';

/** How long card and microphone may disagree (a command in flight) before it is shown as a problem. */
const DISAGREEMENT_GRACE_MS = 5_000;

export interface MicrophoneStatus {
  backend: string;
  /** The device the choice resolves to, by name; null when there is none. */
  device: string | null;
  muted: boolean | null;
  /** The app muted it and will give it back. */
  controlledByApp: boolean;
  /** Why the microphone cannot be read or changed, if so. */
  error: string | null;
  /** Card and microphone have said different things for longer than a command takes. */
  disagreesWithCard: boolean;
}

/** The devices the app muted and owes back (more than one when the default device changed while muted). */
interface Claim {
  devices: ClaimedDevice[];
  mutedAt: number;
}

interface ClaimedDevice {
  id: string;
  name: string;
  /** What the adapter asked to keep to give the device back as it was (absent in claims older than it, and for
   * devices muted by a real mute control). */
  restore?: RestoreState;
}

export interface MicrophoneSyncDeps {
  port: MicrophonePort;
  choice: DeviceChoice;
  endOfCall: EndOfCallRule;
  dataDir: string;
  now: () => number;
  /** The live call, as the call state sees it. */
  view(): OperatorView;
  onViewChange(listener: (view: OperatorView) => void): () => void;
  /** Stores a microphone event with the call and returns the refreshed call. */
  record(callRowId: number, at: number, payload: MicrophoneEventPayload, source: 'card' | CommandSource): CallUpdate;
  /** Hands refreshed calls to the call state. */
  apply(updates: CallUpdate[]): void;
  /** Asks the card to follow the microphone. */
  commandCard(action: 'mute' | 'unmute', source: CommandSource): Promise<unknown>;
  log(entry: { event: string } & Record<string, unknown>): void;
}

export class MicrophoneSync {
  private readonly deps: MicrophoneSyncDeps;
  private reading: MicrophoneReading = { device: null, muted: null };
  private error: string | null = null;
  private claim: Claim | null = null;
  /** The call being followed and what its card last said. */
  private tracked: { rowId: number; cardMuted: boolean } | null = null;
  private disagreeingSince: number | null = null;
  /** Operations on the device run one at a time, in order, so a reading never overtakes a change. */
  private queue: Promise<void> = Promise.resolve();
  /** Tasks queued or running. */
  private tasks = 0;
  private readonly listeners = new Set<() => void>();
  private unsubscribers: Array<() => void> = [];
  private stopped = false;

  constructor(deps: MicrophoneSyncDeps) {
    this.deps = deps;
  }

  get claimFile(): string {
    return path.join(this.deps.dataDir, CLAIM_FILE);
  }

  async start(): Promise<void> {
    this.claim = readClaim(this.claimFile);
    await this.serial(async () => {
      await this.refreshReading();
      // A claim left by a run that ended while the app had the microphone muted: with no call to go on with, give
      // it back now. With a call restored (its tab may come back), the end of that call gives it back.
      if (this.claim && !this.deps.view().call) await this.giveBack('restart');
    });
    this.unsubscribers.push(this.deps.port.subscribe(() => void this.serial(() => this.outsideChange())));
    this.unsubscribers.push(this.deps.onViewChange((view) => this.follow(view)));
    // A call there already is one the last run left open: its start was recorded then.
    this.follow(this.deps.view(), 'app_start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    await this.queue;
    this.listeners.clear();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): MicrophoneStatus {
    return {
      backend: this.deps.port.backend,
      device: this.reading.device?.name ?? null,
      muted: this.reading.muted,
      controlledByApp: this.claim !== null,
      error: this.error,
      disagreesWithCard: this.disagreeingSince !== null && this.deps.now() - this.disagreeingSince >= DISAGREEMENT_GRACE_MS,
    };
  }

  /** The microphone's mute, when known: what the tray shows as the truth. */
  get muted(): boolean | null {
    return this.error === null ? this.reading.muted : null;
  }

  /** A hotkey, the tray, the CLI or the window asked: the microphone first (it is what the customer hears). */
  setFromCommand(muted: boolean, source: CommandSource): Promise<void> {
    return this.serial(() => this.set(muted, source, 'change'));
  }

  // ---------------------------------------------------------------------------------------------------------

  private follow(view: OperatorView, firstSeen: 'call_start' | 'app_start' = 'call_start'): void {
    if (this.stopped) return;
    const call = view.call;
    if (this.tracked && call?.rowId !== this.tracked.rowId) {
      this.tracked = null;
      void this.serial(() => this.callEnded());
    }
    if (!call) {
      this.updateDisagreement(null);
      return;
    }
    if (!this.tracked) {
      this.tracked = { rowId: call.rowId, cardMuted: call.muted };
      void this.serial(() => this.callStarted(call, firstSeen));
      return;
    }
    if (call.muted !== this.tracked.cardMuted) {
      this.tracked.cardMuted = call.muted;
      // The card changed. If it was the app's own command, the microphone was set first and agrees already.
      void this.serial(async () => {
        if (this.reading.muted !== call.muted) await this.set(call.muted, 'card', 'change');
      });
    }
    this.updateDisagreement(call);
  }

  private async callStarted(call: CallView, reason: 'call_start' | 'app_start'): Promise<void> {
    await this.refreshReading();
    this.recordReading(reason, 'system');
    // A microphone muted before the call stays muted; the card is brought along so it does not say "live".
    if (this.reading.muted !== null && this.reading.muted !== call.muted) await this.bringCard(this.reading.muted);
  }

  private async callEnded(): Promise<void> {
    const rule = this.deps.endOfCall;
    if (rule === 'never') return;
    if (rule === 'app' && !this.claim) return;
    if (rule === 'always' && this.reading.muted !== true && !this.claim) return;
    await this.giveBack('call_end');
  }

  /** Unmutes what the app muted (or, by the `always` rule, the microphone), and forgets the claim. */
  private async giveBack(why: 'call_end' | 'restart'): Promise<void> {
    const claim = this.claim;
    try {
      if (claim) {
        // Every claimed device that is still there, by its id; one unplugged meanwhile has nothing to give back.
        const present = new Set((await this.deps.port.list()).map((d) => d.id));
        for (const device of claim.devices) if (present.has(device.id)) await this.deps.port.setMuted({ kind: 'named', name: device.id }, false, this.muteOptions());
      } else {
        await this.deps.port.setMuted(this.deps.choice, false, this.muteOptions());
      }
      this.deps.log({ event: 'microphoneGivenBack', why, devices: claim?.devices.map((d) => d.name) ?? [this.reading.device?.name ?? null] });
      this.dropClaim();
      await this.refreshReading();
    } catch (error) {
      this.failed(error);
    }
    this.changed();
  }

  private async set(muted: boolean, source: 'card' | CommandSource, reason: MicrophoneEventPayload['reason']): Promise<void> {
    try {
      if (muted) {
        // Written to disk before the microphone is touched: a crash between the two leaves a claim, never a
        // muted microphone that nobody will give back.
        const current = this.reading.device ?? (await this.deps.port.read(this.deps.choice)).device;
        if (current && !this.claim?.devices.some((d) => d.id === current.id)) this.claimDevice({ id: current.id, name: current.name });
      }
      this.reading = await this.deps.port.setMuted(this.deps.choice, muted, this.muteOptions());
      this.error = null;
      if (!muted) this.dropClaim();
      this.recordReading(reason, source);
    } catch (error) {
      this.failed(error);
    }
    this.changed();
  }

  private async outsideChange(): Promise<void> {
    const before = this.reading;
    await this.refreshReading();
    const after = this.reading;
    if (after.device?.id !== before.device?.id) {
      this.recordReading('device', 'system');
      // The call's mute follows it to the new device (a headset plugged in while muted stays muted).
      const shouldBeMuted = this.tracked !== null && (this.tracked.cardMuted || this.claim !== null);
      if (after.device && shouldBeMuted && after.muted === false) await this.set(true, 'system', 'device');
      this.changed();
      return;
    }
    if (after.muted === before.muted || after.muted === null) return;
    // Someone else muted or unmuted it: a keyboard key, the OS, the softphone.
    if (!after.muted) this.dropClaim();
    this.recordReading('change', 'system');
    this.changed();
    if (this.tracked && this.tracked.cardMuted !== after.muted) await this.bringCard(after.muted);
  }

  private async bringCard(muted: boolean): Promise<void> {
    try {
      await this.deps.commandCard(muted ? 'mute' : 'unmute', 'system');
    } catch (error) {
      this.deps.log({ event: 'microphoneCardFollowFailed', message: error instanceof Error ? error.message : String(error) });
    }
  }

  private recordReading(reason: MicrophoneEventPayload['reason'], source: 'card' | CommandSource): void {
    const tracked = this.tracked;
    if (!tracked || this.reading.muted === null) return;
    try {
      const update = this.deps.record(tracked.rowId, this.deps.now(), { muted: this.reading.muted, device: this.reading.device?.name ?? null, reason }, source);
      this.deps.apply([update]);
    } catch (error) {
      // The call may have ended meanwhile, or the store is failing: the microphone itself is what matters now.
      this.deps.log({ event: 'microphoneRecordFailed', message: error instanceof Error ? error.message : String(error) });
    }
  }

  private async refreshReading(): Promise<void> {
    try {
      this.reading = await this.deps.port.read(this.deps.choice);
      this.error = this.reading.device ? null : 'no microphone found';
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.error) this.deps.log({ event: 'microphoneFailed', message });
    this.error = message;
  }

  private updateDisagreement(call: CallView | null): void {
    const disagree = call !== null && this.error === null && this.reading.muted !== null && call.requested.muted === undefined && call.muted !== this.reading.muted;
    if (!disagree) this.disagreeingSince = null;
    else this.disagreeingSince ??= this.deps.now();
  }

  /** What the adapter may need around a change: a place to keep its restore state (durable before the device is
   * touched), and that state back when giving the device back, this run's or a crashed run's. */
  private muteOptions(): SetMutedOptions {
    return {
      beforeMute: (device, restore) => this.claimDevice({ id: device.id, name: device.name, restore }),
      restoreFor: (deviceId) => this.claim?.devices.find((d) => d.id === deviceId)?.restore,
    };
  }

  /** Adds a device to the claim, or replaces its entry (the adapter saw it live again: its state now is the one). */
  private claimDevice(device: ClaimedDevice): void {
    const others = (this.claim?.devices ?? []).filter((d) => d.id !== device.id);
    this.writeClaim({ devices: [...others, device], mutedAt: this.claim?.mutedAt ?? this.deps.now() });
  }

  private writeClaim(claim: Claim): void {
    const file = this.claimFile;
    const temporary = `${file}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(claim));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    // The rename is an entry in the folder: durable only once the folder is.
    syncFolder(this.deps.dataDir);
    this.claim = claim;
  }

  private dropClaim(): void {
    if (!this.claim) return;
    this.claim = null;
    rmSync(this.claimFile, { force: true });
    // A removal lost to a crash would bring the claim back, and the next start would unmute what the operator muted.
    // Best effort: the microphone is already given back, and this runs where nothing would catch a throw.
    try {
      syncFolder(this.deps.dataDir);
    } catch (error) {
      this.deps.log({ event: 'microphoneClaimSyncFailed', message: error instanceof Error ? error.message : String(error) });
    }
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = (): Promise<void> => (this.stopped ? Promise.resolve() : task());
    // With nothing before it, a task starts at once: a card's mute reaches the device while the event that asked
    // for it is still being committed (the state hears of it before the commit's fsync).
    const next = this.tasks === 0 ? run() : this.queue.then(run);
    this.tasks += 1;
    this.queue = next.catch(() => {}).finally(() => (this.tasks -= 1));
    return next;
  }

  private changed(): void {
    if (this.tracked) this.updateDisagreement(this.deps.view().call);
    for (const listener of this.listeners) listener();
  }
}

/** fsync on a folder makes its entries durable (a rename, a removal). Windows opens no folder as a file; NTFS journals
 * its renames. */
function syncFolder(folder: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readClaim(file: string): Claim | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Claim>;
    const devices = Array.isArray(parsed.devices) ? parsed.devices.map(claimedDevice).filter((d) => d !== null) : [];
    if (devices.length > 0 && typeof parsed.mutedAt === 'number') return { devices, mutedAt: parsed.mutedAt };
  } catch {
    // No claim (the usual case), or a torn write from a crash: treat as none.
  }
  return null;
}

/** A claim entry as read from the file: id and name, and the restore state when it is a flat object (claims written
 * before there was one have none; the adapter falls back to its default then). */
function claimedDevice(entry: unknown): ClaimedDevice | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const { id, name, restore } = entry as Record<string, unknown>;
  if (typeof id !== 'string' || typeof name !== 'string') return null;
  return isRestoreState(restore) ? { id, name, restore } : { id, name };
}

function isRestoreState(value: unknown): value is RestoreState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
}
