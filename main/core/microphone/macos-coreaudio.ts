// The macOS microphone adapter: CoreAudio's AudioObject property API, called directly through koffi. This file is
// the logic (which devices are microphones, mute or input-volume fallback, which notifications matter); the calls
// themselves are behind `MacCoreAudioNative`, implemented for real in macos-native.ts and by a stand-in HAL in
// test/unit/microphone-macos.test.ts. Loading this file loads no native code on any OS.

import {
  MicrophoneError,
  type DeviceChoice,
  type MicrophoneDevice,
  type MicrophonePort,
  type MicrophoneReading,
  type RestoreState,
  type SetMutedOptions,
} from './microphone-port.ts';
import { ChangeListeners, WatchTasks } from './change-listeners.ts';
import {
  OSStatusError,
  createMacCoreAudioNative,
  kAudioDevicePropertyDeviceUID,
  kAudioDevicePropertyMute,
  kAudioDevicePropertyScopeInput,
  kAudioDevicePropertyStreams,
  kAudioDevicePropertyVolumeScalar,
  kAudioHardwareBadDeviceError,
  kAudioHardwareBadObjectError,
  kAudioHardwarePropertyDefaultInputDevice,
  kAudioHardwarePropertyDevices,
  kAudioHardwareUnknownPropertyError,
  kAudioObjectPropertyElementMain,
  kAudioObjectPropertyName,
  kAudioObjectPropertyScopeGlobal,
  kAudioObjectSystemObject,
  kAudioObjectUnknown,
  osStatusText,
} from './macos-native.ts';

/** AudioObjectPropertyAddress. */
export interface PropertyAddress {
  selector: number;
  scope: number;
  element: number;
}

/**
 * The handful of CoreAudio calls the adapter needs. Failures throw `OSStatusError` with the OSStatus the HAL answered
 * ('who?' for a property the object does not have, '!obj' for an object that is gone, …).
 */
export interface MacCoreAudioNative {
  /** Sets kAudioHardwarePropertyRunLoop to NULL so listener procs run on the HAL's own thread. */
  start(): Promise<void>;
  /** AudioObjectHasProperty. */
  hasProperty(objectId: number, address: PropertyAddress): Promise<boolean>;
  /** AudioObjectIsPropertySettable. */
  isPropertySettable(objectId: number, address: PropertyAddress): Promise<boolean>;
  /** AudioObjectGetPropertyDataSize. */
  getPropertyDataSize(objectId: number, address: PropertyAddress): Promise<number>;
  /** AudioObjectGetPropertyData of a UInt32 (an AudioObjectID, a mute flag). */
  getUInt32(objectId: number, address: PropertyAddress): Promise<number>;
  /** AudioObjectGetPropertyDataSize, then AudioObjectGetPropertyData of a UInt32 array (AudioObjectIDs). */
  getUInt32Array(objectId: number, address: PropertyAddress): Promise<number[]>;
  /** AudioObjectGetPropertyData of a Float32 (a volume scalar). */
  getFloat32(objectId: number, address: PropertyAddress): Promise<number>;
  /** AudioObjectGetPropertyData of a CFStringRef, converted with CFStringGetCString (UTF-8) and released. */
  getCFString(objectId: number, address: PropertyAddress): Promise<string>;
  /** AudioObjectSetPropertyData of a UInt32. */
  setUInt32(objectId: number, address: PropertyAddress, value: number): Promise<void>;
  /** AudioObjectSetPropertyData of a Float32. */
  setFloat32(objectId: number, address: PropertyAddress, value: number): Promise<void>;
  /** AudioObjectAddPropertyListener with a koffi-registered listener proc; resolves with its remover
   * (AudioObjectRemovePropertyListener). */
  addPropertyListener(objectId: number, address: PropertyAddress, listener: (objectId: number, addresses: PropertyAddress[]) => void): Promise<() => Promise<void>>;
  /** Removes every listener still registered. */
  stop(): Promise<void>;
}

export interface MacCoreAudioOptions {
  /** The CoreAudio calls; by default the real ones (koffi, loaded when the adapter first needs them). */
  native?: MacCoreAudioNative;
  /** Input volume to restore on unmute, on the volume fallback path, when neither this run nor the caller's restore
   * state knows the device's volume before it was 0 (it was at 0 before the app first saw it). Default 0.75. */
  unmuteVolume?: number;
}

