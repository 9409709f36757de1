// The one interface behind which each operating system's microphone control lives. The core (call state,
// store, tray model) speaks only this; one adapter per OS implements it in its own file, chosen at start by
// `openMicrophone` (microphone.ts). None of them imports Electron, so the same code runs in `serve`.

/** A capture device as the OS names it. `id` is stable across restarts where the OS allows it. */
export interface MicrophoneDevice {
  id: string;
  /** What the operator recognises: "Jabra Evolve2 65", "Built-in Microphone". */
  name: string;
  isDefault: boolean;
}

/** Which device the app controls: the system's default capture device (followed when it changes), or one by id or name. */
export type DeviceChoice = { kind: 'default' } | { kind: 'named'; name: string };

export interface MicrophoneReading {
  /** The device the choice resolves to now; null when there is none (no microphone plugged in). */
  device: MicrophoneDevice | null;
  /** The device's mute; null when there is no device or it cannot be read. */
  muted: boolean | null;
}

/**
 * What an adapter needs to give a device back as it was when it cannot be given back by unmuting alone: on macOS a
 * device without a mute control is muted by setting its input volume to 0, so giving it back means the level it
 * had (`{ volume: 0.62 }`). Opaque to the core, which only keeps it durable; flat JSON, so it survives a restart.
 * The adapter checks what it is handed back: it may come from a file.
 */
export type RestoreState = { readonly [key: string]: string | number | boolean | null };

export interface SetMutedOptions {
  /**
   * Muting: called once the device is resolved and before it is touched, when giving it back will need more than
   * an unmute, or for a further device the choice covers (Windows' communications default): the caller owes each
   * one back. The caller makes the state durable before the promise settles; if it rejects, the device is left alone.
   */
  beforeMute?(device: MicrophoneDevice, restore: RestoreState): void | Promise<void>;
  /** Unmuting: the state given to `beforeMute` for a device, perhaps by a run that has crashed since. */
  restoreFor?(deviceId: string): RestoreState | undefined;
}

export class MicrophoneError extends Error {
  /** 'unavailable': no audio server / API; 'no_device': the choice matches no device; 'failed': the OS refused. */
  readonly code: 'unavailable' | 'no_device' | 'failed';
  constructor(code: MicrophoneError['code'], message: string) {
    super(message);
    this.name = 'MicrophoneError';
    this.code = code;
  }
}

export interface MicrophonePort {
  /** For status and logs: "pulseaudio", "coreaudio-windows", "coreaudio-macos". */
  readonly backend: string;
  list(): Promise<MicrophoneDevice[]>;
  read(choice: DeviceChoice): Promise<MicrophoneReading>;
  /** Mutes or unmutes the chosen device and answers with what the OS then reports. Adapters whose mute is a real
   * mute control ignore `options`; one that mutes in a way an unmute alone cannot undo uses them. */
  setMuted(choice: DeviceChoice, muted: boolean, options?: SetMutedOptions): Promise<MicrophoneReading>;
  /**
   * Calls `onChange` soon after anything that may change a reading happens outside the app: a device's mute,
   * the default device, a device added or removed. Pushed by the OS (no polling loop). Returns unsubscribe.
   */
  subscribe(onChange: () => void): () => void;
  close(): Promise<void>;
}
