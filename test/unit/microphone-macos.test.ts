// The macOS microphone adapter's logic, driven by a stand-in HAL that answers as CoreAudio's AudioObject API does
// (four-char selectors and scopes, 'who?' for a property an object lacks, '!obj' for an object that is gone,
// listener procs called after the change, on the HAL's thread), plus the plumbing's pure helpers against known bytes.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAIM_FILE, MicrophoneSync } from '../../main/core/microphone/microphone-sync.ts';
import { MicrophoneError, type MicrophonePort } from '../../main/core/microphone/microphone-port.ts';
import { openMacCoreAudio, type MacCoreAudioNative, type PropertyAddress } from '../../main/core/microphone/macos-coreaudio.ts';
import { loadKoffi } from '../../main/core/microphone/windows-com.ts';
import {
  COREAUDIO_FUNCTIONS,
  COREFOUNDATION_FUNCTIONS,
  MAC_LISTENER_PROC,
  OSStatusError,
  decodePropertyAddresses,
  fourCC,
  fourCCText,
  kAudioDevicePropertyMute,
  kAudioDevicePropertyVolumeScalar,
  kAudioHardwareBadObjectError,
  kAudioHardwareNotRunningError,
  kAudioHardwarePropertyDefaultInputDevice,
  kAudioHardwarePropertyDevices,
  kAudioHardwareUnknownPropertyError,
  kAudioObjectPropertyScopeGlobal,
  kAudioObjectPropertyScopeInput,
  kAudioObjectSystemObject,
  osStatusText,
  propertyAddressBytes,
} from '../../main/core/microphone/macos-native.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

// ---------------------------------------------------------------------------------------------------------------
// A stand-in HAL. Object ids are small integers as on a real Mac (the system object is 1); UIDs and names are the
// shapes CoreAudio reports for built-in and USB devices.

interface FakeDevice {
  objectId: number;
  uid: string;
  name: string;
  inputStreams: number;
  /** Input-scope mute control: absent, present read-only, or settable. */
  mute: 'absent' | 'readonly' | 'settable';
  muted: number;
  /** Input-scope volume scalar, or null when there is none. */
  volume: number | null;
}

const code = (value: number) => fourCCText(value);
const key = (objectId: number, a: PropertyAddress) => `${objectId}/${code(a.selector)}/${code(a.scope)}/${a.element}`;

class FakeHal implements MacCoreAudioNative {
  readonly devices = new Map<number, FakeDevice>();
  defaultInput = 0;
  readonly listeners = new Map<string, Set<(objectId: number, addresses: PropertyAddress[]) => void>>();
  startStatus = 0;
  readonly sets: string[] = [];

  add(device: Partial<FakeDevice> & Pick<FakeDevice, 'objectId' | 'uid' | 'name'>): void {
    this.devices.set(device.objectId, { inputStreams: 1, mute: 'settable', muted: 0, volume: 0.6, ...device });
  }

  private device(objectId: number): FakeDevice {
    const d = this.devices.get(objectId);
    if (!d) throw new OSStatusError('AudioObjectGetPropertyData', kAudioHardwareBadObjectError);
    return d;
  }

  private has(objectId: number, a: PropertyAddress): boolean {
    if (objectId === kAudioObjectSystemObject) return a.selector === kAudioHardwarePropertyDefaultInputDevice || a.selector === kAudioHardwarePropertyDevices;
    const d = this.devices.get(objectId);
    if (!d) return false;
    if (a.selector === kAudioDevicePropertyMute) return a.scope === kAudioObjectPropertyScopeInput && a.element === 0 && d.mute !== 'absent';
    if (a.selector === kAudioDevicePropertyVolumeScalar) return a.scope === kAudioObjectPropertyScopeInput && a.element === 0 && d.volume !== null;
    return ['stm#', 'lnam', 'uid '].includes(code(a.selector)!);
  }

  private require(objectId: number, a: PropertyAddress): FakeDevice {
    const d = this.device(objectId);
    if (!this.has(objectId, a)) throw new OSStatusError('AudioObjectGetPropertyData', kAudioHardwareUnknownPropertyError);
    return d;
  }

