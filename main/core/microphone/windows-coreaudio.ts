// The Windows microphone adapter: Core Audio's MMDevice API and IAudioEndpointVolume, called directly through koffi.
// This file is the logic (which endpoints a choice means, what a reading is, which notifications matter); the COM
// calls themselves are behind `WindowsCoreAudioNative`, implemented for real in windows-com.ts and by a stand-in in
// test/unit/microphone-windows.test.ts. Loading this file loads no native code on any OS.

import { randomUUID } from 'node:crypto';
import {
  MicrophoneError,
  type DeviceChoice,
  type MicrophoneDevice,
  type MicrophonePort,
  type MicrophoneReading,
  type SetMutedOptions,
} from './microphone-port.ts';
import { ChangeListeners, WatchTasks } from './change-listeners.ts';
import {
  AUDCLNT_E_DEVICE_INVALIDATED,
  E_NOTFOUND,
  EDataFlow,
  ERole,
  HResultError,
  createWindowsCoreAudioNative,
  hresultText,
} from './windows-com.ts';

/** The fixed head of AUDIO_VOLUME_NOTIFICATION_DATA, as IAudioEndpointVolumeCallback::OnNotify receives it. */
export interface VolumeNotification {
  /** The GUID the changer passed to SetMute ("{…}" upper case); GUID_NULL when it passed NULL. */
  eventContext: string;
  muted: boolean;
  masterVolume: number;
  channels: number;
}

/** IMMNotificationClient's methods, already decoded (endpoint ids as strings; the default id null when there is none). */
export interface EndpointNotificationHandlers {
  onDeviceStateChanged(id: string, state: number): void;
  onDeviceAdded(id: string): void;
  onDeviceRemoved(id: string): void;
  onDefaultDeviceChanged(flow: number, role: number, id: string | null): void;
}

/** One activated IAudioEndpointVolume. Failures throw `HResultError`. */
export interface EndpointVolume {
  /** IAudioEndpointVolume::GetMute. */
  getMute(): Promise<boolean>;
  /** IAudioEndpointVolume::SetMute(bMute, &context): S_OK when the state changed, S_FALSE when it already was so. */
  setMute(muted: boolean, eventContext: string): Promise<number>;
  /** IAudioEndpointVolume::RegisterControlChangeNotify with an IAudioEndpointVolumeCallback whose OnNotify calls `onNotify`. */
  registerControlChangeNotify(onNotify: (data: VolumeNotification) => void): Promise<void>;
  unregisterControlChangeNotify(): Promise<void>;
  /** IUnknown::Release. */
  release(): void;
}

/**
 * The handful of Core Audio calls the adapter needs. Every failure throws `HResultError` with the call's HRESULT,
 * exactly as Windows answers it (E_NOTFOUND, AUDCLNT_E_DEVICE_INVALIDATED, …).
 */
export interface WindowsCoreAudioNative {
  /** CoIncrementMTAUsage, then CoCreateInstance(CLSID_MMDeviceEnumerator, IID_IMMDeviceEnumerator). */
  start(): Promise<void>;
  /** IMMDeviceEnumerator::EnumAudioEndpoints(eCapture, DEVICE_STATE_ACTIVE), then IMMDevice::GetId of each. */
  captureEndpointIds(): Promise<string[]>;
  /** IMMDeviceEnumerator::GetDefaultAudioEndpoint(eCapture, role), then IMMDevice::GetId (E_NOTFOUND: none). */
  defaultCaptureEndpointId(role: number): Promise<string>;
  /** IMMDeviceEnumerator::GetDevice(id), OpenPropertyStore(STGM_READ), GetValue(PKEY_Device_FriendlyName). */
  friendlyName(id: string): Promise<string>;
  /** IMMDeviceEnumerator::GetDevice(id), IMMDevice::Activate(IID_IAudioEndpointVolume, CLSCTX_ALL). */
  activateEndpointVolume(id: string): Promise<EndpointVolume>;
  /** IMMDeviceEnumerator::RegisterEndpointNotificationCallback with an IMMNotificationClient. */
  registerEndpointNotifications(handlers: EndpointNotificationHandlers): Promise<void>;
  unregisterEndpointNotifications(): Promise<void>;
  /** Releases the enumerator and the MTA usage. */
  stop(): Promise<void>;
}

