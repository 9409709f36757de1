// The Windows microphone adapter's logic, driven by a stand-in for Core Audio that answers as the documented APIs
// do (HRESULTs, roles, notification bursts), plus the COM plumbing's pure helpers against known bytes, plus the
// hand-built COM object called from native code through real koffi (which loads on Linux too).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MicrophoneError } from '../../main/core/microphone/microphone-port.ts';
import { CLAIM_FILE, MicrophoneSync } from '../../main/core/microphone/microphone-sync.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import {
  AUDCLNT_E_DEVICE_INVALIDATED,
  CLSID_MMDeviceEnumerator,
  DEVICE_STATE,
  E_NOINTERFACE,
  E_NOTFOUND,
  E_OUTOFMEMORY,
  EDataFlow,
  ERole,
  GUID_NULL,
  HResultError,
  IAudioEndpointVolumeSlots,
  IID_IAudioEndpointVolume,
  IID_IMMNotificationClient,
  IMMDeviceEnumeratorSlots,
  IMMNotificationClientSlots,
  OLE32_FUNCTIONS,
  PKEY_Device_FriendlyName,
  REGDB_E_CLASSNOTREG,
  S_FALSE,
  S_OK,
  buildComObject,
  decodeVolumeNotification,
  getComPrototypes,
  guidBytes,
  guidText,
  hresultText,
  loadKoffi,
  propVariantLayout,
  propertyKeyBytes,
  vtableSlotOffset,
} from '../../main/core/microphone/windows-com.ts';
import {
  openWindowsCoreAudio,
  type EndpointNotificationHandlers,
  type EndpointVolume,
  type VolumeNotification,
  type WindowsCoreAudioNative,
} from '../../main/core/microphone/windows-coreaudio.ts';

// ---------------------------------------------------------------------------------------------------------------
// A stand-in Windows audio service. Endpoint ids have the shape MMDevice gives them ("{0.0.1.00000000}.{GUID}":
// 0.0.1 capture, 0.0.0 render), names are what Sound settings shows.

const JABRA = '{0.0.1.00000000}.{5c1a7a1e-8f3b-4d6e-9a2c-0b1d2e3f4a5b}';
const REALTEK = '{0.0.1.00000000}.{a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d}';
const USB_CAM = '{0.0.1.00000000}.{11111111-2222-4333-8444-555555555555}';
const SPEAKERS = '{0.0.0.00000000}.{99999999-8888-4777-8666-555555555555}';

interface FakeEndpoint {
  id: string;
  flow: number;
  name: string;
  state: number;
  muted: boolean;
  volume: number;
  /** Interfaces activated before an unplug are dead for good, even after a replug. */
  generation: number;
}

class FakeCoreAudio implements WindowsCoreAudioNative {
  readonly endpoints = new Map<string, FakeEndpoint>();
  /** Default endpoint per capture role (eConsole, eMultimedia, eCommunications). */
  readonly defaults = new Map<number, string>();
  client: EndpointNotificationHandlers | null = null;
  readonly callbacks = new Map<object, { id: string; onNotify: (d: VolumeNotification) => void }>();
  started = 0;
  stopped = 0;
  activated = 0;
  released = 0;
  startFailure: number | null = null;
  setMuteFailure: number | null = null;
  readonly calls: string[] = [];

  add(id: string, name: string, opts: Partial<FakeEndpoint> = {}): void {
    this.endpoints.set(id, { id, flow: id.startsWith('{0.0.1') ? EDataFlow.eCapture : EDataFlow.eRender, name, state: DEVICE_STATE.ACTIVE, muted: false, volume: 0.8, generation: 0, ...opts });
  }

  /** Notifications come on the audio service's own thread: after the call that caused them has returned. */
  private later(fn: () => void): void {
    setTimeout(fn, 1);
  }

  async start(): Promise<void> {
    this.calls.push('start');
    if (this.startFailure !== null) throw new HResultError('CoCreateInstance(MMDeviceEnumerator)', this.startFailure);
    this.started += 1;
  }

  async captureEndpointIds(): Promise<string[]> {
    return [...this.endpoints.values()].filter((e) => e.flow === EDataFlow.eCapture && e.state === DEVICE_STATE.ACTIVE).map((e) => e.id);
  }