  /** Listener procs run on the HAL's notification thread, after the change. */
  private fire(objectId: number, a: PropertyAddress): void {
    for (const l of this.listeners.get(key(objectId, a)) ?? []) setTimeout(() => l(objectId, [a]), 1);
  }

  async start(): Promise<void> {
    if (this.startStatus) throw new OSStatusError('AudioObjectSetPropertyData(kAudioHardwarePropertyRunLoop)', this.startStatus);
  }

  async hasProperty(objectId: number, a: PropertyAddress): Promise<boolean> {
    return this.has(objectId, a);
  }

  async isPropertySettable(objectId: number, a: PropertyAddress): Promise<boolean> {
    const d = this.require(objectId, a);
    if (a.selector === kAudioDevicePropertyMute) return d.mute === 'settable';
    return a.selector === kAudioDevicePropertyVolumeScalar;
  }

  async getPropertyDataSize(objectId: number, a: PropertyAddress): Promise<number> {
    if (objectId === kAudioObjectSystemObject && a.selector === kAudioHardwarePropertyDevices) return 4 * this.devices.size;
    const d = this.require(objectId, a);
    // An output-only device has no input-scope streams: the size is 0.
    if (code(a.selector) === 'stm#') return a.scope === kAudioObjectPropertyScopeInput ? 4 * d.inputStreams : 4;
    return 4;
  }

  async getUInt32(objectId: number, a: PropertyAddress): Promise<number> {
    if (objectId === kAudioObjectSystemObject && a.selector === kAudioHardwarePropertyDefaultInputDevice) return this.defaultInput;
    return this.require(objectId, a).muted;
  }

  async getUInt32Array(objectId: number, a: PropertyAddress): Promise<number[]> {
    if (objectId !== kAudioObjectSystemObject || a.selector !== kAudioHardwarePropertyDevices) throw new OSStatusError('AudioObjectGetPropertyData', kAudioHardwareUnknownPropertyError);
    return [...this.devices.keys()];
  }

  async getFloat32(objectId: number, a: PropertyAddress): Promise<number> {
    return this.require(objectId, a).volume!;
  }

  async getCFString(objectId: number, a: PropertyAddress): Promise<string> {
    const d = this.require(objectId, a);
    return code(a.selector) === 'uid ' ? d.uid : d.name;
  }

  async setUInt32(objectId: number, a: PropertyAddress, value: number): Promise<void> {
    const d = this.require(objectId, a);
    if (a.selector !== kAudioDevicePropertyMute || d.mute !== 'settable') throw new OSStatusError('AudioObjectSetPropertyData', kAudioHardwareUnknownPropertyError);
    this.sets.push(`${d.name}:mute=${value}`);
    const changed = d.muted !== value;
    d.muted = value;
    if (changed) this.fire(objectId, a);
  }

  async setFloat32(objectId: number, a: PropertyAddress, value: number): Promise<void> {
    const d = this.require(objectId, a);
    this.sets.push(`${d.name}:volume=${value}`);
    const changed = d.volume !== value;
    d.volume = value;
    if (changed) this.fire(objectId, a);
  }

  async addPropertyListener(objectId: number, a: PropertyAddress, listener: (objectId: number, addresses: PropertyAddress[]) => void): Promise<() => Promise<void>> {
    if (objectId !== kAudioObjectSystemObject) this.device(objectId);
    const k = key(objectId, a);
    if (!this.listeners.has(k)) this.listeners.set(k, new Set());
    this.listeners.get(k)!.add(listener);
    return async () => {
      this.listeners.get(k)?.delete(listener);
      if (this.listeners.get(k)?.size === 0) this.listeners.delete(k);
    };
  }

  async stop(): Promise<void> {
    this.listeners.clear();
  }

