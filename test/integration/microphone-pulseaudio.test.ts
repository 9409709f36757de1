// The Linux microphone adapter against a real PulseAudio server: muting silences what is recorded from the
// source, outside changes are pushed to the app, and the default device is followed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRelevantEvent, microphonesFrom, PulseAudioMicrophone } from '../../main/core/microphone/pulseaudio.ts';
import { MicrophoneError } from '../../main/core/microphone/microphone-port.ts';
import { startPulseServer, type PulseServer } from '../helpers/pulseaudio.ts';

let server: PulseServer;
let mic: PulseAudioMicrophone;

beforeAll(async () => {
  server = await startPulseServer();
  mic = new PulseAudioMicrophone({ env: server.env });
});
afterAll(async () => {
  await mic?.close();
  await server?.stop();
});

describe('PulseAudio microphone', () => {
  it('mutes the default source for real: the recording goes silent, and comes back on unmute', async () => {
    expect(await server.peak('mic')).toBeGreaterThan(10_000);
    const muted = await mic.setMuted({ kind: 'default' }, true);
    expect(muted).toEqual({ device: { id: 'mic', name: 'Sine source at 440 Hz', isDefault: true }, muted: true });
    expect(await server.peak('mic')).toBe(0);
    expect((await mic.setMuted({ kind: 'default' }, false)).muted).toBe(false);
    expect(await server.peak('mic')).toBeGreaterThan(10_000);
  });

  it('hears a mute made outside the app, pushed by the server', async () => {
    let changes = 0;
    const unsubscribe = mic.subscribe(() => (changes += 1));
    try {
      // The subscription is a process of its own; give it a moment to connect before acting.
      await expect.poll(async () => {
        await server.pactl('set-source-mute', 'mic', 'toggle');
        return changes;
      }).toBeGreaterThan(0);
      const wasMuted = (await mic.read({ kind: 'default' })).muted;
      const before = changes;
      await server.pactl('set-source-mute', 'mic', wasMuted ? '0' : '1');
      await expect.poll(() => changes).toBeGreaterThan(before);
      expect((await mic.read({ kind: 'default' })).muted).toBe(!wasMuted);
    } finally {
      unsubscribe();
      await server.pactl('set-source-mute', 'mic', '0');
    }
  });

  it('lists microphones, follows a new default device, and mutes one by name', async () => {
    await server.addSource('headset', 880);
    const devices = await mic.list();
    expect(devices.map((d) => d.id).sort()).toEqual(['headset', 'mic']);
    await server.pactl('set-default-source', 'headset');
    const reading = await mic.setMuted({ kind: 'default' }, true);
    expect(reading.device?.id).toBe('headset');
    expect(await server.peak('headset')).toBe(0);
    expect(await server.peak('mic')).toBeGreaterThan(10_000);
    await mic.setMuted({ kind: 'named', name: 'Sine source at 440 Hz' }, true);
    expect(await server.peak('mic')).toBe(0);
    await mic.setMuted({ kind: 'named', name: 'mic' }, false);
    await mic.setMuted({ kind: 'named', name: 'headset' }, false);
    await server.pactl('set-default-source', 'mic');
  });

  it('names what is wrong: an unknown device, no server, no pactl', async () => {
    await expect(mic.setMuted({ kind: 'named', name: 'Nope' }, true)).rejects.toThrow(/no microphone named "Nope"/);
    const noServer = new PulseAudioMicrophone({ env: { ...server.env, PULSE_SERVER: 'unix:/nonexistent/native' } });
    await expect(noServer.read({ kind: 'default' })).rejects.toMatchObject({ code: 'unavailable' });
    const noPactl = new PulseAudioMicrophone({ env: server.env, pactl: 'pactl-not-installed' });
    const error = await noPactl.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MicrophoneError);
    expect(error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/pulseaudio-utils/) });
  });
});

describe('pactl output', () => {
  it('keeps microphones and leaves out the monitors of outputs', () => {
    const devices = microphonesFrom(
      [
        { index: 0, name: 'alsa_output.pci.analog-stereo.monitor', description: 'Monitor of Built-in Audio', mute: false, monitor_of_sink: 'alsa_output.pci.analog-stereo', properties: { 'device.class': 'monitor' } },
        { index: 1, name: 'alsa_input.usb-Jabra', description: 'Jabra Evolve2 65', mute: true, properties: { 'device.class': 'sound' } },
      ],
      'alsa_input.usb-Jabra',
    );
    expect(devices).toEqual([{ id: 'alsa_input.usb-Jabra', name: 'Jabra Evolve2 65', isDefault: true }]);
  });

  it('wakes up for source and server events only', () => {
    expect(isRelevantEvent("Event 'change' on source #0")).toBe(true);
    expect(isRelevantEvent("Event 'new' on source #3")).toBe(true);
    expect(isRelevantEvent("Event 'change' on server #4294967295")).toBe(true);
    expect(isRelevantEvent("Event 'new' on client #10")).toBe(false);
    expect(isRelevantEvent("Event 'change' on sink-input #2")).toBe(false);
  });
});