  async defaultCaptureEndpointId(role: number): Promise<string> {
    this.calls.push(`default:${role}`);
    const id = this.defaults.get(role);
    // "E_NOTFOUND: No device is available." (GetDefaultAudioEndpoint)
    if (!id || this.endpoints.get(id)?.state !== DEVICE_STATE.ACTIVE) throw new HResultError('IMMDeviceEnumerator::GetDefaultAudioEndpoint', E_NOTFOUND);
    return id;
  }

  async friendlyName(id: string): Promise<string> {
    const e = this.endpoints.get(id);
    // GetDevice answers E_NOTFOUND for an id it does not know (it does know unplugged ones).
    if (!e) throw new HResultError('IMMDeviceEnumerator::GetDevice', E_NOTFOUND);
    return e.name;
  }

  async activateEndpointVolume(id: string): Promise<EndpointVolume> {
    const e = this.endpoints.get(id);
    if (!e) throw new HResultError('IMMDeviceEnumerator::GetDevice', E_NOTFOUND);
    if (e.state !== DEVICE_STATE.ACTIVE) throw new HResultError('IMMDevice::Activate', AUDCLNT_E_DEVICE_INVALIDATED);
    this.activated += 1;
    const generation = e.generation;
    const alive = () => {
      if (e.state !== DEVICE_STATE.ACTIVE || e.generation !== generation) throw new HResultError('IAudioEndpointVolume', AUDCLNT_E_DEVICE_INVALIDATED);
    };
    const handle: EndpointVolume = {
      getMute: async () => {
        alive();
        return e.muted;
      },
      setMute: async (muted, context) => {
        alive();
        if (this.setMuteFailure !== null) throw new HResultError('IAudioEndpointVolume::SetMute', this.setMuteFailure);
        this.calls.push(`setMute:${e.name}:${muted}`);
        if (e.muted === muted) return S_FALSE;
        this.changeMute(id, muted, context);
        return S_OK;
      },
      registerControlChangeNotify: async (onNotify) => {
        alive();
        this.callbacks.set(handle, { id, onNotify });
      },
      unregisterControlChangeNotify: async () => {
        this.callbacks.delete(handle);
        alive();
      },
      release: () => {
        this.released += 1;
      },
    };
    return handle;
  }

  async registerEndpointNotifications(handlers: EndpointNotificationHandlers): Promise<void> {
    this.client = handlers;
  }

  async unregisterEndpointNotifications(): Promise<void> {
    this.client = null;
  }

  async stop(): Promise<void> {
    this.stopped += 1;
  }

  // --- the outside world ---

  /** Someone (a keyboard mic key, the Sound settings, a softphone) mutes an endpoint; `context` is theirs. */
  changeMute(id: string, muted: boolean, context = GUID_NULL): void {
    const e = this.endpoints.get(id)!;
    e.muted = muted;
    this.notifyVolume(id, context);
  }

  changeVolume(id: string, volume: number): void {
    this.endpoints.get(id)!.volume = volume;
    this.notifyVolume(id, GUID_NULL);
  }

  private notifyVolume(id: string, context: string): void {
    const e = this.endpoints.get(id)!;
    const data: VolumeNotification = { eventContext: context, muted: e.muted, masterVolume: e.volume, channels: 1 };
    for (const cb of this.callbacks.values()) if (cb.id === id) this.later(() => cb.onNotify(data));
  }

  /** The user picks another default: MMDevice tells each role separately. */
  setDefault(roles: number[], id: string | null): void {
    for (const role of roles) {
      if (id) this.defaults.set(role, id);
      else this.defaults.delete(role);
      this.later(() => this.client?.onDefaultDeviceChanged(EDataFlow.eCapture, role, id));
    }
  }

  unplug(id: string, fallback: string | null): void {
    const e = this.endpoints.get(id)!;
    e.state = DEVICE_STATE.UNPLUGGED;
    e.generation += 1;
    this.later(() => this.client?.onDeviceStateChanged(id, DEVICE_STATE.UNPLUGGED));
    const roles = [ERole.eConsole, ERole.eMultimedia, ERole.eCommunications].filter((r) => this.defaults.get(r) === id);
    if (roles.length) this.setDefault(roles, fallback);
  }

  plug(id: string): void {
    this.endpoints.get(id)!.state = DEVICE_STATE.ACTIVE;
    this.later(() => this.client?.onDeviceStateChanged(id, DEVICE_STATE.ACTIVE));
  }

