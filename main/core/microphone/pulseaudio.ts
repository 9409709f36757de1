// Linux: the microphone through the PulseAudio protocol, which PipeWire also serves (`pipewire-pulse`), driven
// by `pactl` from pulseaudio-utils. Each operation is one short `pactl` run (about 4 ms here); outside changes
// come from one long-running `pactl subscribe`, which the server pushes to, so nothing polls. The standard client
// environment (`PULSE_SERVER`, `XDG_RUNTIME_DIR`) picks the server. Why pactl and not a library:
// docs/microphone.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ChangeListeners } from './change-listeners.ts';
import { MicrophoneError, type DeviceChoice, type MicrophoneDevice, type MicrophonePort, type MicrophoneReading } from './microphone-port.ts';

/** The special name pactl resolves to the server's default source at the moment of the call. */
const DEFAULT_SOURCE = '@DEFAULT_SOURCE@';
const PACTL_TIMEOUT_MS = 5_000;
const RESUBSCRIBE_MS = 1_000;

/** The fields of `pactl --format=json list sources` this adapter reads (pactl 16+). */
export interface PactlSource {
  index: number;
  name: string;
  description?: string;
  mute: boolean;
  /** Set on a sink's monitor: what the speakers play, not a microphone. */
  monitor_of_sink?: string;
  properties?: Record<string, string>;
}

export interface PulseAudioOptions {
  env?: NodeJS.ProcessEnv;
  /** The pactl binary; tests may point at another. */
  pactl?: string;
}

/** Sources an operator would call a microphone: not the monitors of outputs. */
export function microphonesFrom(sources: readonly PactlSource[], defaultName: string | null): MicrophoneDevice[] {
  return sources
    .filter((s) => s.properties?.['device.class'] !== 'monitor' && !s.monitor_of_sink && !s.name.endsWith('.monitor'))
    .map((s) => ({ id: s.name, name: s.description || s.name, isDefault: s.name === defaultName }));
}

/** Whether a `pactl subscribe` line can change a reading: a source changed/appeared/went, or the default moved. */
export function isRelevantEvent(line: string): boolean {
  return /^Event '(new|change|remove)' on (source|server) #\d+$/.test(line.trim());
}

export class PulseAudioMicrophone implements MicrophonePort {
  readonly backend = 'pulseaudio';
  private readonly env: NodeJS.ProcessEnv;
  private readonly pactl: string;
  private readonly listeners = new ChangeListeners();
  private subscriber: ChildProcess | null = null;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: PulseAudioOptions = {}) {
    this.env = options.env ?? process.env;
    this.pactl = options.pactl ?? 'pactl';
  }

  async list(): Promise<MicrophoneDevice[]> {
    const [sources, defaultName] = await Promise.all([this.sources(), this.defaultSourceName()]);
    return microphonesFrom(sources, defaultName);
  }

  async read(choice: DeviceChoice): Promise<MicrophoneReading> {
    const [sources, defaultName] = await Promise.all([this.sources(), this.defaultSourceName()]);
    const source = this.pick(sources, defaultName, choice);
    if (!source) return { device: null, muted: null };
    return { device: { id: source.name, name: source.description || source.name, isDefault: source.name === defaultName }, muted: source.mute };
  }

  async setMuted(choice: DeviceChoice, muted: boolean): Promise<MicrophoneReading> {
    const target = choice.kind === 'default' ? DEFAULT_SOURCE : await this.resolveNamed(choice.name);
    await this.run(['set-source-mute', target, muted ? '1' : '0']);
    return this.read(choice);
  }

  subscribe(onChange: () => void): () => void {
    if (this.listeners.add(onChange)) this.startSubscriber();
    return () => {
      if (this.listeners.delete(onChange)) this.stopSubscriber();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopSubscriber();
  }

  private pick(sources: readonly PactlSource[], defaultName: string | null, choice: DeviceChoice): PactlSource | undefined {
    if (choice.kind === 'default') return sources.find((s) => s.name === defaultName);
    const wanted = choice.name.toLowerCase();
    return sources.find((s) => s.name === choice.name) ?? sources.find((s) => (s.description ?? '').toLowerCase() === wanted);
  }

  private async resolveNamed(name: string): Promise<string> {
    const source = this.pick(await this.sources(), null, { kind: 'named', name });
    if (!source) throw new MicrophoneError('no_device', `no microphone named "${name}"; \`operator-companion microphones\` lists them`);
    return source.name;
  }

  private async sources(): Promise<PactlSource[]> {
    const parsed = JSON.parse(await this.run(['--format=json', 'list', 'sources'])) as unknown;
    if (!Array.isArray(parsed)) throw new MicrophoneError('failed', 'pactl list sources did not answer with a list');
    return parsed as PactlSource[];
  }

  private async defaultSourceName(): Promise<string | null> {
    const info = JSON.parse(await this.run(['--format=json', 'info'])) as { default_source_name?: unknown };
    return typeof info.default_source_name === 'string' && info.default_source_name !== '' ? info.default_source_name : null;
  }

  private run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.pactl, args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: PACTL_TIMEOUT_MS });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new MicrophoneError('unavailable', 'pactl is not installed (package pulseaudio-utils); the app cannot reach the microphone')
            : new MicrophoneError('failed', `pactl: ${error.message}`),
        );
      });
      child.on('close', (code, signal) => {
        if (code === 0) return resolve(out);
        const detail = err.trim().split('\n')[0] || (signal ? `stopped by ${signal}` : `exit ${code}`);
        const unreachable = /Connection refused|Connection failure|No such file|Access denied/i.test(detail);
        // Several calls may fail at once for the same reason: an unreachable server reads the same whichever failed.
        reject(
          unreachable
            ? new MicrophoneError('unavailable', `the audio server (PulseAudio or PipeWire) does not answer: ${detail}`)
            : new MicrophoneError('failed', `pactl ${args.filter((a) => !a.startsWith('--')).join(' ')}: ${detail}`),
        );
      });
    });
  }

  private startSubscriber(): void {
    if (this.closed) return;
    const child = spawn(this.pactl, ['subscribe'], { env: this.env, stdio: ['ignore', 'pipe', 'ignore'] });
    this.subscriber = child;
    child.on('error', () => {});
    // Several lines arrive together for one change (source and server); the listeners hear of the burst once.
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (isRelevantEvent(line)) this.listeners.emit();
    });
    child.on('close', () => {
      if (this.subscriber !== child) return;
      this.subscriber = null;
      // The server restarted (or is not up yet): listen again shortly, and tell listeners to re-read.
      if (this.closed || this.listeners.size === 0) return;
      this.resubscribeTimer = setTimeout(() => {
        this.startSubscriber();
        this.listeners.emit();
      }, RESUBSCRIBE_MS);
      this.resubscribeTimer.unref();
    });
  }

  private stopSubscriber(): void {
    clearTimeout(this.resubscribeTimer);
    const child = this.subscriber;
    this.subscriber = null;
    child?.kill();
  }
}