export function openMacCoreAudio(options: MacCoreAudioOptions = {}): MicrophonePort {
  return new MacCoreAudioMicrophone(options.native ?? null, options.unmuteVolume ?? 0.75);
}

const global = (selector: number): PropertyAddress => ({ selector, scope: kAudioObjectPropertyScopeGlobal, element: kAudioObjectPropertyElementMain });
const input = (selector: number): PropertyAddress => ({ selector, scope: kAudioDevicePropertyScopeInput, element: kAudioObjectPropertyElementMain });

const DEFAULT_INPUT = global(kAudioHardwarePropertyDefaultInputDevice);
const DEVICES = global(kAudioHardwarePropertyDevices);
const INPUT_STREAMS = input(kAudioDevicePropertyStreams);
const NAME = global(kAudioObjectPropertyName);
const UID = global(kAudioDevicePropertyDeviceUID);
const MUTE = input(kAudioDevicePropertyMute);
const VOLUME = input(kAudioDevicePropertyVolumeScalar);

/** The level kept for a device muted through its input volume; anything else (a hand-edited file) is ignored. */
function volumeIn(restore: RestoreState | undefined): number | undefined {
  const volume = restore?.volume;
  return typeof volume === 'number' && volume > 0 && volume <= 1 ? volume : undefined;
}

function statusOf(err: unknown): number | null {
  return err instanceof OSStatusError ? err.status : null;
}

/** The device is gone (unplugged between finding it and using it). */
function isGone(err: unknown): boolean {
  const s = statusOf(err);
  return s === kAudioHardwareBadObjectError || s === kAudioHardwareBadDeviceError;
}

function toMicrophoneError(err: unknown, what: string): MicrophoneError {
  if (err instanceof MicrophoneError) return err;
  if (isGone(err)) return new MicrophoneError('no_device', `${what}: the microphone is gone (${osStatusText(statusOf(err)!)})`);
  return new MicrophoneError('failed', `${what}: ${(err as Error)?.message ?? String(err)}`);
}

/** How a device is muted: its input mute control, or (no settable mute) its input volume, or not at all. */
type Control = 'mute' | 'volume' | 'none';

interface Device extends MicrophoneDevice {
  objectId: number;
}

class MacCoreAudioMicrophone implements MicrophonePort {
  readonly backend = 'coreaudio-macos';
  private native: MacCoreAudioNative | null;
  private readonly unmuteVolume: number;
  private started: Promise<MacCoreAudioNative> | null = null;
  private readonly controls = new Map<number, Control>();
  /** Volume fallback: the input volume each device had before the app set it to 0, by UID (this run only; the caller
   * keeps it across restarts through `SetMutedOptions`). */
  private readonly volumeBeforeMute = new Map<string, number>();
  private readonly listeners = new ChangeListeners();
  private readonly systemRemovers: Array<() => Promise<void>> = [];
  /** Devices whose mute/volume listener is registered: their remover and last known muted reading. */
  private readonly watched = new Map<number, { remove: () => Promise<void>; muted: boolean | null }>();
  private readonly watchTasks = new WatchTasks();
  private closed = false;

  constructor(native: MacCoreAudioNative | null, unmuteVolume: number) {
    this.native = native;
    this.unmuteVolume = unmuteVolume;
  }

  private ensureStarted(): Promise<MacCoreAudioNative> {
    if (this.closed) return Promise.reject(new MicrophoneError('unavailable', 'The microphone adapter is closed'));
    this.started ??= (async () => {
      try {
        this.native ??= createMacCoreAudioNative();
        await this.native.start();
        return this.native;
      } catch (err) {
        this.started = null;
        if (err instanceof MicrophoneError) throw err;
        throw new MicrophoneError('unavailable', `CoreAudio could not be started: ${(err as Error).message}`);
      }
    })();
    return this.started;
  }

