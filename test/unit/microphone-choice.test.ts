// Which adapter each OS gets, and what the operator's setting means.
import { describe, expect, it } from 'vitest';
import { deviceChoice, openMicrophonePort } from '../../main/core/microphone/microphone.ts';

describe('openMicrophonePort', () => {
  it('gives each OS its own adapter, without loading native code on another OS', async () => {
    expect(openMicrophonePort('linux').backend).toBe('pulseaudio');
    const windows = openMicrophonePort('win32');
    const mac = openMicrophonePort('darwin');
    expect([windows.backend, mac.backend]).toEqual(['coreaudio-windows', 'coreaudio-macos']);
    // Used on the wrong OS they say so instead of crashing.
    await expect(windows.list()).rejects.toMatchObject({ code: 'unavailable' });
    await expect(mac.list()).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('refuses an OS it cannot control, with what to do instead', () => {
    expect(() => openMicrophonePort('freebsd')).toThrow(/not supported on freebsd; use "off"/);
  });
});

describe('deviceChoice', () => {
  it('reads default, off and a device name', () => {
    expect(deviceChoice('default')).toEqual({ kind: 'default' });
    expect(deviceChoice('off')).toBeNull();
    expect(deviceChoice('Jabra Evolve2 65')).toEqual({ kind: 'named', name: 'Jabra Evolve2 65' });
  });
});
