// Picks the microphone adapter for this operating system and reads the operator's choice of device.
import { MicrophoneError, type DeviceChoice, type MicrophonePort } from './microphone-port.ts';
import { openMacCoreAudio } from './macos-coreaudio.ts';
import { PulseAudioMicrophone } from './pulseaudio.ts';
import { openWindowsCoreAudio } from './windows-coreaudio.ts';

/** `default` (the system's default microphone, followed when it changes), `off` (mirror the card only), or a device. */
export type MicrophoneSetting = 'default' | 'off' | (string & {});

export function deviceChoice(setting: MicrophoneSetting): DeviceChoice | null {
  if (setting === 'off') return null;
  return setting === 'default' ? { kind: 'default' } : { kind: 'named', name: setting };
}

export function openMicrophonePort(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): MicrophonePort {
  switch (platform) {
    case 'linux':
      return new PulseAudioMicrophone({ env });
    case 'win32':
      return openWindowsCoreAudio();
    case 'darwin':
      return openMacCoreAudio();
    default:
      throw new MicrophoneError('unavailable', `controlling the microphone is not supported on ${platform}; use "off" to mirror the card only`);
  }
}
