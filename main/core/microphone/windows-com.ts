// The raw COM plumbing behind the Windows microphone adapter (windows-coreaudio.ts): GUID bytes, HRESULTs, vtable
// slot numbers, struct layouts, a hand-built COM object whose vtable holds koffi-registered callbacks, and the
// koffi implementation of `WindowsCoreAudioNative`. Nothing here loads koffi at import time: `createWindowsCoreAudioNative`
// does, on Windows only, when the adapter starts. The pure helpers (GUIDs, layouts, HRESULT names) run anywhere and
// are unit-tested under Linux; `buildComObject` runs on any OS koffi supports and is exercised under Linux by calling
// its vtable from native code (libc's bsearch), as the audio service calls it on Windows.
//
// Facts (Windows SDK headers mmdeviceapi.h, endpointvolume.h, functiondiscoverykeys_devpkey.h, and the pages cited):
// every COM interface starts with IUnknown's three slots; methods are __stdcall (matters on 32-bit x86 only); an
// HRESULT is a 32-bit LONG whose high bit means failure.

import { createRequire } from 'node:module';
import type * as KoffiModule from 'koffi';
import { MicrophoneError } from './microphone-port.ts';
import type {
  EndpointNotificationHandlers,
  EndpointVolume,
  VolumeNotification,
  WindowsCoreAudioNative,
} from './windows-coreaudio.ts';

type Koffi = typeof KoffiModule;
type KoffiType = ReturnType<Koffi['proto']>;

// ---------------------------------------------------------------------------------------------------------------
// GUIDs. A GUID in memory is { uint32 Data1; uint16 Data2; uint16 Data3; uint8 Data4[8] } with the three numbers in
// the machine's (little-endian) order: "{BCDE0395-E52F-467C-8E3D-C4579291692E}" is 95 03 DE BC 2F E5 7C 46 8E 3D C4 57 …
// https://learn.microsoft.com/en-us/windows/win32/api/guiddef/ns-guiddef-guid

const GUID_TEXT = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** The 16 bytes of a GUID struct for its registry-format text (braces optional). */
export function guidBytes(text: string): Buffer {
  const m = GUID_TEXT.exec(text);
  if (!m) throw new TypeError(`Not a GUID: ${text}`);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(Number.parseInt(m[1]!, 16), 0);
  out.writeUInt16LE(Number.parseInt(m[2]!, 16), 4);
  out.writeUInt16LE(Number.parseInt(m[3]!, 16), 6);
  Buffer.from(m[4]! + m[5]!, 'hex').copy(out, 8);
  return out;
}

/** Registry-format text ("{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}", upper case) of a GUID struct's 16 bytes. */
export function guidText(bytes: Uint8Array, offset = 0): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset + offset, 16);
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  const tail = b.subarray(8, 16).toString('hex').toUpperCase();
  return `{${hex(b.readUInt32LE(0), 8)}-${hex(b.readUInt16LE(4), 4)}-${hex(b.readUInt16LE(6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}}`;
}

export const GUID_NULL = '{00000000-0000-0000-0000-000000000000}';
/** https://learn.microsoft.com/en-us/windows/win32/api/unknwn/nn-unknwn-iunknown */
export const IID_IUnknown = '{00000000-0000-0000-C000-000000000046}';
/** https://learn.microsoft.com/en-us/windows/win32/coreaudio/mmdevice-api (CLSID_MMDeviceEnumerator, mmdeviceapi.h) */
export const CLSID_MMDeviceEnumerator = '{BCDE0395-E52F-467C-8E3D-C4579291692E}';
export const IID_IMMDeviceEnumerator = '{A95664D2-9614-4F35-A746-DE8DB63617E6}';
export const IID_IMMNotificationClient = '{7991EEC9-7E89-4D85-8390-6C703CEC60C0}';
/** https://learn.microsoft.com/en-us/windows/win32/api/endpointvolume/nn-endpointvolume-iaudioendpointvolume */
export const IID_IAudioEndpointVolume = '{5CDF2C82-841E-4546-9722-0CF74078229A}';
export const IID_IAudioEndpointVolumeCallback = '{657804FA-D6AD-4496-8A60-352752AF4F89}';
/** PKEY_Device_FriendlyName = { fmtid, pid 14 }: https://learn.microsoft.com/en-us/windows/win32/coreaudio/pkey-device-friendlyname */
export const PKEY_Device_FriendlyName = { fmtid: '{A45C254E-DF1C-4EFD-8020-67D146A850E0}', pid: 14 } as const;