export interface WindowsCoreAudioOptions {
  /** The Core Audio calls; by default the real ones (koffi, loaded when the adapter first needs them). */
  native?: WindowsCoreAudioNative;
}

export function openWindowsCoreAudio(options: WindowsCoreAudioOptions = {}): MicrophonePort {
  return new WindowsCoreAudioMicrophone(options.native ?? null);
}

function isHr(err: unknown, hr: number): boolean {
  return err instanceof HResultError && err.hr === hr;
}

/** A device vanished between finding it and using it (unplugged, disabled). */
function isGone(err: unknown): boolean {
  return isHr(err, AUDCLNT_E_DEVICE_INVALIDATED) || isHr(err, E_NOTFOUND);
}

function toMicrophoneError(err: unknown, what: string): MicrophoneError {
  if (err instanceof MicrophoneError) return err;
  if (err instanceof HResultError) {
    if (isGone(err)) return new MicrophoneError('no_device', `${what}: the microphone is gone (${hresultText(err.hr)})`);
    return new MicrophoneError('failed', `${what}: ${err.message}`);
  }
  return new MicrophoneError('failed', `${what}: ${(err as Error)?.message ?? String(err)}`);
}

interface Resolved {
  /** What the reading names: for the default choice, the console-role default ("Default Device" in Sound settings). */
  device: MicrophoneDevice;
  /** Every endpoint the choice controls: for the default choice, the console and communications defaults (one or two). */
  endpoints: string[];
}

class WindowsCoreAudioMicrophone implements MicrophonePort {
  readonly backend = 'coreaudio-windows';
  private native: WindowsCoreAudioNative | null;
  private started: Promise<WindowsCoreAudioNative> | null = null;
  private readonly volumes = new Map<string, EndpointVolume>();
  /** Endpoints whose IAudioEndpointVolumeCallback is registered, with their last known mute. */
  private readonly watched = new Map<string, boolean | null>();
  private readonly listeners = new ChangeListeners();
  /** Passed to SetMute, so OnNotify can tell this app's changes from everyone else's (SetMute's pguidEventContext). */
  private readonly eventContext = `{${randomUUID().toUpperCase()}}`;
  private readonly watchTasks = new WatchTasks();
  /** Device notifications waiting for the one queued look at the devices (null: a default moved). */
  private pendingDevices: Set<string | null> | null = null;
  private closed = false;

  constructor(native: WindowsCoreAudioNative | null) {
    this.native = native;
  }

  private ensureStarted(): Promise<WindowsCoreAudioNative> {
    if (this.closed) return Promise.reject(new MicrophoneError('unavailable', 'The microphone adapter is closed'));
    this.started ??= (async () => {
      try {
        this.native ??= createWindowsCoreAudioNative();
        await this.native.start();
        return this.native;
      } catch (err) {
        this.started = null;
        if (err instanceof MicrophoneError) throw err;
        throw new MicrophoneError('unavailable', `Core Audio could not be started: ${(err as Error).message}`);
      }
    })();
    return this.started;
  }

  /** The default capture endpoint for a role; null when Windows has none (E_NOTFOUND). */
  private async defaultId(native: WindowsCoreAudioNative, role: number): Promise<string | null> {
    try {
      return await native.defaultCaptureEndpointId(role);
    } catch (err) {
      if (isHr(err, E_NOTFOUND)) return null;
      throw err;
    }
  }

  private async volume(native: WindowsCoreAudioNative, id: string): Promise<EndpointVolume> {
    let v = this.volumes.get(id);
    if (!v) {
      v = await native.activateEndpointVolume(id);
      this.volumes.set(id, v);
    }
    return v;
  }

  /** Drops a cached endpoint volume (after AUDCLNT_E_DEVICE_INVALIDATED: the interface is dead for good). */
  private forget(id: string): void {
    const v = this.volumes.get(id);
    if (!v) return;
    this.volumes.delete(id);
    this.watched.delete(id);
    v.unregisterControlChangeNotify().catch(() => undefined).finally(() => v.release());
  }

