// `npm run bench` (part 3): a card click → the operator's real microphone muted, on a private PulseAudio server,
// against the bare `pactl set-source-mute` round trip measured in the same run and the same way. Both are timed
// from the action to the server's own "source changed" notification, read by one `pactl subscribe` running
// beside them, so the notification's cost is on both sides alike. Prints ratios; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Companion } from '../main/core/companion.ts';
import { PulseAudioMicrophone } from '../main/core/microphone/pulseaudio.ts';
import { startPulseServer } from '../test/helpers/pulseaudio.ts';
import { TestWorker } from '../test/helpers/test-worker.ts';

const ORIGIN = 'https://bench.test';
const ROUNDS = 200;
const WARMUP = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const pulse = await startPulseServer();
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-bench-mic-'));
try {
  // One watcher for both measurements: resolves the next "source changed" after it is armed.
  const watcher = spawn('pactl', ['subscribe'], { env: pulse.env, stdio: ['ignore', 'pipe', 'ignore'] });
  let waiting: ((at: number) => void) | null = null;
  createInterface({ input: watcher.stdout! }).on('line', (line) => {
    if (waiting && /^Event 'change' on source #/.test(line)) {
      const resolve = waiting;
      waiting = null;
      resolve(performance.now());
    }
  });
  const nextSourceChange = (): Promise<number> => new Promise((resolve) => (waiting = resolve));
  await new Promise((r) => setTimeout(r, 300));

  const bare: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i += 1) {
    const changed = nextSourceChange();
    const start = performance.now();
    spawn('pactl', ['set-source-mute', 'mic', i % 2 === 0 ? '1' : '0'], { env: pulse.env, stdio: 'ignore' });
    const at = await changed;
    if (i >= WARMUP) bare.push(at - start);
  }
  await pulse.pactl('set-source-mute', 'mic', '0');

  const companion = await Companion.start({
    dataDir,
    port: 0,
    allowedOrigins: [ORIGIN],
    autoApprove: true,
    microphone: { port: new PulseAudioMicrophone({ env: pulse.env }), choice: { kind: 'default' }, endOfCall: 'app' },
  });
  const worker = new TestWorker({ port: companion.port, origin: ORIGIN });
  await worker.connect();
  await worker.emitAndWait('initialized', { CALL_ID: 'bench-mic', PHONE_NUMBER: '+70000000000' });
  // Let the call's start (the first microphone reading) settle before timing clicks.
  await new Promise((r) => setTimeout(r, 300));
  const click: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i += 1) {
    const changed = nextSourceChange();
    const start = performance.now();
    worker.emit('muteButtonClick', i % 2 === 0);
    const at = await changed;
    if (i >= WARMUP) click.push(at - start);
    // Clicks a human apart (the app reads the device back after each change; rounds must not queue behind it).
    await new Promise((r) => setTimeout(r, 100));
  }
  worker.socket?.close();
  await companion.stop();
  watcher.kill();

  bare.sort((a, b) => a - b);
  click.sort((a, b) => a - b);
  const line = (label: string, values: number[]): string =>
    `${label.padEnd(44)} p50 ${percentile(values, 50).toFixed(2).padStart(6)} ms   p99 ${percentile(values, 99).toFixed(2).padStart(6)} ms`;
  console.log(`\nMicrophone (${ROUNDS} rounds, PulseAudio ${(await pulse.pactl('info')).match(/Server Version: (\S+)/)?.[1] ?? '?'})`);
  console.log(line('bare pactl set-source-mute → source changed', bare));
  console.log(line('card click → microphone muted', click));
  console.log(`${'ratio to bare pactl'.padEnd(44)} p50 ${(percentile(click, 50) / percentile(bare, 50)).toFixed(1)}x     p99 ${(percentile(click, 99) / percentile(bare, 99)).toFixed(1)}x`);
} finally {
  await pulse.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