  /** Input devices: kAudioHardwarePropertyDevices, kept when kAudioDevicePropertyStreams has input-scope streams.
   * https://developer.apple.com/documentation/coreaudio/kaudiodevicepropertystreams */
  private async inputDevices(native: MacCoreAudioNative): Promise<Device[]> {
    const [ids, defaultId] = await Promise.all([native.getUInt32Array(kAudioObjectSystemObject, DEVICES), native.getUInt32(kAudioObjectSystemObject, DEFAULT_INPUT)]);
    const devices: Device[] = [];
    for (const objectId of ids) {
      try {
        if ((await native.getPropertyDataSize(objectId, INPUT_STREAMS)) === 0) continue; // output only
        const [uid, name] = await Promise.all([native.getCFString(objectId, UID), native.getCFString(objectId, NAME)]);
        devices.push({ objectId, id: uid, name, isDefault: objectId === defaultId && defaultId !== kAudioObjectUnknown });
      } catch (err) {
        if (!isGone(err)) throw err; // unplugged while listing: leave it out
      }
    }
    return devices;
  }

  async list(): Promise<MicrophoneDevice[]> {
    const native = await this.ensureStarted();
    try {
      return (await this.inputDevices(native)).map(({ id, name, isDefault }) => ({ id, name, isDefault }));
    } catch (err) {
      throw toMicrophoneError(err, 'Listing microphones');
    }
  }

  private async resolve(native: MacCoreAudioNative, choice: DeviceChoice): Promise<Device | null> {
    const devices = await this.inputDevices(native);
    if (choice.kind === 'default') return devices.find((d) => d.isDefault) ?? null;
    // As on Linux: the id exactly, else the name whatever its case.
    const wanted = choice.name.toLowerCase();
    return devices.find((d) => d.id === choice.name) ?? devices.find((d) => d.name.toLowerCase() === wanted) ?? null;
  }

  /** Mute where the device has a settable input mute (element main), else the input volume scalar, else nothing.
   * https://developer.apple.com/documentation/coreaudio/1422490-audioobjecthasproperty
   * https://developer.apple.com/documentation/coreaudio/1422499-audioobjectispropertysettable */
  private async control(native: MacCoreAudioNative, objectId: number): Promise<Control> {
    const known = this.controls.get(objectId);
    if (known) return known;
    const settable = async (address: PropertyAddress) => {
      if (!(await native.hasProperty(objectId, address))) return false;
      try {
        return await native.isPropertySettable(objectId, address);
      } catch (err) {
        if (statusOf(err) === kAudioHardwareUnknownPropertyError) return false;
        throw err;
      }
    };
    const control: Control = (await settable(MUTE)) ? 'mute' : (await settable(VOLUME)) ? 'volume' : 'none';
    this.controls.set(objectId, control);
    return control;
  }

  private async readMuted(native: MacCoreAudioNative, device: Device): Promise<boolean | null> {
    switch (await this.control(native, device.objectId)) {
      case 'mute':
        return (await native.getUInt32(device.objectId, MUTE)) !== 0;
      case 'volume':
        return (await native.getFloat32(device.objectId, VOLUME)) === 0;
      case 'none':
        return null;
    }
  }

  private async readDevice(native: MacCoreAudioNative, choice: DeviceChoice): Promise<MicrophoneReading> {
    const device = await this.resolve(native, choice);
    if (!device) return { device: null, muted: null };
    // (The watch's last known state is left alone: a reading is not a notification, and must not swallow one.)
    const muted = await this.readMuted(native, device);
    return { device: { id: device.id, name: device.name, isDefault: device.isDefault }, muted };
  }

  async read(choice: DeviceChoice): Promise<MicrophoneReading> {
    const native = await this.ensureStarted();
    try {
      return await this.retryOnce(() => this.readDevice(native, choice));
    } catch (err) {
      if (isGone(err)) return { device: null, muted: null };
      throw toMicrophoneError(err, 'Reading the microphone');
    }
  }

