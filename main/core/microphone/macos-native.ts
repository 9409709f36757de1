// The raw CoreAudio/CoreFoundation plumbing behind the macOS microphone adapter (macos-coreaudio.ts): four-char
// codes, OSStatus names, the AudioObjectPropertyAddress struct, and the koffi implementation of `MacCoreAudioNative`.
// Nothing here loads koffi at import time: `createMacCoreAudioNative` does, on macOS only.
//
// Facts from CoreAudio's AudioHardware.h / AudioHardwareBase.h and the Apple pages cited.

import type * as KoffiModule from 'koffi';
import { MicrophoneError } from './microphone-port.ts';
import type { MacCoreAudioNative, PropertyAddress } from './macos-coreaudio.ts';
import { callAsync, loadKoffi } from './windows-com.ts';

type Koffi = typeof KoffiModule;

/** A four-char code as CoreAudio's headers spell it ('mute' = 0x6D757465): the four ASCII bytes, big-endian. */
export function fourCC(code: string): number {
  if (code.length !== 4 || /[^\x20-\x7e]/.test(code)) throw new TypeError(`Not a four-char code: ${JSON.stringify(code)}`);
  return ((code.charCodeAt(0) << 24) | (code.charCodeAt(1) << 16) | (code.charCodeAt(2) << 8) | code.charCodeAt(3)) >>> 0;
}

/** The code's text when all four bytes are printable ASCII, else null (OSStatus values such as -50 are not codes). */
export function fourCCText(value: number): string | null {
  const u = value >>> 0;
  const bytes = [u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff];
  return bytes.every((b) => b >= 0x20 && b <= 0x7e) ? String.fromCharCode(...bytes) : null;
}

/** https://developer.apple.com/documentation/coreaudio/kaudioobjectsystemobject */
export const kAudioObjectSystemObject = 1;
export const kAudioObjectUnknown = 0;

// Selectors. https://developer.apple.com/documentation/coreaudio/audio_hardware_properties (and the pages below)
/** https://developer.apple.com/documentation/coreaudio/kaudiohardwarepropertydefaultinputdevice */
export const kAudioHardwarePropertyDefaultInputDevice = fourCC('dIn ');
/** https://developer.apple.com/documentation/coreaudio/kaudiohardwarepropertydevices */
export const kAudioHardwarePropertyDevices = fourCC('dev#');
/** CFRunLoopRef for notifications; NULL makes the HAL use its own thread. https://developer.apple.com/documentation/coreaudio/kaudiohardwarepropertyrunloop */
export const kAudioHardwarePropertyRunLoop = fourCC('rnlp');
/** https://developer.apple.com/documentation/coreaudio/kaudiodevicepropertystreams */
export const kAudioDevicePropertyStreams = fourCC('stm#');
/** CFString, released by the caller. https://developer.apple.com/documentation/coreaudio/kaudioobjectpropertyname */
export const kAudioObjectPropertyName = fourCC('lnam');
/** The same selector under its device name. https://developer.apple.com/documentation/coreaudio/kaudiodevicepropertydevicenamecfstring */
export const kAudioDevicePropertyDeviceNameCFString = kAudioObjectPropertyName;
/** CFString, persistent across boots. https://developer.apple.com/documentation/coreaudio/kaudiodevicepropertydeviceuid */
export const kAudioDevicePropertyDeviceUID = fourCC('uid ');
/** UInt32, 1 = muted. https://developer.apple.com/documentation/coreaudio/kaudiodevicepropertymute */
export const kAudioDevicePropertyMute = fourCC('mute');
/** Float32, 0…1. https://developer.apple.com/documentation/coreaudio/kaudiodevicepropertyvolumescalar */
export const kAudioDevicePropertyVolumeScalar = fourCC('volm');