  renderNews(): void {
    this.later(() => this.client?.onDeviceStateChanged(SPEAKERS, DEVICE_STATE.ACTIVE));
    this.later(() => this.client?.onDefaultDeviceChanged(EDataFlow.eRender, ERole.eConsole, SPEAKERS));
  }
}

function office(): FakeCoreAudio {
  const fake = new FakeCoreAudio();
  fake.add(JABRA, 'Headset Microphone (Jabra Evolve2 65)');
  fake.add(REALTEK, 'Microphone Array (Realtek(R) Audio)');
  fake.add(USB_CAM, 'Microphone (HD Pro Webcam C920)', { state: DEVICE_STATE.UNPLUGGED });
  fake.add(SPEAKERS, 'Speakers (Realtek(R) Audio)');
  for (const role of [ERole.eConsole, ERole.eMultimedia, ERole.eCommunications]) fake.defaults.set(role, JABRA);
  return fake;
}

const DEFAULT = { kind: 'default' } as const;
const tempDir = useTempDirs();
const settle = () => new Promise((r) => setTimeout(r, 30));

function counter() {
  let n = 0;
  return { fn: () => void (n += 1), get count() { return n; } };
}

describe('Windows Core Audio adapter', () => {
  it('lists the active capture endpoints by friendly name, the console default marked', async () => {
    const mic = openWindowsCoreAudio({ native: office() });
    expect(mic.backend).toBe('coreaudio-windows');
    expect(await mic.list()).toEqual([
      { id: JABRA, name: 'Headset Microphone (Jabra Evolve2 65)', isDefault: true },
      { id: REALTEK, name: 'Microphone Array (Realtek(R) Audio)', isDefault: false },
    ]);
  });

  it('reads and sets the default microphone', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    expect(await mic.read(DEFAULT)).toEqual({ device: { id: JABRA, name: 'Headset Microphone (Jabra Evolve2 65)', isDefault: true }, muted: false });
    expect((await mic.setMuted(DEFAULT, true)).muted).toBe(true);
    expect(fake.endpoints.get(JABRA)!.muted).toBe(true);
    expect(fake.endpoints.get(REALTEK)!.muted).toBe(false);
    // SetMute answers S_FALSE when nothing changes: still a success.
    expect((await mic.setMuted(DEFAULT, true)).muted).toBe(true);
    expect((await mic.setMuted(DEFAULT, false)).muted).toBe(false);
  });

  it('mutes both the console and the communications default when they differ, and reads muted only when both are', async () => {
    const fake = office();
    fake.setDefault([ERole.eCommunications], REALTEK);
    const mic = openWindowsCoreAudio({ native: fake });
    const reading = await mic.setMuted(DEFAULT, true);
    expect(reading).toEqual({ device: { id: JABRA, name: 'Headset Microphone (Jabra Evolve2 65)', isDefault: true }, muted: true });
    expect(fake.endpoints.get(JABRA)!.muted).toBe(true);
    expect(fake.endpoints.get(REALTEK)!.muted).toBe(true);
    fake.changeMute(REALTEK, false);
    expect((await mic.read(DEFAULT)).muted).toBe(false);
    await mic.setMuted(DEFAULT, false);
    expect([fake.endpoints.get(JABRA)!.muted, fake.endpoints.get(REALTEK)!.muted]).toEqual([false, false]);
  });

  it('owes back the communications default it muted with the console one: after a crash, the next start unmutes both', async () => {
    const dataDir = tempDir();
    const fake = office();
    fake.setDefault([ERole.eCommunications], REALTEK);
    // MicrophoneSync as `serve` runs it, with no call going on.
    const syncOver = (native: FakeCoreAudio) => new MicrophoneSync({
      port: openWindowsCoreAudio({ native }), choice: DEFAULT, endOfCall: 'app', dataDir, now: Date.now,
      view: () => ({ state: 'waiting', connectedFrames: 0, asleepFrames: 0, call: null }), onViewChange: () => () => {},
      record: () => {
        throw new Error('no call to record');
      },
      apply: () => {}, commandCard: async () => undefined, log: () => {},
    });
    const first = syncOver(fake);
    await first.start();
    await first.setFromCommand(true, 'hotkey');
    expect([fake.endpoints.get(JABRA)!.muted, fake.endpoints.get(REALTEK)!.muted]).toEqual([true, true]);
    const claim = JSON.parse(readFileSync(path.join(dataDir, CLAIM_FILE), 'utf8')) as { devices: Array<{ id: string }> };
    expect(claim.devices.map((d) => d.id).sort()).toEqual([JABRA, REALTEK].sort());
    // The app crashes (no stop, no unmute); the next run starts with both still muted and no call.
    const second = syncOver(fake);
    await second.start();
    expect([fake.endpoints.get(JABRA)!.muted, fake.endpoints.get(REALTEK)!.muted]).toEqual([false, false]);
    expect(existsSync(path.join(dataDir, CLAIM_FILE))).toBe(false);
    await second.stop();
  });

  it('uses the communications default when there is no console default', async () => {
    const fake = office();
    fake.defaults.delete(ERole.eConsole);
    const mic = openWindowsCoreAudio({ native: fake });
    expect(await mic.read(DEFAULT)).toEqual({ device: { id: JABRA, name: 'Headset Microphone (Jabra Evolve2 65)', isDefault: false }, muted: false });
  });

  it('chooses a named microphone by friendly name or by endpoint id', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    const byName = await mic.setMuted({ kind: 'named', name: 'Microphone Array (Realtek(R) Audio)' }, true);
    expect(byName).toEqual({ device: { id: REALTEK, name: 'Microphone Array (Realtek(R) Audio)', isDefault: false }, muted: true });
    expect(fake.endpoints.get(JABRA)!.muted).toBe(false);
    expect((await mic.read({ kind: 'named', name: REALTEK })).muted).toBe(true);
    expect((await mic.read({ kind: 'named', name: 'microphone array (realtek(r) audio)' })).device?.id).toBe(REALTEK);
  });

  it('with no capture device: GetDefaultAudioEndpoint answers E_NOTFOUND, the reading is empty and muting is no_device', async () => {
    const fake = new FakeCoreAudio();
    fake.add(SPEAKERS, 'Speakers (Realtek(R) Audio)');
    const mic = openWindowsCoreAudio({ native: fake });
    expect(await mic.list()).toEqual([]);
    expect(await mic.read(DEFAULT)).toEqual({ device: null, muted: null });
    await expect(mic.setMuted(DEFAULT, true)).rejects.toMatchObject({ name: 'MicrophoneError', code: 'no_device' });
    expect(await mic.read({ kind: 'named', name: 'Headset Microphone (Jabra Evolve2 65)' })).toEqual({ device: null, muted: null });
    await expect(mic.setMuted({ kind: 'named', name: 'nope' }, true)).rejects.toMatchObject({ code: 'no_device' });
  });

  it('after an unplug (AUDCLNT_E_DEVICE_INVALIDATED on the cached interface) follows the default to the next microphone', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    await mic.read(DEFAULT); // activates and caches the Jabra's IAudioEndpointVolume
    fake.unplug(JABRA, REALTEK);
    const reading = await mic.setMuted(DEFAULT, true);
    expect(reading.device?.id).toBe(REALTEK);
    expect(fake.endpoints.get(REALTEK)!.muted).toBe(true);
    // Replugged: its old interface stays dead, a fresh one is activated.
    fake.plug(JABRA);
    fake.setDefault([ERole.eConsole, ERole.eMultimedia, ERole.eCommunications], JABRA);
    expect(await mic.setMuted(DEFAULT, true)).toMatchObject({ device: { id: JABRA }, muted: true });
  });

  it('a chosen microphone that is unplugged reads empty and cannot be muted', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    const choice = { kind: 'named', name: 'Headset Microphone (Jabra Evolve2 65)' } as const;
    await mic.read(choice);
    fake.unplug(JABRA, REALTEK);
    expect(await mic.read(choice)).toEqual({ device: null, muted: null });
    await expect(mic.setMuted(choice, true)).rejects.toMatchObject({ code: 'no_device' });
  });

  it('maps failures: no enumerator class is unavailable, any other HRESULT is failed with its code', async () => {
    const broken = office();
    broken.startFailure = REGDB_E_CLASSNOTREG;
    const mic = openWindowsCoreAudio({ native: broken });
    await expect(mic.read(DEFAULT)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('0x80040154') });
    // Not stuck: the next call tries again.
    broken.startFailure = null;
    expect((await mic.read(DEFAULT)).muted).toBe(false);

    const refusing = office();
    refusing.setMuteFailure = E_OUTOFMEMORY;
    const mic2 = openWindowsCoreAudio({ native: refusing });
    const err = await mic2.setMuted(DEFAULT, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicrophoneError);
    expect(err).toMatchObject({ code: 'failed', message: expect.stringContaining('E_OUTOFMEMORY (0x8007000E)') });
  });

  it('tells subscribers about an outside mute, not about its own SetMute or a volume change', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    const seen = counter();
    const unsubscribe = mic.subscribe(seen.fn);
    await settle();
    expect(fake.client).not.toBeNull();
    expect([...fake.callbacks.values()].map((c) => c.id).sort()).toEqual([JABRA, REALTEK].sort());

    await mic.setMuted(DEFAULT, true);
    await settle();
    expect(seen.count).toBe(0); // our event context: the caller already knows

    fake.changeMute(JABRA, false); // the headset's own mute button
    await expect.poll(() => seen.count).toBe(1);
    expect((await mic.read(DEFAULT)).muted).toBe(false);

    fake.changeVolume(JABRA, 0.3);
    await settle();
    expect(seen.count).toBe(1);

    fake.changeMute(REALTEK, true); // not the default, but a chosen one may be it
    await expect.poll(() => seen.count).toBe(2);

    unsubscribe();
    await settle();
    expect(fake.client).toBeNull();
    expect(fake.callbacks.size).toBe(0);
    fake.changeMute(JABRA, true);
    await settle();
    expect(seen.count).toBe(2);
  });

  it('one change for a default switch (three role notifications), none for render endpoints', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    const seen = counter();
    mic.subscribe(seen.fn);
    await settle();
    fake.renderNews();
    await settle();
    expect(seen.count).toBe(0);
    fake.setDefault([ERole.eConsole, ERole.eMultimedia, ERole.eCommunications], REALTEK);
    await expect.poll(() => seen.count).toBe(1);
    await settle();
    expect(seen.count).toBe(1);
    expect((await mic.read(DEFAULT)).device?.id).toBe(REALTEK);
    await mic.close();
  });

  it('follows devices plugged in and out: a new microphone is watched, a gone one released', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    const seen = counter();
    mic.subscribe(seen.fn);
    await settle();
    fake.plug(USB_CAM);
    await expect.poll(() => seen.count).toBe(1);
    await expect.poll(() => [...fake.callbacks.values()].some((c) => c.id === USB_CAM)).toBe(true);
    fake.changeMute(USB_CAM, true);
    await expect.poll(() => seen.count).toBe(2);

    fake.unplug(JABRA, REALTEK);
    await expect.poll(() => seen.count).toBe(3);
    await expect.poll(() => [...fake.callbacks.values()].some((c) => c.id === JABRA)).toBe(false);
    expect((await mic.read(DEFAULT)).device?.id).toBe(REALTEK);
    await mic.close();
  });

  it('close unregisters, releases every interface it activated and stops', async () => {
    const fake = office();
    const mic = openWindowsCoreAudio({ native: fake });
    mic.subscribe(() => undefined);
    await settle();
    await mic.setMuted(DEFAULT, true);
    await mic.close();
    expect(fake.client).toBeNull();
    expect(fake.callbacks.size).toBe(0);
    expect(fake.released).toBe(fake.activated);
    expect(fake.stopped).toBe(1);
    await expect(mic.read(DEFAULT)).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('Windows COM plumbing: pure helpers against known bytes', () => {
  it('encodes GUID structs little-endian in the first three fields', () => {
    expect(guidBytes(CLSID_MMDeviceEnumerator).toString('hex')).toBe('9503debc2fe57c468e3dc4579291692e');
    expect(guidBytes(IID_IAudioEndpointVolume).toString('hex')).toBe('822cdf5c1e844645' + '97220cf74078229a');
    expect(guidBytes('7991eec9-7e89-4d85-8390-6c703cec60c0').toString('hex')).toBe('c9ee9179897e854d83906c703cec60c0');
    expect(guidText(Buffer.from('c9ee9179897e854d83906c703cec60c0', 'hex'))).toBe(IID_IMMNotificationClient);
    expect(guidText(guidBytes(CLSID_MMDeviceEnumerator))).toBe(CLSID_MMDeviceEnumerator);
    expect(() => guidBytes('not-a-guid')).toThrow(TypeError);
  });

  it('lays out PROPERTYKEY (20 bytes) and PROPVARIANT (16/24 bytes, value at 8)', () => {
    expect(propertyKeyBytes(PKEY_Device_FriendlyName).toString('hex')).toBe('4e255ca41cdffd4e802067d146a850e0' + '0e000000');
    expect(propVariantLayout(8)).toEqual({ size: 24, vtOffset: 0, valueOffset: 8 });
    expect(propVariantLayout(4)).toEqual({ size: 16, vtOffset: 0, valueOffset: 8 });
  });

  it('places vtable slots at index × pointer size', () => {
    expect(IMMDeviceEnumeratorSlots.GetDefaultAudioEndpoint).toBe(4);
    expect(vtableSlotOffset(IMMDeviceEnumeratorSlots.GetDefaultAudioEndpoint, 8)).toBe(32);
    expect(vtableSlotOffset(IAudioEndpointVolumeSlots.SetMute, 8)).toBe(112);
    expect(vtableSlotOffset(IAudioEndpointVolumeSlots.GetMute, 8)).toBe(120);
    expect(vtableSlotOffset(IAudioEndpointVolumeSlots.SetMute, 4)).toBe(56);
    expect(IMMNotificationClientSlots.OnDefaultDeviceChanged).toBe(6);
  });

  it('decodes AUDIO_VOLUME_NOTIFICATION_DATA', () => {
    // guidEventContext, bMuted = TRUE, fMasterVolume = 0.5, nChannels = 2, afChannelVolumes = [0.5, 0.5]
    const bytes = Buffer.from('9503debc2fe57c468e3dc4579291692e' + '01000000' + '0000003f' + '02000000' + '0000003f0000003f', 'hex');
    expect(decodeVolumeNotification(bytes)).toEqual({ eventContext: CLSID_MMDeviceEnumerator, muted: true, masterVolume: 0.5, channels: 2 });
  });

  it('names HRESULTs and keeps them unsigned whatever sign they come with', () => {
    expect(hresultText(E_NOTFOUND)).toBe('E_NOTFOUND (0x80070490)');
    expect(hresultText(-2004287484)).toBe('AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)');
    expect(hresultText(0x80004005)).toBe('0x80004005');
    expect(new HResultError('GetMute', -2147023728).hr).toBe(0x80070490);
  });

  it('loads no native code at import, and the real native layer refuses off Windows', () => {
    // In a fresh process: this file itself loads koffi for the plumbing tests below.
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const adapter = await import(${JSON.stringify(new URL('../../main/core/microphone/windows-coreaudio.ts', import.meta.url).href)});
      const com = await import(${JSON.stringify(new URL('../../main/core/microphone/windows-com.ts', import.meta.url).href)});
      const loaded = () => Object.keys(require.cache).some((p) => p.includes('koffi'));
      const before = loaded();
      let refused = null;
      try { com.createWindowsCoreAudioNative(); } catch (err) { refused = err.code; }
      const reading = await adapter.openWindowsCoreAudio().read({ kind: 'default' }).catch((err) => err.code);
      console.log(JSON.stringify({ before, refused, reading, after: loaded() }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, refused: process.platform === 'win32' ? null : 'unavailable', reading: 'unavailable', after: false });
  });
});

// The hand-built COM object, called from native code the way Windows calls it. libc's bsearch calls
// compar(key, element): with key = the object and the element = our argument, that is a two-argument COM method
// (this, arg). pthread_create calls start(arg) on another thread: a one-argument method (this) from a thread that
// is not the JS thread, as the audio service's notification threads are. qsort_r calls compar(a, b, arg): three
// pointer arguments, as QueryInterface(this, riid, ppv).
describe.runIf(process.platform === 'linux')('Windows COM plumbing: the hand-built vtable, called from native code (koffi on Linux)', () => {
  const koffi = loadKoffi();
  const libc = koffi.load('libc.so.6');
  const P = koffi.sizeof('void *');
  const bsearch = libc.func('void *bsearch(void *key, void *base, size_t n, size_t size, void *compar)');
  const qsortR = libc.func('void qsort_r(void *base, size_t n, size_t size, void *compar, void *arg)');
  const pthreadCreate = libc.func('int pthread_create(void *thread, void *attr, void *start, void *arg)');
  const slot = (object: unknown, index: number) => koffi.decode(koffi.decode(object, 'void *'), index * P, 'void *');

  it('OnNotify receives this and the notification data; the vtable is IUnknown then the interface', () => {
    const got: VolumeNotification[] = [];
    const object = buildComObject(koffi, '{657804FA-D6AD-4496-8A60-352752AF4F89}', [
      { proto: getComPrototypes(koffi).OnNotify, fn: ((p: unknown) => void got.push(decodeVolumeNotification(Uint8Array.from(koffi.decode(p, 'uint8_t', 28) as number[])))) as never },
    ]);
    try {
      const data = Buffer.from('9503debc2fe57c468e3dc4579291692e' + '01000000' + '0000803f' + '01000000' + '0000803f', 'hex');
      const found = bsearch(object.pointer, data, 1, data.length, slot(object.pointer, 3));
      expect(koffi.address(found)).toBe(koffi.address(data)); // OnNotify answered S_OK (0): "equal"
      expect(got).toEqual([{ eventContext: CLSID_MMDeviceEnumerator, muted: true, masterVolume: 1, channels: 1 }]);
    } finally {
      object.dispose();
    }
  });

  it('IMMNotificationClient methods get endpoint ids as strings (UTF-16 in memory)', () => {
    const added: string[] = [];
    const p = getComPrototypes(koffi);
    const object = buildComObject(koffi, IID_IMMNotificationClient, [
      { proto: p.OnDeviceStateChanged, fn: () => undefined },
      { proto: p.OnDeviceAdded, fn: ((id: string) => void added.push(id)) as never },
      { proto: p.OnDeviceRemoved, fn: () => undefined },
      { proto: p.OnDefaultDeviceChanged, fn: () => undefined },
      { proto: p.OnPropertyValueChanged, fn: () => undefined },
    ]);
    try {
      const id = Buffer.from(`${JABRA}\0`, 'utf16le');
      bsearch(object.pointer, id, 1, id.length, slot(object.pointer, IMMNotificationClientSlots.OnDeviceAdded));
      expect(added).toEqual([JABRA]);
    } finally {
      object.dispose();
    }
  });

  it('QueryInterface hands out the object for IUnknown and its own IID, NULL and E_NOINTERFACE otherwise', () => {
    const object = buildComObject(koffi, IID_IMMNotificationClient, []);
    try {
      const ask = (iid: string) => {
        // Two equal elements, so whichever order qsort_r compares them in, riid is the IID.
        const base = Buffer.concat([guidBytes(iid), guidBytes(iid)]);
        const ppv = Buffer.alloc(P, 0xff);
        qsortR(base, 2, 16, slot(object.pointer, 0), ppv);
        return koffi.address(koffi.decode(ppv, 'void *'));
      };
      const before = object.refCount;
      expect(ask(IID_IMMNotificationClient)).not.toBe(0n);
      expect(ask('{00000000-0000-0000-C000-000000000046}')).not.toBe(0n);
      expect(object.refCount).toBe(before + 2);
      expect(ask(IID_IAudioEndpointVolume)).toBe(0n);
      expect(E_NOINTERFACE).toBe(0x80004002);
    } finally {
      object.dispose();
    }
  });

  it('the ole32 declarations parse', () => {
    for (const declaration of Object.values(OLE32_FUNCTIONS)) expect(() => koffi.proto(declaration), declaration).not.toThrow();
  });

  it('AddRef and Release called on another thread reach JS (relayed to the JS thread)', async () => {
    const object = buildComObject(koffi, IID_IMMNotificationClient, []);
    try {
      const thread = Buffer.alloc(8);
      expect(pthreadCreate(thread, null, slot(object.pointer, 1), object.pointer)).toBe(0);
      await expect.poll(() => object.refCount).toBe(2);
      expect(pthreadCreate(thread, null, slot(object.pointer, 2), object.pointer)).toBe(0);
      await expect.poll(() => object.refCount).toBe(1);
    } finally {
      await new Promise((r) => setTimeout(r, 20));
      object.dispose();
    }
  });
});
