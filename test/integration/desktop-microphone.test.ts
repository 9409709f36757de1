// The desktop app with a real microphone (a private PulseAudio server): the tray shows what the microphone says,
// which device is muted, the screen lock mutes the call, and a card that will not follow puts the tray into its
// attention state with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trayModel } from '../../main/core/desktop/tray-model.ts';
import { PulseAudioMicrophone } from '../../main/core/microphone/pulseaudio.ts';
import { approveInPairingWindow, useDesktops } from '../helpers/desktop.ts';
import { useWorkers } from '../helpers/lifecycle.ts';
import { startPulseServer, type PulseServer } from '../helpers/pulseaudio.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const ORIGIN = 'https://worker.test';
const tempDir = useTempDirs();
const desktop = useDesktops(tempDir);
const newWorker = useWorkers();
let pulse: PulseServer;

beforeAll(async () => {
  pulse = await startPulseServer();
});
afterAll(async () => {
  await pulse?.stop();
});

const sourceMuted = async (): Promise<boolean> => (await pulse.pactl('get-source-mute', 'mic')).trim() === 'Mute: yes';

async function onACall(options: { cardObeys?: boolean } = {}) {
  await pulse.pactl('set-source-mute', 'mic', '0');
  const { controller } = await desktop({ allowedOrigins: [ORIGIN] }, { microphone: () => new PulseAudioMicrophone({ env: pulse.env }) });
  const w = newWorker({ port: controller.status().port, origin: ORIGIN, ...(options.cardObeys === false ? { onCommand: () => {} } : {}) });
  await approveInPairingWindow(controller, w);
  await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+74951234567' });
  await expect.poll(() => controller.status().microphone).toMatchObject({ device: 'Sine source at 440 Hz', muted: false });
  return { controller, w };
}

describe('desktop app with a real microphone', () => {
  it('the tray says the microphone is muted, and which one', async () => {
    const { controller, w } = await onACall();
    await w.emitAndWait('muteButtonClick', true);
    await expect.poll(sourceMuted).toBe(true);
    await expect.poll(() => trayModel(controller.status(), 'en').icon).toBe('muted');
    expect(trayModel(controller.status(), 'en').tooltip).toMatch(/microphone muted: Sine source at 440 Hz/);
    expect(controller.status().microphone).toMatchObject({ controlledByApp: true, disagreesWithCard: false });
  });

  it('locking the screen mutes the call and the microphone; nothing unmutes by itself', async () => {
    const { controller, w } = await onACall();
    await controller.screenLockedOrSleeping();
    expect(await sourceMuted()).toBe(true);
    expect(w.received.filter((m) => m.type === 'command').map((m) => (m as { params: unknown }).params)).toEqual([{ muted: true }]);
    await expect.poll(() => controller.status().state).toBe('muted');
  });

  it('a card that does not follow an outside mute puts the tray into attention, with the reason', async () => {
    const { controller } = await onACall({ cardObeys: false });
    await pulse.pactl('set-source-mute', 'mic', '1');
    // The card was asked and never answered; after the grace period the disagreement is shown.
    await expect.poll(() => controller.status().problems.map((p) => p.kind), { timeout: 15_000 }).toContain('microphone_disagrees');
    const tray = trayModel(controller.status(), 'en');
    expect(tray.icon).toBe('problem');
    expect(tray.tooltip).toMatch(/The call card and the microphone disagree; the microphone is muted/);
  });

  it('a headset plugged in while muted is muted too and named in the tray; the end of the call gives both back', async () => {
    const { controller, w } = await onACall();
    await w.emitAndWait('muteButtonClick', true);
    await expect.poll(sourceMuted).toBe(true);
    await pulse.addSource('headset', 880);
    await pulse.pactl('set-default-source', 'headset');
    try {
      await expect.poll(async () => (await pulse.pactl('get-source-mute', 'headset')).trim()).toBe('Mute: yes');
      expect(await pulse.peak('headset')).toBe(0);
      await expect.poll(() => trayModel(controller.status(), 'en').tooltip).toMatch(/microphone muted: Sine source at 880 Hz/);
      await w.emitAndWait('hangupButtonClick', []);
      await expect.poll(async () => (await pulse.pactl('get-source-mute', 'headset')).trim()).toBe('Mute: no');
      expect(await sourceMuted()).toBe(false);
    } finally {
      await pulse.pactl('set-default-source', 'mic');
      await pulse.pactl('unload-module', 'module-sine-source').catch(() => {});
    }
  });
});