// Scopes and elements. https://developer.apple.com/documentation/coreaudio/kaudioobjectpropertyscopeglobal
export const kAudioObjectPropertyScopeGlobal = fourCC('glob');
export const kAudioObjectPropertyScopeInput = fourCC('inpt');
export const kAudioDevicePropertyScopeInput = kAudioObjectPropertyScopeInput;
/** Formerly kAudioObjectPropertyElementMaster. https://developer.apple.com/documentation/coreaudio/kaudioobjectpropertyelementmain */
export const kAudioObjectPropertyElementMain = 0;

// OSStatus results. https://developer.apple.com/documentation/coreaudio/1494531-anonymous
export const kAudioHardwareNoError = 0;
export const kAudioHardwareNotRunningError = fourCC('stop');
export const kAudioHardwareUnspecifiedError = fourCC('what');
export const kAudioHardwareUnknownPropertyError = fourCC('who?');
export const kAudioHardwareBadPropertySizeError = fourCC('!siz');
export const kAudioHardwareIllegalOperationError = fourCC('nope');
export const kAudioHardwareBadObjectError = fourCC('!obj');
export const kAudioHardwareBadDeviceError = fourCC('!dev');
export const kAudioHardwareUnsupportedOperationError = fourCC('unop');
export const kAudioDevicePermissionsError = fourCC('!hog');

const OSSTATUS_NAMES: Record<number, string> = {
  [kAudioHardwareNotRunningError]: 'kAudioHardwareNotRunningError',
  [kAudioHardwareUnspecifiedError]: 'kAudioHardwareUnspecifiedError',
  [kAudioHardwareUnknownPropertyError]: 'kAudioHardwareUnknownPropertyError',
  [kAudioHardwareBadPropertySizeError]: 'kAudioHardwareBadPropertySizeError',
  [kAudioHardwareIllegalOperationError]: 'kAudioHardwareIllegalOperationError',
  [kAudioHardwareBadObjectError]: 'kAudioHardwareBadObjectError',
  [kAudioHardwareBadDeviceError]: 'kAudioHardwareBadDeviceError',
  [kAudioHardwareUnsupportedOperationError]: 'kAudioHardwareUnsupportedOperationError',
  [kAudioDevicePermissionsError]: 'kAudioDevicePermissionsError',
};

export function osStatusText(status: number): string {
  const u = status >>> 0;
  const code = fourCCText(u);
  const name = OSSTATUS_NAMES[u];
  if (name) return `${name} ('${code}')`;
  return code ? `'${code}'` : String(status | 0);
}

/** A CoreAudio call answered a non-zero OSStatus. `status` is unsigned ('who?' = 0x77686F3F). */
export class OSStatusError extends Error {
  readonly status: number;
  constructor(call: string, status: number) {
    super(`${call} failed: ${osStatusText(status)}`);
    this.name = 'OSStatusError';
    this.status = status >>> 0;
  }
}

/** AudioObjectPropertyAddress { UInt32 mSelector; UInt32 mScope; UInt32 mElement; }: 12 bytes, native (little) endian.
 * https://developer.apple.com/documentation/coreaudio/audioobjectpropertyaddress */
export function propertyAddressBytes(address: PropertyAddress): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt32LE(address.selector >>> 0, 0);
  out.writeUInt32LE(address.scope >>> 0, 4);
  out.writeUInt32LE(address.element >>> 0, 8);
  return out;
}

export function decodePropertyAddresses(bytes: Uint8Array, count: number): PropertyAddress[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: PropertyAddress[] = [];
  for (let i = 0; i < count && (i + 1) * 12 <= b.length; i++) {
    out.push({ selector: b.readUInt32LE(i * 12), scope: b.readUInt32LE(i * 12 + 4), element: b.readUInt32LE(i * 12 + 8) });
  }
  return out;
}

/** https://developer.apple.com/documentation/corefoundation/cfstringbuiltinencodings/utf8 */
export const kCFStringEncodingUTF8 = 0x08000100;