  // --- the outside world ---
  changeMute(objectId: number, muted: boolean): void {
    this.devices.get(objectId)!.muted = muted ? 1 : 0;
    this.fire(objectId, { selector: kAudioDevicePropertyMute, scope: kAudioObjectPropertyScopeInput, element: 0 });
  }
  changeVolume(objectId: number, volume: number): void {
    this.devices.get(objectId)!.volume = volume;
    this.fire(objectId, { selector: kAudioDevicePropertyVolumeScalar, scope: kAudioObjectPropertyScopeInput, element: 0 });
  }
  setDefault(objectId: number): void {
    this.defaultInput = objectId;
    this.fire(kAudioObjectSystemObject, { selector: kAudioHardwarePropertyDefaultInputDevice, scope: kAudioObjectPropertyScopeGlobal, element: 0 });
  }
  unplug(objectId: number, fallback: number): void {
    this.devices.delete(objectId);
    this.fire(kAudioObjectSystemObject, { selector: kAudioHardwarePropertyDevices, scope: kAudioObjectPropertyScopeGlobal, element: 0 });
    if (this.defaultInput === objectId) this.setDefault(fallback);
  }
  plug(device: Partial<FakeDevice> & Pick<FakeDevice, 'objectId' | 'uid' | 'name'>): void {
    this.add(device);
    this.fire(kAudioObjectSystemObject, { selector: kAudioHardwarePropertyDevices, scope: kAudioObjectPropertyScopeGlobal, element: 0 });
  }
}

const BUILTIN = 38;
const SPEAKERS = 45;
const JABRA = 71;
const BLUE_YETI = 90;
const CHEAP_USB = 104;
const JABRA_UID = 'AppleUSBAudioEngine:GN Audio A/S:Jabra Evolve2 65:000000000000:2';

function desk(): FakeHal {
  const hal = new FakeHal();
  // Built-in microphones commonly have an input volume but no mute control.
  hal.add({ objectId: BUILTIN, uid: 'BuiltInMicrophoneDevice', name: 'MacBook Pro Microphone', mute: 'absent', volume: 0.6 });
  hal.add({ objectId: SPEAKERS, uid: 'BuiltInSpeakerDevice', name: 'MacBook Pro Speakers', inputStreams: 0 });
  hal.add({ objectId: JABRA, uid: JABRA_UID, name: 'Jabra Evolve2 65', mute: 'settable', volume: 1 });
  hal.defaultInput = JABRA;
  return hal;
}

const DEFAULT = { kind: 'default' } as const;
const settle = () => new Promise((r) => setTimeout(r, 30));
function counter() {
  let n = 0;
  return { fn: () => void (n += 1), get count() { return n; } };
}

