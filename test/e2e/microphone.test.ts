// "Mute means muted", end to end: the real worker in Chromium inside the portal emulator, `serve` with
// --microphone on a private PulseAudio server, and what is recorded from the microphone (parecord) as the proof.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startPulseServer, type PulseServer } from '../helpers/pulseaudio.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appMicrophone, appState as state, emulatorApi, exportJsonl, openPortal, SCREENSHOTS, useHarness, waitForBinds } from './harness.ts';

const tempDir = useTempDirs();
const h = useHarness();
let pulse: PulseServer;

beforeAll(async () => {
  pulse = await startPulseServer();
});
afterAll(async () => {
  await pulse?.stop();
});
beforeEach(async () => {
  await pulse.pactl('set-source-mute', 'mic', '0');
});

const LIVE = 10_000;

async function sourceMuted(): Promise<boolean> {
  return (await pulse.pactl('get-source-mute', 'mic')).trim() === 'Mute: yes';
}

async function callWithMicrophone(sid: string, callId: string, extraArgs: string[] = []) {
  const dataDir = tempDir();
  const s = await h.serve(dataDir, undefined, { args: ['--microphone', 'default', ...extraArgs], env: pulse.env });
  const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: s.port, sid }));
  await waitForBinds(page);
  await emulatorApi(page, 'raiseCard', { callId, phoneNumber: '+74951234567' });
  await expect.poll(() => state(dataDir)).toBe('live');
  return { dataDir, s, page };
}

describe('the card mutes the real microphone', () => {
  it('a click on the card silences what the microphone records; unmute brings the voice back', async () => {
    const { dataDir, page } = await callWithMicrophone('MIC1', 'externalCall.mic1');
    expect(await pulse.peak('mic')).toBeGreaterThan(LIVE);

    await page.click('#mute');
    await expect.poll(sourceMuted).toBe(true);
    expect(await pulse.peak('mic')).toBe(0);
    await expect.poll(() => appMicrophone(dataDir)).toMatchObject({ device: 'Sine source at 440 Hz', muted: true, controlledByApp: true, error: null });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'portal-mic-muted.png') });

    await page.waitForTimeout(600);
    await page.click('#mute');
    await expect.poll(sourceMuted).toBe(false);
    expect(await pulse.peak('mic')).toBeGreaterThan(LIVE);
    await page.click('#hangup');
    await expect.poll(() => state(dataDir)).toBe('waiting');

    const [call] = await exportJsonl(dataDir, 'calls');
    expect(call).toMatchObject({ mute_count: 1 });
    expect(call!.mic_muted_s as number).toBeGreaterThanOrEqual(0.5);
    expect(call!.mic_muted_s as number).toBeLessThan(5);
    const micEvents = (await exportJsonl(dataDir, 'events')).filter((e) => e.event === 'microphone');
    expect(micEvents.map((e) => [e.source, JSON.parse(e.payload as string).muted])).toEqual([
      ['system', false], // the state found at the start of the call
      ['card', true],
      ['card', false],
    ]);
  });

  it('the CLI (as a hotkey would) mutes the microphone and the card', async () => {
    const { dataDir, page } = await callWithMicrophone('MIC2', 'externalCall.mic2');
    expect(await runCli(['mute', '--data-dir', dataDir])).toMatchObject({ code: 0, stdout: 'mute: done\n' });
    expect(await sourceMuted()).toBe(true);
    expect(await pulse.peak('mic')).toBe(0);
    expect(await emulatorApi(page, 'card')).toMatchObject({ muted: true });
    expect(await runCli(['toggle', '--data-dir', dataDir])).toMatchObject({ code: 0 });
    expect(await sourceMuted()).toBe(false);
    expect(await emulatorApi(page, 'card')).toMatchObject({ muted: false });
  });

  it('a mute made outside the app (a keyboard mic key) is seen, shown, recorded, and the card follows', async () => {
    const { dataDir, page } = await callWithMicrophone('MIC3', 'externalCall.mic3');
    await pulse.pactl('set-source-mute', 'mic', '1');
    await expect.poll(() => emulatorApi(page, 'card')).toMatchObject({ muted: true });
    await expect.poll(() => state(dataDir)).toBe('muted');
    expect(await appMicrophone(dataDir)).toMatchObject({ muted: true, controlledByApp: false });
    await pulse.pactl('set-source-mute', 'mic', '0');
    await expect.poll(() => emulatorApi(page, 'card')).toMatchObject({ muted: false });
    await page.click('#hangup');
    await expect.poll(() => state(dataDir)).toBe('waiting');
    const sources = (await exportJsonl(dataDir, 'events')).filter((e) => e.event === 'microphone').map((e) => e.source);
    expect(sources).toEqual(['system', 'system', 'system']);
  });

  it('hanging up while muted gives the microphone back; one muted before the call is left muted', async () => {
    const first = await callWithMicrophone('MIC4', 'externalCall.mic4');
    await first.page.click('#mute');
    await expect.poll(sourceMuted).toBe(true);
    await first.page.click('#hangup');
    await expect.poll(sourceMuted).toBe(false);
    expect(await pulse.peak('mic')).toBeGreaterThan(LIVE);

    // The operator muted the microphone themselves before the next call: the card is brought along, and the
    // end of the call leaves the microphone as the operator had it.
    await pulse.pactl('set-source-mute', 'mic', '1');
    await emulatorApi(first.page, 'raiseCard', { callId: 'externalCall.mic4b' });
    await expect.poll(() => emulatorApi(first.page, 'card')).toMatchObject({ muted: true });
    await first.page.click('#hangup');
    await expect.poll(() => state(first.dataDir)).toBe('waiting');
    expect(await sourceMuted()).toBe(true);
  });

  it('the app killed while it had the microphone muted gives it back when it starts again after the call', async () => {
    const { dataDir, s, page } = await callWithMicrophone('MIC5', 'externalCall.mic5');
    await page.click('#mute');
    await expect.poll(sourceMuted).toBe(true);
    s.child.kill('SIGKILL');
    await new Promise((r) => s.child.once('exit', r));
    // The operator hangs up while the app is down; the microphone is still muted, nobody to give it back.
    await page.click('#hangup');
    expect(await sourceMuted()).toBe(true);
    await h.serve(dataDir, s.port, { args: ['--microphone', 'default'], env: pulse.env });
    // The tab reconnects and replays the hang-up: the call ends, and the app's claim is honoured.
    await expect.poll(sourceMuted, { timeout: 20_000 }).toBe(false);
    expect(await pulse.peak('mic')).toBeGreaterThan(LIVE);
    // The call found again at the restart is recorded as such, not as a second start of the call.
    const reasons = (await exportJsonl(dataDir, 'events')).filter((e) => e.event === 'microphone').map((e) => JSON.parse(e.payload as string).reason as string);
    expect(reasons.filter((r) => r === 'call_start')).toHaveLength(1);
    expect(reasons.indexOf('app_start')).toBeGreaterThan(reasons.indexOf('call_start'));
  });
});
