// A private PulseAudio server per suite: its own XDG_RUNTIME_DIR, a sine source named `mic` that always
// "speaks", and recording from it with parecord to tell silence from voice. `.ci/run` installs pulseaudio and
// pulseaudio-utils.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PulseServer {
  env: NodeJS.ProcessEnv;
  pactl(...args: string[]): Promise<string>;
  /** Records `ms` from a source and answers the peak sample (0 = silence; the sine peaks near 16 000). */
  peak(source: string, ms?: number): Promise<number>;
  /** Adds another microphone (a sine at another pitch). */
  addSource(name: string, frequency?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPulseServer(): Promise<PulseServer> {
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-pulse-'));
  chmodSync(runtimeDir, 0o700);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, PULSE_SERVER: `unix:${path.join(runtimeDir, 'pulse', 'native')}` };
  const daemon: ChildProcess = spawn(
    'pulseaudio',
    ['-n', '--daemonize=no', '--exit-idle-time=-1', '--disallow-exit', '-L', 'module-native-protocol-unix', '-L', 'module-sine-source source_name=mic frequency=440'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const pactl = async (...args: string[]): Promise<string> => (await run('pactl', args, { env })).stdout;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await pactl('info');
      break;
    } catch {
      if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`PulseAudio did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    env,
    pactl,
    async peak(source, ms = 400) {
      const recorder = spawn('parecord', ['--raw', '-d', source, '--format=s16le', '--rate=8000', '--channels=1', '--latency-msec=20'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      recorder.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise((r) => setTimeout(r, ms));
      recorder.kill();
      await new Promise((r) => recorder.once('close', r));
      const samples = Buffer.concat(chunks);
      if (samples.length < 200) throw new Error(`parecord recorded only ${samples.length} bytes from ${source}`);
      let peak = 0;
      for (let i = 0; i + 1 < samples.length; i += 2) peak = Math.max(peak, Math.abs(samples.readInt16LE(i)));
      return peak;
    },
    async addSource(name, frequency = 880) {
      await pactl('load-module', 'module-sine-source', `source_name=${name}`, `frequency=${frequency}`);
    },
    async stop() {
      daemon.kill();
      if (daemon.exitCode === null) await new Promise((r) => daemon.once('close', r));
      rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
}