  /** A device unplugged between resolving and using it answers '!obj': resolve afresh once. */
  private async retryOnce<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!isGone(err)) throw err;
      this.controls.clear();
      return op();
    }
  }

  async setMuted(choice: DeviceChoice, muted: boolean, options: SetMutedOptions = {}): Promise<MicrophoneReading> {
    const native = await this.ensureStarted();
    try {
      return await this.retryOnce(async () => {
        const device = await this.resolve(native, choice);
        if (!device) throw new MicrophoneError('no_device', choice.kind === 'named' ? `No microphone named "${choice.name}"` : 'There is no default microphone');
        const control = await this.control(native, device.objectId);
        if (control === 'none') throw new MicrophoneError('failed', `"${device.name}" has neither an input mute nor an input volume control`);
        if (control === 'mute') {
          this.expectMuted(device, muted);
          await native.setUInt32(device.objectId, MUTE, muted ? 1 : 0);
        } else if (muted) {
          const volume = await native.getFloat32(device.objectId, VOLUME);
          if (volume > 0) {
            // The level must outlive a crash of the app before the device goes to 0: only the caller can keep it.
            await options.beforeMute?.({ id: device.id, name: device.name, isDefault: device.isDefault }, { volume });
            this.volumeBeforeMute.set(device.id, volume);
          }
          this.expectMuted(device, true);
          await native.setFloat32(device.objectId, VOLUME, 0);
        } else {
          const volume = await native.getFloat32(device.objectId, VOLUME);
          const before = this.volumeBeforeMute.get(device.id) ?? volumeIn(options.restoreFor?.(device.id)) ?? this.unmuteVolume;
          this.expectMuted(device, false);
          if (volume === 0) await native.setFloat32(device.objectId, VOLUME, before);
          this.volumeBeforeMute.delete(device.id);
        }
        return this.readDevice(native, choice);
      });
    } catch (err) {
      throw toMicrophoneError(err, muted ? 'Muting the microphone' : 'Unmuting the microphone');
    }
  }

  /** Records what we are about to make true, so the listener's echo of our own change is not news. */
  private expectMuted(device: Device, muted: boolean): void {
    const w = this.watched.get(device.objectId);
    if (w) w.muted = muted;
  }

  subscribe(onChange: () => void): () => void {
    if (this.listeners.add(onChange)) void this.watchTasks.run(() => this.startWatching());
    return () => {
      if (this.listeners.delete(onChange)) void this.watchTasks.run(() => this.stopWatching());
    };
  }

  /** https://developer.apple.com/documentation/coreaudio/1422472-audioobjectaddpropertylistener */
  private async startWatching(): Promise<void> {
    const native = await this.ensureStarted();
    const onSystem = () => {
      void this.watchTasks.run(async () => {
        await this.syncWatches(native);
        this.listeners.emit();
      });
    };
    this.systemRemovers.push(await native.addPropertyListener(kAudioObjectSystemObject, DEFAULT_INPUT, onSystem));
    this.systemRemovers.push(await native.addPropertyListener(kAudioObjectSystemObject, DEVICES, onSystem));
    await this.syncWatches(native);
  }

  /** Listens to the mute (or, on the fallback path, the input volume) of every input device; forgets devices gone. */
  private async syncWatches(native: MacCoreAudioNative): Promise<void> {
    const devices = await this.inputDevices(native);
    const present = new Set(devices.map((d) => d.objectId));
    for (const [objectId, w] of [...this.watched]) {
      if (present.has(objectId)) continue;
      this.watched.delete(objectId);
      this.controls.delete(objectId);
      await w.remove().catch(() => undefined);
    }
    for (const device of devices) {
      if (this.watched.has(device.objectId)) continue;
      try {
        const control = await this.control(native, device.objectId);
        if (control === 'none') continue;
        const remove = await native.addPropertyListener(device.objectId, control === 'mute' ? MUTE : VOLUME, () => this.deviceNotified(native, device));
        this.watched.set(device.objectId, { remove, muted: await this.readMuted(native, device) });
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }
  }

  /** A device's mute or input volume changed. The listener says only that: read, and tell only when the muted
   * reading moved (not for a volume slider, not for the echo of our own change). */
  private deviceNotified(native: MacCoreAudioNative, device: Device): void {
    void this.watchTasks.run(async () => {
      const w = this.watched.get(device.objectId);
      if (!w) return;
      let muted: boolean | null;
      try {
        muted = await this.readMuted(native, device);
      } catch {
        muted = null;
      }
      if (muted === w.muted) return;
      w.muted = muted;
      this.listeners.emit();
    });
  }

  private async stopWatching(): Promise<void> {
    for (const remove of this.systemRemovers.splice(0)) await remove().catch(() => undefined);
    for (const [objectId, w] of [...this.watched]) {
      this.watched.delete(objectId);
      await w.remove().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.listeners.clear();
    await this.watchTasks.run(() => this.stopWatching());
    this.closed = true;
    if (this.started) {
      const native = await this.started.catch(() => null);
      await native?.stop().catch(() => undefined);
    }
    this.started = null;
  }
}