  async list(): Promise<MicrophoneDevice[]> {
    const native = await this.ensureStarted();
    try {
      const [ids, defaultId] = await Promise.all([native.captureEndpointIds(), this.defaultId(native, ERole.eConsole)]);
      const devices: MicrophoneDevice[] = [];
      for (const id of ids) {
        try {
          devices.push({ id, name: await native.friendlyName(id), isDefault: id === defaultId });
        } catch (err) {
          if (!isGone(err)) throw err; // unplugged while listing: leave it out
        }
      }
      return devices;
    } catch (err) {
      throw toMicrophoneError(err, 'Listing microphones');
    }
  }

  private async resolve(native: WindowsCoreAudioNative, choice: DeviceChoice): Promise<Resolved | null> {
    if (choice.kind === 'named') {
      const devices = await this.list();
      const wanted = choice.name.toLowerCase();
      const device = devices.find((d) => d.id === choice.name) ?? devices.find((d) => d.name.toLowerCase() === wanted);
      return device ? { device, endpoints: [device.id] } : null;
    }
    // "Default" is two defaults on Windows: eConsole (what Sound settings calls Default Device) and eCommunications
    // (Default Communication Device, what softphones record from). They may differ; the choice covers both.
    // https://learn.microsoft.com/en-us/windows/win32/coreaudio/device-roles
    const [consoleId, commsId] = await Promise.all([this.defaultId(native, ERole.eConsole), this.defaultId(native, ERole.eCommunications)]);
    const primary = consoleId ?? commsId;
    if (!primary) return null;
    const endpoints = [primary];
    if (commsId && commsId !== primary) endpoints.push(commsId);
    return { device: { id: primary, name: await native.friendlyName(primary), isDefault: primary === consoleId }, endpoints };
  }