// ---------------------------------------------------------------------------------------------------------------
// The real native layer. Every CoreAudio call runs on a koffi worker thread: listener procs come on the HAL's own
// notification thread and koffi holds that thread until the JS thread has run them, so the JS thread must never sit
// inside a HAL call (AudioObjectRemovePropertyListener in particular) that could wait for the notification thread.

const COREAUDIO = '/System/Library/Frameworks/CoreAudio.framework/CoreAudio';
const COREFOUNDATION = '/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation';

/** typedef OSStatus (*AudioObjectPropertyListenerProc)(AudioObjectID, UInt32, const AudioObjectPropertyAddress *, void *);
 * https://developer.apple.com/documentation/coreaudio/audioobjectpropertylistenerproc */
export const MAC_LISTENER_PROC = 'int32_t MacAudioObjectPropertyListenerProc(uint32_t objectId, uint32_t count, void *addresses, void *clientData)';

/** CoreAudio's functions used here, as koffi declarations (AudioObjectID = UInt32, OSStatus = SInt32, Boolean = UInt8).
 * https://developer.apple.com/documentation/coreaudio/audio_object_functions (AudioObjectGetPropertyData and its siblings) */
export const COREAUDIO_FUNCTIONS = {
  HasProperty: 'uint8_t AudioObjectHasProperty(uint32_t objectId, void *address)',
  IsPropertySettable: 'int32_t AudioObjectIsPropertySettable(uint32_t objectId, void *address, void *outIsSettable)',
  GetPropertyDataSize: 'int32_t AudioObjectGetPropertyDataSize(uint32_t objectId, void *address, uint32_t qualifierSize, void *qualifier, void *outDataSize)',
  GetPropertyData: 'int32_t AudioObjectGetPropertyData(uint32_t objectId, void *address, uint32_t qualifierSize, void *qualifier, void *ioDataSize, void *outData)',
  SetPropertyData: 'int32_t AudioObjectSetPropertyData(uint32_t objectId, void *address, uint32_t qualifierSize, void *qualifier, uint32_t dataSize, void *data)',
  AddPropertyListener: 'int32_t AudioObjectAddPropertyListener(uint32_t objectId, void *address, MacAudioObjectPropertyListenerProc *listener, void *clientData)',
  RemovePropertyListener: 'int32_t AudioObjectRemovePropertyListener(uint32_t objectId, void *address, MacAudioObjectPropertyListenerProc *listener, void *clientData)',
} as const;

/** CoreFoundation's (CFIndex is a signed long: 64-bit on every Mac koffi supports). */
export const COREFOUNDATION_FUNCTIONS = {
  CFStringGetLength: 'int64_t CFStringGetLength(void *string)',
  CFStringGetMaximumSizeForEncoding: 'int64_t CFStringGetMaximumSizeForEncoding(int64_t length, uint32_t encoding)',
  CFStringGetCString: 'uint8_t CFStringGetCString(void *string, void *buffer, int64_t bufferSize, uint32_t encoding)',
  CFRelease: 'void CFRelease(void *cf)',
} as const;

export function createMacCoreAudioNative(): MacCoreAudioNative {
  if (process.platform !== 'darwin') {
    throw new MicrophoneError('unavailable', 'CoreAudio for macOS is only available on macOS');
  }
  let koffi: Koffi;
  try {
    koffi = loadKoffi();
  } catch (err) {
    throw new MicrophoneError('unavailable', `koffi could not be loaded: ${(err as Error).message}`);
  }
  return new KoffiMacCoreAudio(koffi);
}

class KoffiMacCoreAudio implements MacCoreAudioNative {
  private readonly koffi: Koffi;
  private readonly ca;
  private readonly cf;
  private readonly listenerProto;
  private readonly listeners = new Set<{ objectId: number; address: Buffer; proc: ReturnType<Koffi['register']> }>();

