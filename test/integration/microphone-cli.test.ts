// The microphone from the command line: listing devices, bad arguments, and a claim left by a crash given back
// at the next start, against a private PulseAudio server.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_FILE } from '../../main/core/microphone/microphone-sync.ts';
import { freePort, runCli } from '../helpers/cli.ts';
import { useServeProcesses } from '../helpers/lifecycle.ts';
import { startPulseServer, type PulseServer } from '../helpers/pulseaudio.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const serves = useServeProcesses();
let pulse: PulseServer;

beforeAll(async () => {
  pulse = await startPulseServer();
});
afterAll(async () => {
  await pulse?.stop();
});

describe('operator-companion microphones', () => {
  it('lists the microphones with the default marked, as text and JSON', async () => {
    const text = await runCli(['microphones'], { env: pulse.env });
    expect(text).toMatchObject({ code: 0, stdout: '* Sine source at 440 Hz  (mic)\n' });
    const json = await runCli(['microphones', '--json'], { env: pulse.env });
    expect(JSON.parse(json.stdout)).toEqual({ backend: 'pulseaudio', devices: [{ id: 'mic', name: 'Sine source at 440 Hz', isDefault: true }] });
  });

  it('says plainly when no audio server answers', async () => {
    const result = await runCli(['microphones'], { env: { ...pulse.env, PULSE_SERVER: 'unix:/nonexistent/native' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^operator-companion: the audio server \(PulseAudio or PipeWire\) does not answer: Connection failure/);
  });
});

describe('serve --microphone', () => {
  it('refuses bad values with one line naming the argument', async () => {
    for (const [args, message] of [
      [['--microphone', ''], /--microphone must be default, off or a device name/],
      [['--microphone', 'default', '--end-of-call', 'sometimes'], /--end-of-call must be one of app, always, never/],
    ] as const) {
      const result = await runCli(['serve', '--data-dir', tempDir(), ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  it('gives back a microphone that a crashed run had muted, when it starts with no call going on', async () => {
    const dataDir = tempDir();
    await pulse.pactl('set-source-mute', 'mic', '1');
    writeFileSync(path.join(dataDir, CLAIM_FILE), JSON.stringify({ devices: [{ id: 'mic', name: 'Sine source at 440 Hz' }], mutedAt: Date.now() - 60_000 }));
    await serves.start(['--data-dir', dataDir, '--port', String(await freePort()), '--microphone', 'default'], [], pulse.env);
    expect((await pulse.pactl('get-source-mute', 'mic')).trim()).toBe('Mute: no');
    expect(existsSync(path.join(dataDir, CLAIM_FILE))).toBe(false);
    const status = await runCli(['status', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(status.stdout).microphone).toMatchObject({ device: 'Sine source at 440 Hz', muted: false, controlledByApp: false, error: null });
  });

  it('leaves a microphone alone when no claim says the app muted it', async () => {
    const dataDir = tempDir();
    await pulse.pactl('set-source-mute', 'mic', '1');
    await serves.start(['--data-dir', dataDir, '--port', String(await freePort()), '--microphone', 'default'], [], pulse.env);
    const status = await runCli(['status', '--data-dir', dataDir]);
    expect(status.stdout).toMatch(/^microphone: Sine source at 440 Hz MUTED$/m);
    expect((await pulse.pactl('get-source-mute', 'mic')).trim()).toBe('Mute: yes');
    await pulse.pactl('set-source-mute', 'mic', '0');
  });
});