  /** Runs `fn` on an endpoint's IAudioEndpointVolume; a stale one (AUDCLNT_E_DEVICE_INVALIDATED) is forgotten. */
  private async onEndpoint<T>(native: WindowsCoreAudioNative, id: string, fn: (v: EndpointVolume) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.volume(native, id));
    } catch (err) {
      if (isGone(err)) this.forget(id);
      throw err;
    }
  }

  /** Runs `op`; when a device vanished mid-way, resolves the choice afresh once (the default may have moved on). */
  private async retryOnce<T>(native: WindowsCoreAudioNative, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!isGone(err)) throw err;
      // Watching: register on whatever endpoints exist now (the notification for the change may still be on its way).
      if (this.listeners.size > 0) void this.watchTasks.run(async () => void (await this.syncWatches(native)));
      return op();
    }
  }

  private async readResolved(native: WindowsCoreAudioNative, choice: DeviceChoice): Promise<MicrophoneReading> {
    const resolved = await this.resolve(native, choice);
    if (!resolved) return { device: null, muted: null };
    // Muted only when every endpoint the choice covers is muted: a live one still carries the operator's voice.
    let muted = true;
    for (const id of resolved.endpoints) {
      // (The watch's last known state is left alone: a reading is not a notification, and must not swallow one.)
      const m = await this.onEndpoint(native, id, (v) => v.getMute());
      muted &&= m;
    }
    return { device: resolved.device, muted };
  }

  async read(choice: DeviceChoice): Promise<MicrophoneReading> {
    const native = await this.ensureStarted();
    try {
      return await this.retryOnce(native, () => this.readResolved(native, choice));
    } catch (err) {
      if (isGone(err)) return { device: null, muted: null };
      throw toMicrophoneError(err, 'Reading the microphone');
    }
  }

  async setMuted(choice: DeviceChoice, muted: boolean, options?: SetMutedOptions): Promise<MicrophoneReading> {
    const native = await this.ensureStarted();
    try {
      return await this.retryOnce(native, async () => {
        const resolved = await this.resolve(native, choice);
        if (!resolved) {
          throw new MicrophoneError('no_device', choice.kind === 'named' ? `No microphone named "${choice.name}"` : 'There is no default microphone');
        }
        // The communications default muted with the console one is owed back too: it is named to the caller before it
        // is touched (the reading names only the first), so a restart or the end of the call unmutes it as well.
        if (muted && options?.beforeMute) {
          for (const id of resolved.endpoints.slice(1)) await options.beforeMute({ id, name: await native.friendlyName(id), isDefault: false }, {});
        }
        for (const id of resolved.endpoints) {
          await this.onEndpoint(native, id, (v) => v.setMute(muted, this.eventContext));
          if (this.watched.has(id)) this.watched.set(id, muted);
        }
        return this.readResolved(native, choice);
      });
    } catch (err) {
      throw toMicrophoneError(err, muted ? 'Muting the microphone' : 'Unmuting the microphone');
    }
  }

  subscribe(onChange: () => void): () => void {
    if (this.listeners.add(onChange)) void this.watchTasks.run(() => this.startWatching());
    return () => {
      if (this.listeners.delete(onChange)) void this.watchTasks.run(() => this.stopWatching());
    };
  }

  private async startWatching(): Promise<void> {
    const native = await this.ensureStarted();
    await native.registerEndpointNotifications({
      // https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nf-mmdeviceapi-immnotificationclient-ondefaultdevicechanged
      onDefaultDeviceChanged: (flow, role) => {
        if (flow === EDataFlow.eCapture && (role === ERole.eConsole || role === ERole.eCommunications)) this.devicesChanged(null);
      },
      // https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nf-mmdeviceapi-immnotificationclient-ondevicestatechanged
      onDeviceStateChanged: (id) => this.devicesChanged(id),
      onDeviceAdded: (id) => this.devicesChanged(id),
      onDeviceRemoved: (id) => this.devicesChanged(id),
    });
    await this.syncWatches(native);
  }

  /**
   * A device came, went or changed state, or a default moved: follow it, then tell the listeners. Notifications
   * that arrive before the work they ask for has started join it (a default switch comes once per role), so the
   * listeners hear of one burst once however slowly the work runs.
   */
  private devicesChanged(id: string | null): void {
    if (this.listeners.size === 0) return;
    if (this.pendingDevices) {
      this.pendingDevices.add(id);
      return;
    }
    const ids = new Set<string | null>([id]);
    this.pendingDevices = ids;
    void this.watchTasks.run(async () => {
      this.pendingDevices = null;
      const native = await this.ensureStarted();
      const before = new Set(this.watched.keys());
      const after = await this.syncWatches(native);
      // A render endpoint's news is not ours (the notification client hears every flow).
      if ([...ids].some((changed) => changed === null || before.has(changed) || after.has(changed))) this.listeners.emit();
    });
  }

  /** Registers an IAudioEndpointVolumeCallback on every active capture endpoint, and drops those of endpoints gone. */
  private async syncWatches(native: WindowsCoreAudioNative): Promise<Set<string>> {
    const ids = new Set(await native.captureEndpointIds());
    for (const id of [...this.watched.keys()]) {
      if (!ids.has(id)) this.forget(id);
    }
    for (const id of ids) {
      if (this.watched.has(id)) continue;
      try {
        const v = await this.volume(native, id);
        await v.registerControlChangeNotify((data) => this.volumeNotified(id, data));
        this.watched.set(id, await v.getMute());
      } catch (err) {
        if (!isGone(err)) throw err;
        this.forget(id);
      }
    }
    return ids;
  }

  /** IAudioEndpointVolumeCallback::OnNotify: volume or mute changed on an endpoint.
   * https://learn.microsoft.com/en-us/windows/win32/api/endpointvolume/nf-endpointvolume-iaudioendpointvolumecallback-onnotify */
  private volumeNotified(id: string, data: VolumeNotification): void {
    if (!this.watched.has(id)) return;
    const before = this.watched.get(id);
    this.watched.set(id, data.muted);
    // Our own SetMute carries our event context: the caller already has that reading.
    if (data.eventContext === this.eventContext) return;
    // A volume change leaves the mute as it was: nothing a reading shows has changed.
    if (before === data.muted) return;
    this.listeners.emit();
  }

  private async stopWatching(): Promise<void> {
    const native = this.native;
    if (!native || !this.started) return;
    await native.unregisterEndpointNotifications().catch(() => undefined);
    for (const id of [...this.watched.keys()]) {
      const v = this.volumes.get(id);
      this.watched.delete(id);
      await v?.unregisterControlChangeNotify().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.listeners.clear();
    await this.watchTasks.run(() => this.stopWatching());
    this.closed = true;
    for (const v of this.volumes.values()) v.release();
    this.volumes.clear();
    if (this.started) {
      const native = await this.started.catch(() => null);
      await native?.stop().catch(() => undefined);
    }
    this.started = null;
  }
}