  constructor(koffi: Koffi) {
    this.koffi = koffi;
    const ca = koffi.load(COREAUDIO);
    const cf = koffi.load(COREFOUNDATION);
    this.listenerProto = koffi.proto(MAC_LISTENER_PROC);
    this.ca = {
      HasProperty: ca.func(COREAUDIO_FUNCTIONS.HasProperty),
      IsPropertySettable: ca.func(COREAUDIO_FUNCTIONS.IsPropertySettable),
      GetPropertyDataSize: ca.func(COREAUDIO_FUNCTIONS.GetPropertyDataSize),
      GetPropertyData: ca.func(COREAUDIO_FUNCTIONS.GetPropertyData),
      SetPropertyData: ca.func(COREAUDIO_FUNCTIONS.SetPropertyData),
      AddPropertyListener: ca.func(COREAUDIO_FUNCTIONS.AddPropertyListener),
      RemovePropertyListener: ca.func(COREAUDIO_FUNCTIONS.RemovePropertyListener),
    };
    this.cf = {
      CFStringGetLength: cf.func(COREFOUNDATION_FUNCTIONS.CFStringGetLength),
      CFStringGetMaximumSizeForEncoding: cf.func(COREFOUNDATION_FUNCTIONS.CFStringGetMaximumSizeForEncoding),
      CFStringGetCString: cf.func(COREFOUNDATION_FUNCTIONS.CFStringGetCString),
      CFRelease: cf.func(COREFOUNDATION_FUNCTIONS.CFRelease),
    };
  }

  private async get(objectId: number, address: PropertyAddress, size: number, call: string): Promise<Buffer> {
    const ioSize = Buffer.alloc(4);
    ioSize.writeUInt32LE(size, 0);
    const data = Buffer.alloc(size);
    const status = await callAsync(this.ca.GetPropertyData, objectId, propertyAddressBytes(address), 0, null, ioSize, data);
    if (status !== 0) throw new OSStatusError(call, status);
    return data.subarray(0, ioSize.readUInt32LE(0));
  }

  private async set(objectId: number, address: PropertyAddress, data: Buffer, call: string): Promise<void> {
    const status = await callAsync(this.ca.SetPropertyData, objectId, propertyAddressBytes(address), 0, null, data.length, data);
    if (status !== 0) throw new OSStatusError(call, status);
  }

  async start(): Promise<void> {
    // Node's JS thread runs no CFRunLoop: ask the HAL to notify on a thread of its own (a NULL CFRunLoopRef).
    const nullRunLoop = Buffer.alloc(this.koffi.sizeof('void *'));
    await this.set(kAudioObjectSystemObject, { selector: kAudioHardwarePropertyRunLoop, scope: kAudioObjectPropertyScopeGlobal, element: kAudioObjectPropertyElementMain },
      nullRunLoop, 'AudioObjectSetPropertyData(kAudioHardwarePropertyRunLoop)');
  }

  async hasProperty(objectId: number, address: PropertyAddress): Promise<boolean> {
    return (await callAsync(this.ca.HasProperty, objectId, propertyAddressBytes(address))) !== 0;
  }

  async isPropertySettable(objectId: number, address: PropertyAddress): Promise<boolean> {
    const out = Buffer.alloc(1); // Boolean
    const status = await callAsync(this.ca.IsPropertySettable, objectId, propertyAddressBytes(address), out);
    if (status !== 0) throw new OSStatusError('AudioObjectIsPropertySettable', status);
    return out[0] !== 0;
  }

  async getPropertyDataSize(objectId: number, address: PropertyAddress): Promise<number> {
    const out = Buffer.alloc(4);
    const status = await callAsync(this.ca.GetPropertyDataSize, objectId, propertyAddressBytes(address), 0, null, out);
    if (status !== 0) throw new OSStatusError('AudioObjectGetPropertyDataSize', status);
    return out.readUInt32LE(0);
  }

  async getUInt32(objectId: number, address: PropertyAddress): Promise<number> {
    return (await this.get(objectId, address, 4, 'AudioObjectGetPropertyData')).readUInt32LE(0);
  }