describe('macOS CoreAudio adapter', () => {
  it('lists input devices only (input-scope streams), by UID and name, the default input marked', async () => {
    const mic = openMacCoreAudio({ native: desk() });
    expect(mic.backend).toBe('coreaudio-macos');
    expect(await mic.list()).toEqual([
      { id: 'BuiltInMicrophoneDevice', name: 'MacBook Pro Microphone', isDefault: false },
      { id: JABRA_UID, name: 'Jabra Evolve2 65', isDefault: true },
    ]);
  });

  it('mutes through kAudioDevicePropertyMute on the input scope where the device has one', async () => {
    const hal = desk();
    const mic = openMacCoreAudio({ native: hal });
    expect(await mic.read(DEFAULT)).toEqual({ device: { id: JABRA_UID, name: 'Jabra Evolve2 65', isDefault: true }, muted: false });
    expect((await mic.setMuted(DEFAULT, true)).muted).toBe(true);
    expect(hal.devices.get(JABRA)!.muted).toBe(1);
    expect(hal.devices.get(JABRA)!.volume).toBe(1);
    expect((await mic.setMuted(DEFAULT, false)).muted).toBe(false);
    expect(hal.sets).toEqual(['Jabra Evolve2 65:mute=1', 'Jabra Evolve2 65:mute=0']);
  });

  it('falls back to the input volume where there is no mute control: 0 to mute, the previous volume back to unmute', async () => {
    const hal = desk();
    const mic = openMacCoreAudio({ native: hal });
    const builtin = { kind: 'named', name: 'macbook pro microphone' } as const;
    expect(await mic.setMuted(builtin, true)).toEqual({ device: { id: 'BuiltInMicrophoneDevice', name: 'MacBook Pro Microphone', isDefault: false }, muted: true });
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0);
    expect((await mic.read(builtin)).muted).toBe(true);
    expect((await mic.setMuted(builtin, true)).muted).toBe(true); // muting twice keeps the remembered volume
    expect((await mic.setMuted(builtin, false)).muted).toBe(false);
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0.6);
    // Unmuting a device already live leaves its volume alone.
    expect((await mic.setMuted(builtin, false)).muted).toBe(false);
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0.6);
  });

  it('a volume at 0 the app never saw otherwise is unmuted to the configured level', async () => {
    const hal = desk();
    hal.devices.get(BUILTIN)!.volume = 0;
    const mic = openMacCoreAudio({ native: hal, unmuteVolume: 0.5 });
    const builtin = { kind: 'named', name: 'BuiltInMicrophoneDevice' } as const;
    expect((await mic.read(builtin)).muted).toBe(true);
    expect((await mic.setMuted(builtin, false)).muted).toBe(false);
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0.5);
  });

  it('a mute that exists but is not settable (AudioObjectIsPropertySettable false) takes the volume path', async () => {
    const hal = desk();
    hal.add({ objectId: CHEAP_USB, uid: 'AppleUSBAudioEngine:C-Media:USB PnP Sound Device:1', name: 'USB PnP Sound Device', mute: 'readonly', muted: 0, volume: 0.9 });
    const mic = openMacCoreAudio({ native: hal });
    const usb = { kind: 'named', name: 'USB PnP Sound Device' } as const;
    expect((await mic.setMuted(usb, true)).muted).toBe(true);
    expect(hal.devices.get(CHEAP_USB)).toMatchObject({ muted: 0, volume: 0 });
    await mic.setMuted(usb, false);
    expect(hal.devices.get(CHEAP_USB)!.volume).toBeCloseTo(0.9);
  });

  it('a device with neither control reads muted null and refuses to mute', async () => {
    const hal = desk();
    hal.add({ objectId: BLUE_YETI, uid: 'AppleUSBAudioEngine:Blue:Yeti:1', name: 'Yeti Stereo Microphone', mute: 'absent', volume: null });
    const mic = openMacCoreAudio({ native: hal });
    const yeti = { kind: 'named', name: 'Yeti Stereo Microphone' } as const;
    expect(await mic.read(yeti)).toEqual({ device: { id: 'AppleUSBAudioEngine:Blue:Yeti:1', name: 'Yeti Stereo Microphone', isDefault: false }, muted: null });
    await expect(mic.setMuted(yeti, true)).rejects.toMatchObject({ name: 'MicrophoneError', code: 'failed' });
  });

  it('with no input device (default input kAudioObjectUnknown) the reading is empty and muting is no_device', async () => {
    const hal = new FakeHal();
    hal.add({ objectId: SPEAKERS, uid: 'BuiltInSpeakerDevice', name: 'MacBook Pro Speakers', inputStreams: 0 });
    const mic = openMacCoreAudio({ native: hal });
    expect(await mic.list()).toEqual([]);
    expect(await mic.read(DEFAULT)).toEqual({ device: null, muted: null });
    await expect(mic.setMuted(DEFAULT, true)).rejects.toMatchObject({ code: 'no_device' });
    await expect(mic.setMuted({ kind: 'named', name: 'Jabra Evolve2 65' }, true)).rejects.toMatchObject({ code: 'no_device' });
  });

  it("a device unplugged mid-call ('!obj') is resolved afresh: the default has moved on", async () => {
    const hal = desk();
    const mic = openMacCoreAudio({ native: hal });
    await mic.read(DEFAULT);
    // Gone between listing and setting: the first setUInt32 answers '!obj'.
    const realSet = hal.setUInt32.bind(hal);
    let first = true;
    hal.setUInt32 = async (objectId, a, value) => {
      if (first) {
        first = false;
        hal.unplug(JABRA, BUILTIN);
        throw new OSStatusError('AudioObjectSetPropertyData', kAudioHardwareBadObjectError);
      }
      return realSet(objectId, a, value);
    };
    const reading = await mic.setMuted(DEFAULT, true);
    expect(reading).toEqual({ device: { id: 'BuiltInMicrophoneDevice', name: 'MacBook Pro Microphone', isDefault: true }, muted: true });
  });

  it('a HAL that will not start is unavailable; other OSStatus failures are failed with their code', async () => {
    const hal = desk();
    hal.startStatus = kAudioHardwareNotRunningError;
    const mic = openMacCoreAudio({ native: hal });
    await expect(mic.list()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining("'stop'") });

    const hal2 = desk();
    hal2.setUInt32 = async () => {
      throw new OSStatusError('AudioObjectSetPropertyData', fourCC('nope'));
    };
    const err = await openMacCoreAudio({ native: hal2 }).setMuted(DEFAULT, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicrophoneError);
    expect(err).toMatchObject({ code: 'failed', message: expect.stringContaining("kAudioHardwareIllegalOperationError ('nope')") });
  });

  it('tells subscribers about an outside mute, not about its own change or a volume slider', async () => {
    const hal = desk();
    const mic = openMacCoreAudio({ native: hal });
    const seen = counter();
    const unsubscribe = mic.subscribe(seen.fn);
    await settle();
    expect([...hal.listeners.keys()].sort()).toEqual(['1/dIn /glob/0', '1/dev#/glob/0', `${BUILTIN}/volm/inpt/0`, `${JABRA}/mute/inpt/0`].sort());

    await mic.setMuted(DEFAULT, true);
    await settle();
    expect(seen.count).toBe(0);

    hal.changeMute(JABRA, false); // the headset's own button
    await expect.poll(() => seen.count).toBe(1);

    hal.changeVolume(BUILTIN, 0.3); // a slider in System Settings: still live
    await settle();
    expect(seen.count).toBe(1);
    hal.changeVolume(BUILTIN, 0); // slid to nothing: muted on the fallback path
    await expect.poll(() => seen.count).toBe(2);

    unsubscribe();
    await settle();
    expect(hal.listeners.size).toBe(0);
  });

  it('follows the default input and devices plugged in and out', async () => {
    const hal = desk();
    const mic = openMacCoreAudio({ native: hal });
    const seen = counter();
    mic.subscribe(seen.fn);
    await settle();
    hal.setDefault(BUILTIN);
    await expect.poll(() => seen.count).toBe(1);
    expect((await mic.read(DEFAULT)).device?.name).toBe('MacBook Pro Microphone');

    hal.plug({ objectId: CHEAP_USB, uid: 'AppleUSBAudioEngine:C-Media:USB PnP Sound Device:1', name: 'USB PnP Sound Device', mute: 'settable' });
    await expect.poll(() => seen.count).toBe(2);
    await expect.poll(() => hal.listeners.has(`${CHEAP_USB}/mute/inpt/0`)).toBe(true);
    hal.changeMute(CHEAP_USB, true);
    await expect.poll(() => seen.count).toBe(3);

    hal.unplug(JABRA, BUILTIN);
    await expect.poll(() => seen.count).toBe(4);
    await expect.poll(() => hal.listeners.has(`${JABRA}/mute/inpt/0`)).toBe(false);
    await mic.close();
    expect(hal.listeners.size).toBe(0);
    await expect(mic.read(DEFAULT)).rejects.toMatchObject({ code: 'unavailable' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The app's side: MicrophoneSync keeps the claim file; a run that "crashes" is one whose sync is dropped without
// stop, and the next run is a new adapter over a new HAL connection (a new process) and the same data folder.

const tempDir = useTempDirs();
const BUILTIN_UID = 'BuiltInMicrophoneDevice';

/** A Mac whose only microphone is the built-in one: an input volume, no mute control. */
function builtinOnly(volume: number): FakeHal {
  const hal = new FakeHal();
  hal.add({ objectId: BUILTIN, uid: BUILTIN_UID, name: 'MacBook Pro Microphone', mute: 'absent', volume });
  hal.defaultInput = BUILTIN;
  return hal;
}

/** MicrophoneSync as `serve` runs it, with no call going on. */
function syncOver(port: MicrophonePort, dataDir: string): MicrophoneSync {
  return new MicrophoneSync({
    port,
    choice: DEFAULT,
    endOfCall: 'app',
    dataDir,
    now: Date.now,
    view: () => ({ state: 'waiting', connectedFrames: 0, asleepFrames: 0, call: null }),
    onViewChange: () => () => {},
    record: () => {
      throw new Error('no call to record');
    },
    apply: () => {},
    commandCard: async () => undefined,
    log: () => {},
  });
}

const claimOn = (dataDir: string): unknown => JSON.parse(readFileSync(path.join(dataDir, CLAIM_FILE), 'utf8'));

describe('macOS volume fallback across a crash of the app', () => {
  it('keeps the level in the claim before the volume goes to 0, and the next start gives it back at that level', async () => {
    const dataDir = tempDir();
    const hal = builtinOnly(0.62);
    // What is on disk when the volume is set to 0: the claim must already name the device and its level.
    const onDiskAtZero: unknown[] = [];
    const realSet = hal.setFloat32.bind(hal);
    hal.setFloat32 = async (objectId, a, value) => {
      if (value === 0) onDiskAtZero.push(existsSync(path.join(dataDir, CLAIM_FILE)) ? claimOn(dataDir) : null);
      return realSet(objectId, a, value);
    };
    const first = syncOver(openMacCoreAudio({ native: hal }), dataDir);
    await first.start();
    await first.setFromCommand(true, 'hotkey');
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0);
    expect(onDiskAtZero).toEqual([{ devices: [{ id: BUILTIN_UID, name: 'MacBook Pro Microphone', restore: { volume: 0.62 } }], mutedAt: expect.any(Number) }]);

    // The app crashes: no stop, no unmute. The next run starts with the device still at 0.
    const next = builtinOnly(0);
    const second = syncOver(openMacCoreAudio({ native: next }), dataDir);
    await second.start();
    expect(next.devices.get(BUILTIN)!.volume).toBe(0.62);
    expect(next.sets).toEqual(['MacBook Pro Microphone:volume=0.62']);
    expect(existsSync(path.join(dataDir, CLAIM_FILE))).toBe(false);
    expect(second.status()).toMatchObject({ device: 'MacBook Pro Microphone', muted: false, controlledByApp: false, error: null });
    await second.stop();
  });

  it('a claim written before the level was kept (or with a level that makes no sense) still gives the device back, at the default', async () => {
    for (const restore of [undefined, { volume: 7 }, { volume: 'loud' }, [0.5]]) {
      const dataDir = tempDir();
      writeFileSync(path.join(dataDir, CLAIM_FILE), JSON.stringify({ devices: [{ id: BUILTIN_UID, name: 'MacBook Pro Microphone', restore }], mutedAt: Date.now() - 60_000 }));
      const hal = builtinOnly(0);
      const sync = syncOver(openMacCoreAudio({ native: hal, unmuteVolume: 0.75 }), dataDir);
      await sync.start();
      expect(hal.devices.get(BUILTIN)!.volume, JSON.stringify(restore)).toBe(0.75);
      expect(existsSync(path.join(dataDir, CLAIM_FILE))).toBe(false);
      await sync.stop();
    }
  });

  it('within one run, unmuting gives back the level the device had, and muting a device already at 0 keeps the kept level', async () => {
    const dataDir = tempDir();
    const hal = builtinOnly(0.62);
    const sync = syncOver(openMacCoreAudio({ native: hal }), dataDir);
    await sync.start();
    await sync.setFromCommand(true, 'hotkey');
    await sync.setFromCommand(true, 'tray');
    expect(claimOn(dataDir)).toMatchObject({ devices: [{ id: BUILTIN_UID, restore: { volume: 0.62 } }] });
    await sync.setFromCommand(false, 'hotkey');
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0.62);
    expect(existsSync(path.join(dataDir, CLAIM_FILE))).toBe(false);
    await sync.stop();
  });

  it('a level that cannot be made durable leaves the device alone (the adapter asks before it sets 0)', async () => {
    const hal = builtinOnly(0.62);
    const mic = openMacCoreAudio({ native: hal });
    const beforeMute = async () => {
      throw new Error('ENOSPC: no space left on device');
    };
    await expect(mic.setMuted(DEFAULT, true, { beforeMute })).rejects.toMatchObject({ code: 'failed', message: expect.stringContaining('ENOSPC') });
    expect(hal.devices.get(BUILTIN)!.volume).toBe(0.62);
    expect(hal.sets).toEqual([]);
  });

  it('devices with a mute control ask for nothing to be kept', async () => {
    const hal = desk();
    const kept: unknown[] = [];
    await openMacCoreAudio({ native: hal }).setMuted(DEFAULT, true, { beforeMute: (device, restore) => void kept.push([device.id, restore]) });
    expect(hal.devices.get(JABRA)).toMatchObject({ muted: 1, volume: 1 });
    expect(kept).toEqual([]);
  });
});

describe('macOS CoreAudio plumbing: pure helpers against known values', () => {
  it('packs four-char codes big-endian, as the headers spell them', () => {
    expect(fourCC('mute')).toBe(0x6d757465);
    expect(fourCC('dIn ')).toBe(0x64496e20);
    expect(fourCC('dev#')).toBe(0x64657623);
    expect(fourCC('volm')).toBe(0x766f6c6d);
    expect(fourCC('inpt')).toBe(0x696e7074);
    expect(fourCC('glob')).toBe(0x676c6f62);
    expect(fourCC('who?')).toBe(0x77686f3f);
    expect(fourCC('lnam')).toBe(1819173229); // kAudioObjectPropertyName = kAudioDevicePropertyDeviceNameCFString
    expect(fourCC('stm#')).toBe(0x73746d23);
    expect(fourCC('uid ')).toBe(0x75696420);
    expect(fourCC('rnlp')).toBe(0x726e6c70);
    expect(fourCC('!obj')).toBe(560947818);
    expect(fourCCText(0x6d757465)).toBe('mute');
    expect(fourCCText(-50)).toBeNull(); // kAudio_ParamError is a plain number
    expect(() => fourCC('mut')).toThrow(TypeError);
  });

  it('names OSStatus results', () => {
    expect(osStatusText(kAudioHardwareUnknownPropertyError)).toBe("kAudioHardwareUnknownPropertyError ('who?')");
    expect(osStatusText(kAudioHardwareBadObjectError)).toBe("kAudioHardwareBadObjectError ('!obj')");
    expect(osStatusText(-50)).toBe('-50');
    expect(new OSStatusError('AudioObjectGetPropertyData', 0x77686f3f | 0).status).toBe(0x77686f3f);
  });

  it('lays out AudioObjectPropertyAddress as three native-endian UInt32s', () => {
    const mute = { selector: fourCC('mute'), scope: fourCC('inpt'), element: 0 };
    expect(propertyAddressBytes(mute).toString('hex')).toBe('6574756d' + '74706e69' + '00000000');
    const two = Buffer.concat([propertyAddressBytes(mute), propertyAddressBytes({ selector: fourCC('dIn '), scope: fourCC('glob'), element: 0 })]);
    expect(decodePropertyAddresses(two, 2)).toEqual([mute, { selector: fourCC('dIn '), scope: fourCC('glob'), element: 0 }]);
  });

  it('loads no native code at import, and the real native layer refuses off macOS', () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const adapter = await import(${JSON.stringify(new URL('../../main/core/microphone/macos-coreaudio.ts', import.meta.url).href)});
      const plumbing = await import(${JSON.stringify(new URL('../../main/core/microphone/macos-native.ts', import.meta.url).href)});
      const loaded = () => Object.keys(require.cache).some((p) => p.includes('koffi'));
      const before = loaded();
      let refused = null;
      try { plumbing.createMacCoreAudioNative(); } catch (err) { refused = err.code; }
      const reading = await adapter.openMacCoreAudio().read({ kind: 'default' }).catch((err) => err.code);
      console.log(JSON.stringify({ before, refused, reading, after: loaded() }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, refused: process.platform === 'darwin' ? null : 'unavailable', reading: 'unavailable', after: false });
  });
});

describe.runIf(process.platform === 'linux')('macOS CoreAudio plumbing: the koffi declarations (parsed by real koffi on Linux)', () => {
  it('every CoreAudio and CoreFoundation declaration parses, the listener type first', () => {
    const koffi = loadKoffi();
    const listener = koffi.proto(MAC_LISTENER_PROC);
    expect(koffi.introspect(listener).name).toBe('MacAudioObjectPropertyListenerProc');
    for (const declaration of [...Object.values(COREAUDIO_FUNCTIONS), ...Object.values(COREFOUNDATION_FUNCTIONS)]) {
      expect(() => koffi.proto(declaration), declaration).not.toThrow();
    }
    const setter = koffi.introspect(koffi.proto('int32_t MacSetterCheck(uint32_t objectId, void *address, uint32_t qualifierSize, void *qualifier, uint32_t dataSize, void *data)'));
    expect(setter.primitive).toBe('Prototype');
  });
});