/** PROPERTYKEY { GUID fmtid; DWORD pid; }: 20 bytes. https://learn.microsoft.com/en-us/windows/win32/api/wtypes/ns-wtypes-propertykey */
export function propertyKeyBytes(key: { fmtid: string; pid: number }): Buffer {
  const out = Buffer.alloc(20);
  guidBytes(key.fmtid).copy(out, 0);
  out.writeUInt32LE(key.pid, 16);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// HRESULTs, as unsigned 32-bit numbers (koffi hands an HRESULT back as a signed int32: `>>> 0` it first).

export const S_OK = 0;
export const S_FALSE = 1;
export const E_NOINTERFACE = 0x80004002;
export const E_POINTER = 0x80004003;
export const E_INVALIDARG = 0x80070057;
export const E_OUTOFMEMORY = 0x8007000e;
/** HRESULT_FROM_WIN32(ERROR_NOT_FOUND): GetDefaultAudioEndpoint when no device of that flow/role exists.
 * https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nf-mmdeviceapi-immdeviceenumerator-getdefaultaudioendpoint */
export const E_NOTFOUND = 0x80070490;
/** The endpoint was unplugged, disabled or removed after the interface was obtained (Activate and every
 * IAudioEndpointVolume method answer it from then on). https://learn.microsoft.com/en-us/windows/win32/coreaudio/audclnt-err-constants */
export const AUDCLNT_E_DEVICE_INVALIDATED = 0x88890004;
/** CoInitializeEx on a thread that already has another apartment (Electron's main thread is an STA).
 * https://learn.microsoft.com/en-us/windows/win32/api/combaseapi/nf-combaseapi-coinitializeex */
export const RPC_E_CHANGED_MODE = 0x80010106;
export const CO_E_NOTINITIALIZED = 0x800401f0;
export const REGDB_E_CLASSNOTREG = 0x80040154;

const HRESULT_NAMES: Record<number, string> = {
  [S_OK]: 'S_OK',
  [S_FALSE]: 'S_FALSE',
  [E_NOINTERFACE]: 'E_NOINTERFACE',
  [E_POINTER]: 'E_POINTER',
  [E_INVALIDARG]: 'E_INVALIDARG',
  [E_OUTOFMEMORY]: 'E_OUTOFMEMORY',
  [E_NOTFOUND]: 'E_NOTFOUND',
  [AUDCLNT_E_DEVICE_INVALIDATED]: 'AUDCLNT_E_DEVICE_INVALIDATED',
  [RPC_E_CHANGED_MODE]: 'RPC_E_CHANGED_MODE',
  [CO_E_NOTINITIALIZED]: 'CO_E_NOTINITIALIZED',
  [REGDB_E_CLASSNOTREG]: 'REGDB_E_CLASSNOTREG',
};

export function hresultText(hr: number): string {
  const u = hr >>> 0;
  const hex = `0x${u.toString(16).toUpperCase().padStart(8, '0')}`;
  const name = HRESULT_NAMES[u];
  return name ? `${name} (${hex})` : hex;
}

export function failed(hr: number): boolean {
  return (hr | 0) < 0;
}

/** A COM call answered a failure HRESULT. `hr` is unsigned (0x80070490, not -2147023728). */
export class HResultError extends Error {
  readonly hr: number;
  constructor(method: string, hr: number) {
    super(`${method} failed: ${hresultText(hr)}`);
    this.name = 'HResultError';
    this.hr = hr >>> 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Enumerations and flags (mmdeviceapi.h, objbase.h).

/** https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/ne-mmdeviceapi-edataflow */
export const EDataFlow = { eRender: 0, eCapture: 1, eAll: 2 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/ne-mmdeviceapi-erole */
export const ERole = { eConsole: 0, eMultimedia: 1, eCommunications: 2 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/coreaudio/device-state-xxx-constants */
export const DEVICE_STATE = { ACTIVE: 0x1, DISABLED: 0x2, NOTPRESENT: 0x4, UNPLUGGED: 0x8 } as const;
/** CLSCTX_INPROC_SERVER | CLSCTX_INPROC_HANDLER | CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER */
export const CLSCTX_ALL = 0x17;
export const STGM_READ = 0;
/** https://learn.microsoft.com/en-us/windows/win32/api/wtypes/ne-wtypes-varenum */
export const VT_LPWSTR = 31;

// ---------------------------------------------------------------------------------------------------------------
// Vtable slots: the method's index in the interface's vtable (IUnknown's 3, then the interface's methods in header
// order). A method's function pointer lives at `vtable + index * sizeof(void *)`.

export const IUnknownSlots = { QueryInterface: 0, AddRef: 1, Release: 2 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nn-mmdeviceapi-immdeviceenumerator */
export const IMMDeviceEnumeratorSlots = {
  ...IUnknownSlots,
  EnumAudioEndpoints: 3,
  GetDefaultAudioEndpoint: 4,
  GetDevice: 5,
  RegisterEndpointNotificationCallback: 6,
  UnregisterEndpointNotificationCallback: 7,
} as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nn-mmdeviceapi-immdevicecollection */
export const IMMDeviceCollectionSlots = { ...IUnknownSlots, GetCount: 3, Item: 4 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nn-mmdeviceapi-immdevice */
export const IMMDeviceSlots = { ...IUnknownSlots, Activate: 3, OpenPropertyStore: 4, GetId: 5, GetState: 6 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/propsys/nn-propsys-ipropertystore */
export const IPropertyStoreSlots = { ...IUnknownSlots, GetCount: 3, GetAt: 4, GetValue: 5, SetValue: 6, Commit: 7 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/endpointvolume/nn-endpointvolume-iaudioendpointvolume */
export const IAudioEndpointVolumeSlots = {
  ...IUnknownSlots,
  RegisterControlChangeNotify: 3,
  UnregisterControlChangeNotify: 4,
  GetChannelCount: 5,
  SetMasterVolumeLevel: 6,
  SetMasterVolumeLevelScalar: 7,
  GetMasterVolumeLevel: 8,
  GetMasterVolumeLevelScalar: 9,
  SetChannelVolumeLevel: 10,
  SetChannelVolumeLevelScalar: 11,
  GetChannelVolumeLevel: 12,
  GetChannelVolumeLevelScalar: 13,
  SetMute: 14,
  GetMute: 15,
  GetVolumeStepInfo: 16,
  VolumeStepUp: 17,
  VolumeStepDown: 18,
  QueryHardwareSupport: 19,
  GetVolumeRange: 20,
} as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/endpointvolume/nn-endpointvolume-iaudioendpointvolumecallback */
export const IAudioEndpointVolumeCallbackSlots = { ...IUnknownSlots, OnNotify: 3 } as const;
/** https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nn-mmdeviceapi-immnotificationclient */
export const IMMNotificationClientSlots = {
  ...IUnknownSlots,
  OnDeviceStateChanged: 3,
  OnDeviceAdded: 4,
  OnDeviceRemoved: 5,
  OnDefaultDeviceChanged: 6,
  OnPropertyValueChanged: 7,
} as const;

export function vtableSlotOffset(slot: number, pointerSize: number): number {
  return slot * pointerSize;
}

// ---------------------------------------------------------------------------------------------------------------
// Struct layouts.

/** PROPVARIANT: VARTYPE vt (2) + 3 reserved WORDs, then the value union at offset 8. The union holds a pointer pair
 * (BLOB, CA*), so the struct is 16 bytes on 32-bit Windows and 24 on 64-bit.
 * https://learn.microsoft.com/en-us/windows/win32/api/propidlbase/ns-propidlbase-propvariant */
export function propVariantLayout(pointerSize: number): { size: number; vtOffset: 0; valueOffset: 8 } {
  return { size: pointerSize === 8 ? 24 : 16, vtOffset: 0, valueOffset: 8 };
}

/** AUDIO_VOLUME_NOTIFICATION_DATA { GUID guidEventContext; BOOL bMuted; float fMasterVolume; UINT nChannels;
 * float afChannelVolumes[nChannels]; } https://learn.microsoft.com/en-us/windows/win32/api/endpointvolume/ns-endpointvolume-audio_volume_notification_data */
export const VOLUME_NOTIFICATION_LAYOUT = { guidEventContext: 0, bMuted: 16, fMasterVolume: 20, nChannels: 24, afChannelVolumes: 28 } as const;

/** Decodes the fixed head of AUDIO_VOLUME_NOTIFICATION_DATA (the first 28 bytes). */
export function decodeVolumeNotification(bytes: Uint8Array): VolumeNotification {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    eventContext: guidText(b, VOLUME_NOTIFICATION_LAYOUT.guidEventContext),
    muted: b.readInt32LE(VOLUME_NOTIFICATION_LAYOUT.bMuted) !== 0,
    masterVolume: b.readFloatLE(VOLUME_NOTIFICATION_LAYOUT.fMasterVolume),
    channels: b.readUInt32LE(VOLUME_NOTIFICATION_LAYOUT.nChannels),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// koffi.

/** Loads koffi (a native module) now. Only the native layers call this, and only on the OS they are for. */
export function loadKoffi(): Koffi {
  return createRequire(import.meta.url)('koffi') as Koffi;
}

/** Prototypes shared by the COM objects and calls. HRESULT is a 32-bit LONG on Windows: spelled int32_t, so the same
 * prototypes also mean the same thing under Linux (where `long` is 64-bit) for the plumbing tests. */
export function comPrototypes(koffi: Koffi) {
  return {
    QueryInterface: koffi.proto('int32_t __stdcall ComQueryInterface(void *self, void *riid, void *ppv)'),
    AddRef: koffi.proto('uint32_t __stdcall ComAddRef(void *self)'),
    Release: koffi.proto('uint32_t __stdcall ComRelease(void *self)'),
    // IAudioEndpointVolumeCallback
    OnNotify: koffi.proto('int32_t __stdcall ComOnNotify(void *self, void *pNotify)'),
    // IMMNotificationClient
    OnDeviceStateChanged: koffi.proto('int32_t __stdcall ComOnDeviceStateChanged(void *self, const char16_t *id, uint32_t state)'),
    OnDeviceAdded: koffi.proto('int32_t __stdcall ComOnDeviceAdded(void *self, const char16_t *id)'),
    OnDeviceRemoved: koffi.proto('int32_t __stdcall ComOnDeviceRemoved(void *self, const char16_t *id)'),
    OnDefaultDeviceChanged: koffi.proto('int32_t __stdcall ComOnDefaultDeviceChanged(void *self, int32_t flow, int32_t role, const char16_t *id)'),
    // PROPERTYKEY travels by value (20 bytes): koffi passes it as the ABI wants (by hidden pointer on x64).
    OnPropertyValueChanged: koffi.proto('int32_t __stdcall ComOnPropertyValueChanged(void *self, const char16_t *id, ComPropertyKey key)'),
    // Calls into Core Audio objects
    EnumAudioEndpoints: koffi.proto('int32_t __stdcall ComEnumAudioEndpoints(void *self, int32_t flow, uint32_t mask, void *ppDevices)'),
    GetDefaultAudioEndpoint: koffi.proto('int32_t __stdcall ComGetDefaultAudioEndpoint(void *self, int32_t flow, int32_t role, void *ppDevice)'),
    GetDevice: koffi.proto('int32_t __stdcall ComGetDevice(void *self, const char16_t *id, void *ppDevice)'),
    RegisterCallback: koffi.proto('int32_t __stdcall ComRegisterCallback(void *self, void *client)'),
    GetCount: koffi.proto('int32_t __stdcall ComGetCount(void *self, void *pCount)'),
    Item: koffi.proto('int32_t __stdcall ComItem(void *self, uint32_t index, void *ppDevice)'),
    Activate: koffi.proto('int32_t __stdcall ComActivate(void *self, void *iid, uint32_t clsctx, void *params, void *ppInterface)'),
    OpenPropertyStore: koffi.proto('int32_t __stdcall ComOpenPropertyStore(void *self, uint32_t access, void *ppStore)'),
    GetId: koffi.proto('int32_t __stdcall ComGetId(void *self, void *ppId)'),
    GetValue: koffi.proto('int32_t __stdcall ComGetValue(void *self, void *key, void *pv)'),
    SetMute: koffi.proto('int32_t __stdcall ComSetMute(void *self, int32_t mute, void *context)'),
    GetMute: koffi.proto('int32_t __stdcall ComGetMute(void *self, void *pMute)'),
  };
}

let propertyKeyType: KoffiType | null = null;
function ensurePropertyKeyType(koffi: Koffi): void {
  // Declared once per process (koffi names are global).
  if (!propertyKeyType) {
    propertyKeyType = koffi.struct('ComPropertyKey', { fmtid: koffi.array('uint8_t', 16), pid: 'uint32_t' });
  }
}

export type ComPrototypes = ReturnType<typeof comPrototypes>;
let prototypes: ComPrototypes | null = null;
export function getComPrototypes(koffi: Koffi): ComPrototypes {
  ensurePropertyKeyType(koffi);
  prototypes ??= comPrototypes(koffi);
  return prototypes;
}

/** A COM object made here: a pointer-sized block holding the address of a vtable of koffi-registered callbacks. */
export interface ComObject {
  /** The interface pointer to hand to Windows (an opaque koffi pointer). */
  readonly pointer: unknown;
  /** The current reference count (AddRef/Release are counted, never free: `dispose` does, after unregistering). */
  readonly refCount: number;
  /** Unregisters the callbacks and frees the memory. Only after Windows has let go of the object. */
  dispose(): void;
}

export interface ComMethod {
  proto: KoffiType;
  /** Receives the arguments after `this`. Returns the HRESULT (S_OK when it returns nothing). */
  fn: (...args: never[]) => number | void;
}

/**
 * Builds a COM object implementing IUnknown plus `methods` (in vtable order, from slot 3), answering
 * QueryInterface for IID_IUnknown and `iid`. Rules: https://learn.microsoft.com/en-us/windows/win32/api/unknwn/nf-unknwn-iunknown-queryinterface(refiid_void)
 * (set *ppv to NULL and answer E_NOINTERFACE for anything else).
 */
export function buildComObject(koffi: Koffi, iid: string, methods: ComMethod[]): ComObject {
  const protos = getComPrototypes(koffi);
  const pointerSize = koffi.sizeof('void *');
  const known = [guidBytes(IID_IUnknown), guidBytes(iid)];
  let refCount = 1;
  const registered: ReturnType<Koffi['register']>[] = [];
  const register = (fn: (...args: never[]) => unknown, proto: KoffiType) => {
    const cb = koffi.register(fn as (...args: unknown[]) => unknown, koffi.pointer(proto));
    registered.push(cb);
    return cb;
  };
  const slots = [
    register((self: unknown, riid: unknown, ppv: unknown) => {
      if (ppv === null) return E_POINTER | 0;
      const asked = Buffer.from(koffi.decode(riid, 'uint8_t', 16) as number[]);
      if (known.some((k) => k.equals(asked))) {
        koffi.encode(ppv, 'void *', self);
        refCount += 1;
        return S_OK;
      }
      koffi.encode(ppv, 'void *', null);
      return E_NOINTERFACE | 0;
    }, protos.QueryInterface),
    register(() => (refCount += 1), protos.AddRef),
    register(() => (refCount = Math.max(0, refCount - 1)), protos.Release),
    ...methods.map((m) =>
      register((_self: unknown, ...args: never[]) => {
        try {
          return m.fn(...args) ?? S_OK;
        } catch {
          // A throw must not travel into the audio service; koffi would answer 0 (S_OK) anyway.
          return S_OK;
        }
      }, m.proto),
    ),
  ];
  const vtable = koffi.alloc('void *', slots.length);
  slots.forEach((cb, i) => koffi.encode(vtable, vtableSlotOffset(i, pointerSize), 'void *', cb));
  const object = koffi.alloc('void *', 1);
  koffi.encode(object, 0, 'void *', vtable);
  let disposed = false;
  return {
    pointer: object,
    get refCount() {
      return refCount;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const cb of registered) koffi.unregister(cb);
      koffi.free(object);
      koffi.free(vtable);
    },
  };
}

/** The function at `slot` of a COM object's vtable, callable (and `.async`-callable) through koffi. */
export function comMethod(koffi: Koffi, object: unknown, slot: number, proto: KoffiType) {
  const vtable = koffi.decode(object, 'void *') as unknown;
  const fn = koffi.decode(vtable, vtableSlotOffset(slot, koffi.sizeof('void *')), 'void *') as unknown;
  return koffi.decode(fn, proto) as KoffiModule.KoffiFunction;
}

/** Runs a koffi function on a worker thread, resolving with its result. */
export function callAsync(fn: KoffiModule.KoffiFunction, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, result: number) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The real native layer.
//
// Threads: every Core Audio call runs on a koffi worker thread (`.async`), never on the JS thread. Notifications
// come on the audio service's threads; koffi blocks such a thread until the JS thread has run the callback. If the
// JS thread were itself blocked inside a Core Audio call that waits for that notification thread (the documented
// case: Register/UnregisterEndpointNotificationCallback, see the IMMNotificationClient remarks
// https://learn.microsoft.com/en-us/windows/win32/api/mmdeviceapi/nn-mmdeviceapi-immnotificationclient), the two
// would wait for each other forever. Worker threads are in the process's multithreaded apartment because
// CoIncrementMTAUsage keeps one alive ("implicit MTA"):
// https://learn.microsoft.com/en-us/windows/win32/api/combaseapi/nf-combaseapi-coincrementmtausage
// That also keeps out of the JS thread's apartment, which in Electron is an STA that Chromium owns.

/** ole32.dll's functions used here, as koffi declarations (https://learn.microsoft.com/en-us/windows/win32/api/combaseapi/). */
export const OLE32_FUNCTIONS = {
  CoIncrementMTAUsage: 'int32_t __stdcall CoIncrementMTAUsage(void *pCookie)',
  CoDecrementMTAUsage: 'int32_t __stdcall CoDecrementMTAUsage(void *cookie)',
  CoCreateInstance: 'int32_t __stdcall CoCreateInstance(void *rclsid, void *outer, uint32_t clsctx, void *riid, void *ppv)',
  CoTaskMemFree: 'void __stdcall CoTaskMemFree(void *pv)',
  PropVariantClear: 'int32_t __stdcall PropVariantClear(void *pvar)',
} as const;

export function createWindowsCoreAudioNative(): WindowsCoreAudioNative {
  if (process.platform !== 'win32') {
    throw new MicrophoneError('unavailable', 'Core Audio for Windows is only available on Windows');
  }
  let koffi: Koffi;
  try {
    koffi = loadKoffi();
  } catch (err) {
    throw new MicrophoneError('unavailable', `koffi could not be loaded: ${(err as Error).message}`);
  }
  return new KoffiWindowsCoreAudio(koffi);
}

class KoffiWindowsCoreAudio implements WindowsCoreAudioNative {
  private readonly koffi: Koffi;
  private readonly p: ComPrototypes;
  private readonly ptrSize: number;
  private readonly ole32;
  private enumerator: unknown = null;
  private mtaCookie: unknown = null;
  private notificationClient: ComObject | null = null;

  constructor(koffi: Koffi) {
    this.koffi = koffi;
    this.p = getComPrototypes(koffi);
    this.ptrSize = koffi.sizeof('void *');
    const lib = koffi.load('ole32.dll');
    this.ole32 = {
      CoIncrementMTAUsage: lib.func(OLE32_FUNCTIONS.CoIncrementMTAUsage),
      CoDecrementMTAUsage: lib.func(OLE32_FUNCTIONS.CoDecrementMTAUsage),
      CoCreateInstance: lib.func(OLE32_FUNCTIONS.CoCreateInstance),
      CoTaskMemFree: lib.func(OLE32_FUNCTIONS.CoTaskMemFree),
      PropVariantClear: lib.func(OLE32_FUNCTIONS.PropVariantClear),
    };
  }

  private check(method: string, hr: number): number {
    if (failed(hr)) throw new HResultError(method, hr);
    return hr >>> 0;
  }

  private outPointer(): Buffer {
    return Buffer.alloc(this.ptrSize);
  }

  private readPointer(buf: Buffer): unknown {
    return this.koffi.decode(buf, 'void *');
  }

  private async call(object: unknown, slot: number, proto: KoffiType, method: string, ...args: unknown[]): Promise<number> {
    return this.check(method, await callAsync(comMethod(this.koffi, object, slot, proto), object, ...args));
  }

  /** IUnknown::Release, on a worker thread like every other call on these (multithreaded-apartment) objects. */
  private release(object: unknown): void {
    if (object) comMethod(this.koffi, object, IUnknownSlots.Release, this.p.Release).async(object, () => undefined);
  }

  async start(): Promise<void> {
    const cookie = this.outPointer();
    this.check('CoIncrementMTAUsage', await callAsync(this.ole32.CoIncrementMTAUsage, cookie));
    this.mtaCookie = this.readPointer(cookie);
    const out = this.outPointer();
    this.check(
      'CoCreateInstance(MMDeviceEnumerator)',
      await callAsync(this.ole32.CoCreateInstance, guidBytes(CLSID_MMDeviceEnumerator), null, CLSCTX_ALL, guidBytes(IID_IMMDeviceEnumerator), out),
    );
    this.enumerator = this.readPointer(out);
  }

  private async deviceId(device: unknown): Promise<string> {
    const out = this.outPointer();
    await this.call(device, IMMDeviceSlots.GetId, this.p.GetId, 'IMMDevice::GetId', out);
    const text = this.koffi.decode(out, 'const char16_t *') as string;
    this.ole32.CoTaskMemFree(this.readPointer(out));
    return text;
  }

  async captureEndpointIds(): Promise<string[]> {
    const out = this.outPointer();
    await this.call(this.enumerator, IMMDeviceEnumeratorSlots.EnumAudioEndpoints, this.p.EnumAudioEndpoints,
      'IMMDeviceEnumerator::EnumAudioEndpoints', EDataFlow.eCapture, DEVICE_STATE.ACTIVE, out);
    const collection = this.readPointer(out);
    try {
      const count = Buffer.alloc(4);
      await this.call(collection, IMMDeviceCollectionSlots.GetCount, this.p.GetCount, 'IMMDeviceCollection::GetCount', count);
      const ids: string[] = [];
      for (let i = 0; i < count.readUInt32LE(0); i++) {
        const item = this.outPointer();
        await this.call(collection, IMMDeviceCollectionSlots.Item, this.p.Item, 'IMMDeviceCollection::Item', i, item);
        const device = this.readPointer(item);
        try {
          ids.push(await this.deviceId(device));
        } finally {
          this.release(device);
        }
      }
      return ids;
    } finally {
      this.release(collection);
    }
  }

  async defaultCaptureEndpointId(role: number): Promise<string> {
    const out = this.outPointer();
    await this.call(this.enumerator, IMMDeviceEnumeratorSlots.GetDefaultAudioEndpoint, this.p.GetDefaultAudioEndpoint,
      'IMMDeviceEnumerator::GetDefaultAudioEndpoint', EDataFlow.eCapture, role, out);
    const device = this.readPointer(out);
    try {
      return await this.deviceId(device);
    } finally {
      this.release(device);
    }
  }

  private async withDevice<T>(id: string, use: (device: unknown) => Promise<T>): Promise<T> {
    const out = this.outPointer();
    await this.call(this.enumerator, IMMDeviceEnumeratorSlots.GetDevice, this.p.GetDevice, 'IMMDeviceEnumerator::GetDevice', id, out);
    const device = this.readPointer(out);
    try {
      return await use(device);
    } finally {
      this.release(device);
    }
  }

  async friendlyName(id: string): Promise<string> {
    return this.withDevice(id, async (device) => {
      const out = this.outPointer();
      await this.call(device, IMMDeviceSlots.OpenPropertyStore, this.p.OpenPropertyStore, 'IMMDevice::OpenPropertyStore', STGM_READ, out);
      const store = this.readPointer(out);
      const layout = propVariantLayout(this.ptrSize);
      const pv = Buffer.alloc(layout.size);
      try {
        await this.call(store, IPropertyStoreSlots.GetValue, this.p.GetValue, 'IPropertyStore::GetValue', propertyKeyBytes(PKEY_Device_FriendlyName), pv);
        // VT_EMPTY when the endpoint has no friendly name (https://learn.microsoft.com/en-us/windows/win32/api/propsys/nf-propsys-ipropertystore-getvalue).
        const name = pv.readUInt16LE(layout.vtOffset) === VT_LPWSTR ? (this.koffi.decode(pv, layout.valueOffset, 'const char16_t *') as string) : '';
        this.ole32.PropVariantClear(pv);
        return name;
      } finally {
        this.release(store);
      }
    });
  }

  async activateEndpointVolume(id: string): Promise<EndpointVolume> {
    const volume = await this.withDevice(id, async (device) => {
      const out = this.outPointer();
      await this.call(device, IMMDeviceSlots.Activate, this.p.Activate, 'IMMDevice::Activate(IAudioEndpointVolume)',
        guidBytes(IID_IAudioEndpointVolume), CLSCTX_ALL, null, out);
      return this.readPointer(out);
    });
    return new KoffiEndpointVolume(this, volume);
  }

  /** For KoffiEndpointVolume. */
  callOn(object: unknown, slot: number, proto: KoffiType, method: string, ...args: unknown[]): Promise<number> {
    return this.call(object, slot, proto, method, ...args);
  }
  releaseObject(object: unknown): void {
    this.release(object);
  }
  get koffiModule(): Koffi {
    return this.koffi;
  }
  get prototypes(): ComPrototypes {
    return this.p;
  }

  async registerEndpointNotifications(handlers: EndpointNotificationHandlers): Promise<void> {
    if (this.notificationClient) return;
    const p = this.p;
    const client = buildComObject(this.koffi, IID_IMMNotificationClient, [
      { proto: p.OnDeviceStateChanged, fn: ((id: string, state: number) => handlers.onDeviceStateChanged(id, state)) as ComMethod['fn'] },
      { proto: p.OnDeviceAdded, fn: ((id: string) => handlers.onDeviceAdded(id)) as ComMethod['fn'] },
      { proto: p.OnDeviceRemoved, fn: ((id: string) => handlers.onDeviceRemoved(id)) as ComMethod['fn'] },
      { proto: p.OnDefaultDeviceChanged, fn: ((flow: number, role: number, id: string | null) => handlers.onDefaultDeviceChanged(flow, role, id)) as ComMethod['fn'] },
      { proto: p.OnPropertyValueChanged, fn: () => S_OK },
    ]);
    try {
      await this.call(this.enumerator, IMMDeviceEnumeratorSlots.RegisterEndpointNotificationCallback, p.RegisterCallback,
        'IMMDeviceEnumerator::RegisterEndpointNotificationCallback', client.pointer);
    } catch (err) {
      client.dispose();
      throw err;
    }
    this.notificationClient = client;
  }

  async unregisterEndpointNotifications(): Promise<void> {
    const client = this.notificationClient;
    if (!client) return;
    this.notificationClient = null;
    await this.call(this.enumerator, IMMDeviceEnumeratorSlots.UnregisterEndpointNotificationCallback, this.p.RegisterCallback,
      'IMMDeviceEnumerator::UnregisterEndpointNotificationCallback', client.pointer);
    client.dispose();
  }

  async stop(): Promise<void> {
    await this.unregisterEndpointNotifications().catch(() => undefined);
    this.release(this.enumerator);
    this.enumerator = null;
    if (this.mtaCookie) await callAsync(this.ole32.CoDecrementMTAUsage, this.mtaCookie).catch(() => undefined);
    this.mtaCookie = null;
  }
}

class KoffiEndpointVolume implements EndpointVolume {
  private readonly owner: KoffiWindowsCoreAudio;
  private object: unknown;
  private callback: ComObject | null = null;

  constructor(owner: KoffiWindowsCoreAudio, object: unknown) {
    this.owner = owner;
    this.object = object;
  }

  async getMute(): Promise<boolean> {
    const out = Buffer.alloc(4); // BOOL
    await this.owner.callOn(this.object, IAudioEndpointVolumeSlots.GetMute, this.owner.prototypes.GetMute, 'IAudioEndpointVolume::GetMute', out);
    return out.readInt32LE(0) !== 0;
  }

  setMute(muted: boolean, eventContext: string): Promise<number> {
    return this.owner.callOn(this.object, IAudioEndpointVolumeSlots.SetMute, this.owner.prototypes.SetMute, 'IAudioEndpointVolume::SetMute',
      muted ? 1 : 0, guidBytes(eventContext));
  }

  async registerControlChangeNotify(onNotify: (data: VolumeNotification) => void): Promise<void> {
    if (this.callback) return;
    const koffi = this.owner.koffiModule;
    const callback = buildComObject(koffi, IID_IAudioEndpointVolumeCallback, [
      {
        proto: this.owner.prototypes.OnNotify,
        fn: ((pNotify: unknown) => {
          if (pNotify) onNotify(decodeVolumeNotification(Uint8Array.from(koffi.decode(pNotify, 'uint8_t', VOLUME_NOTIFICATION_LAYOUT.afChannelVolumes) as number[])));
          return S_OK;
        }) as ComMethod['fn'],
      },
    ]);
    try {
      await this.owner.callOn(this.object, IAudioEndpointVolumeSlots.RegisterControlChangeNotify, this.owner.prototypes.RegisterCallback,
        'IAudioEndpointVolume::RegisterControlChangeNotify', callback.pointer);
    } catch (err) {
      callback.dispose();
      throw err;
    }
    this.callback = callback;
  }

  async unregisterControlChangeNotify(): Promise<void> {
    const callback = this.callback;
    if (!callback) return;
    this.callback = null;
    try {
      await this.owner.callOn(this.object, IAudioEndpointVolumeSlots.UnregisterControlChangeNotify, this.owner.prototypes.RegisterCallback,
        'IAudioEndpointVolume::UnregisterControlChangeNotify', callback.pointer);
    } finally {
      // After unplug the call answers AUDCLNT_E_DEVICE_INVALIDATED and the endpoint sends nothing more.
      callback.dispose();
    }
  }

  release(): void {
    if (this.object) this.owner.releaseObject(this.object);
    this.object = null;
  }
}