  async getUInt32Array(objectId: number, address: PropertyAddress): Promise<number[]> {
    const size = await this.getPropertyDataSize(objectId, address);
    const data = await this.get(objectId, address, size, 'AudioObjectGetPropertyData');
    const out: number[] = [];
    for (let i = 0; i + 4 <= data.length; i += 4) out.push(data.readUInt32LE(i));
    return out;
  }

  async getFloat32(objectId: number, address: PropertyAddress): Promise<number> {
    return (await this.get(objectId, address, 4, 'AudioObjectGetPropertyData')).readFloatLE(0);
  }

  async getCFString(objectId: number, address: PropertyAddress): Promise<string> {
    const data = await this.get(objectId, address, this.koffi.sizeof('void *'), 'AudioObjectGetPropertyData');
    const ref = this.koffi.decode(data, 'void *') as unknown;
    if (!ref) return '';
    try {
      const length = Number(this.cf.CFStringGetLength(ref));
      const capacity = Number(this.cf.CFStringGetMaximumSizeForEncoding(length, kCFStringEncodingUTF8)) + 1;
      const buffer = Buffer.alloc(capacity);
      // https://developer.apple.com/documentation/corefoundation/1542721-cfstringgetcstring
      if (!this.cf.CFStringGetCString(ref, buffer, capacity, kCFStringEncodingUTF8)) return '';
      const end = buffer.indexOf(0);
      return buffer.subarray(0, end < 0 ? buffer.length : end).toString('utf8');
    } finally {
      this.cf.CFRelease(ref);
    }
  }

  async setUInt32(objectId: number, address: PropertyAddress, value: number): Promise<void> {
    const data = Buffer.alloc(4);
    data.writeUInt32LE(value >>> 0, 0);
    await this.set(objectId, address, data, 'AudioObjectSetPropertyData');
  }

  async setFloat32(objectId: number, address: PropertyAddress, value: number): Promise<void> {
    const data = Buffer.alloc(4);
    data.writeFloatLE(value, 0);
    await this.set(objectId, address, data, 'AudioObjectSetPropertyData');
  }

  async addPropertyListener(objectId: number, address: PropertyAddress, listener: (objectId: number, addresses: PropertyAddress[]) => void): Promise<() => Promise<void>> {
    const koffi = this.koffi;
    const proc = koffi.register((id: number, count: number, addresses: unknown) => {
      try {
        const bytes = addresses ? Uint8Array.from(koffi.decode(addresses, 'uint8_t', count * 12) as number[]) : new Uint8Array();
        listener(id, decodePropertyAddresses(bytes, count));
      } catch {
        // never throw into the HAL
      }
      return 0;
    }, koffi.pointer(this.listenerProto));
    const addressBytes = propertyAddressBytes(address);
    const status = await callAsync(this.ca.AddPropertyListener, objectId, addressBytes, proc, null);
    if (status !== 0) {
      koffi.unregister(proc);
      throw new OSStatusError('AudioObjectAddPropertyListener', status);
    }
    const entry = { objectId, address: addressBytes, proc };
    this.listeners.add(entry);
    return async () => {
      if (!this.listeners.delete(entry)) return;
      const removed = await callAsync(this.ca.RemovePropertyListener, objectId, addressBytes, proc, null);
      // Removing from a device that is gone answers '!obj'; it calls nothing more either way.
      koffi.unregister(proc);
      if (removed !== 0 && (removed >>> 0) !== kAudioHardwareBadObjectError) throw new OSStatusError('AudioObjectRemovePropertyListener', removed);
    };
  }

  async stop(): Promise<void> {
    for (const entry of [...this.listeners]) {
      this.listeners.delete(entry);
      await callAsync(this.ca.RemovePropertyListener, entry.objectId, entry.address, entry.proc, null).catch(() => undefined);
      this.koffi.unregister(entry.proc);
    }
  }
}
