// The desktop app's logic with Electron faked (typed against electron.d.ts) and the core real: a call's events
// produce the right sequence of tray renders and menu states; hotkeys admit failure; IPC validates its input.
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { describe, expect, it } from 'vitest';
import { dispatchIpc } from '../../main/core/desktop/ipc-dispatch.ts';
import { trayModel, type TrayCommand, type TrayIcon } from '../../main/core/desktop/tray-model.ts';
import { TrayAdapter } from '../../main/electron/tray-adapter.ts';
import { approveInPairingWindow, useDesktops } from '../helpers/desktop.ts';
import { useWorkers } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const ORIGIN = 'https://worker.test';
const tempDir = useTempDirs();
const desktop = useDesktops(tempDir);
const newWorker = useWorkers();

/** A fake Tray that records what it was told, with Electron's own method signatures. */
function fakeTray() {
  const renders: Array<{ icon?: TrayIcon; tooltip?: string; menu?: MenuItemConstructorOptions[] }> = [];
  const images = new Map<NativeImage, TrayIcon>();
  const tray: Pick<Tray, 'setImage' | 'setToolTip' | 'setContextMenu'> = {
    setImage: (image) => void renders.push({ icon: images.get(image as NativeImage) }),
    setToolTip: (tooltip) => void renders.push({ tooltip }),
    setContextMenu: (menu) => void renders.push({ menu: (menu as unknown as { template: MenuItemConstructorOptions[] }).template }),
  };
  const image = (icon: TrayIcon): NativeImage => {
    const fake = { icon } as unknown as NativeImage;
    images.set(fake, icon);
    return fake;
  };
  const buildMenu = (template: MenuItemConstructorOptions[]): Menu => ({ template }) as unknown as Menu;
  return { tray, image, buildMenu, renders };
}

describe('tray, driven by the real core', () => {
  it('a call renders pairing → waiting → live → muted → on hold → live → waiting, with the menu following', async () => {
    const { controller } = await desktop({ allowedOrigins: [ORIGIN] });
    const commands: TrayCommand[] = [];
    const fake = fakeTray();
    const adapter = new TrayAdapter({ tray: fake.tray, buildMenu: fake.buildMenu, image: fake.image, onCommand: (c) => commands.push(c) });
    adapter.render(trayModel(controller.status(), 'en'));
    controller.onStatus((status) => adapter.render(trayModel(status, 'en')));

    const w = await approveInPairingWindow(controller, newWorker({ port: controller.status().port, origin: ORIGIN }));

    await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+74951234567' });
    await w.emitAndWait('muteButtonClick', true);
    await w.emitAndWait('holdButtonClick', true);
    await w.emitAndWait('holdButtonClick', false);
    await w.emitAndWait('muteButtonClick', false);
    await w.emitAndWait('hangupButtonClick', []);

    const icons = fake.renders.filter((r) => 'icon' in r).map((r) => r.icon);
    // While the tab waits for the operator's permission the tray asks for attention; once allowed, the
    // handshake finishes a moment later.
    expect(icons).toEqual(['not_connected', 'problem', 'not_connected', 'waiting', 'live', 'muted', 'on_hold', 'muted', 'live', 'waiting']);
    const menus = fake.renders.filter((r) => r.menu).map((r) => r.menu!);
    const labelled = (menu: MenuItemConstructorOptions[], label: string) => menu.find((m) => m.label === label);
    const mutedMenu = menus.find((m) => labelled(m, 'Unmute'));
    expect(labelled(mutedMenu!, 'Unmute')).toMatchObject({ enabled: true, accelerator: 'CommandOrControl+Alt+M' });
    expect(labelled(menus.at(-1)!, 'Mute')).toMatchObject({ enabled: false });
    expect(menus.every((m) => labelled(m, 'Quit Operator Companion'))).toBe(true);
    const tooltips = fake.renders.filter((r) => r.tooltip).map((r) => r.tooltip);
    expect(tooltips.some((tip) => /MUTED · \+74951234567 · muted for 0:0\d/.test(tip!))).toBe(true);

    // The menu's items call back with their command.
    (labelled(menus.at(-1)!, 'Settings…')!.click as () => void)();
    expect(commands).toEqual(['openSettings']);
  });

  it('a tray or hotkey command with no call says so instead of failing silently', async () => {
    const { controller, platform } = await desktop();
    expect((await controller.command('toggle', 'tray')).outcome).toBe('no_call');
    expect(platform.notifications).toEqual(['No call to act on']);
  });
});

describe('hotkeys', () => {
  it('registers the defaults, reports a taken accelerator, and can be rebound and paused', async () => {
    const { controller, platform } = await desktop({ hotkeys: { toggleMute: 'CommandOrControl+Alt+M', mute: '', unmute: '', hold: 'CommandOrControl+Alt+H' } });
    expect([...platform.registered.keys()]).toEqual(['CommandOrControl+Alt+M', 'CommandOrControl+Alt+H']);

    platform.taken.add('Alt+F9');
    const rebound = await dispatchIpc(controller.handlers, 'updateSettings', [{ hotkeys: { toggleMute: 'Alt+F9' } }]);
    expect(rebound).toMatchObject({ ok: true, value: { hotkeys: [{ action: 'toggleMute', registered: false, error: expect.stringMatching(/taken/) }, { action: 'hold', registered: true }] } });
    expect(controller.status().problems.map((p) => p.kind)).toContain('hotkey_failed');

    const fixed = await dispatchIpc(controller.handlers, 'updateSettings', [{ hotkeys: { toggleMute: 'CommandOrControl+Shift+F9' } }]);
    expect(fixed).toMatchObject({ ok: true });
    expect([...platform.registered.keys()].sort()).toEqual(['CommandOrControl+Alt+H', 'CommandOrControl+Shift+F9']);
    expect(controller.status().problems.map((p) => p.kind)).not.toContain('hotkey_failed');

    await controller.setHotkeysPaused(true);
    expect(platform.registered.size).toBe(0);
    expect(controller.status().hotkeysPaused).toBe(true);
  });

  it('a hotkey sends the command to the card; on Wayland the status says hotkeys may not work', async () => {
    const { controller, platform } = await desktop({ allowedOrigins: [ORIGIN] }, { wayland: true });
    expect(controller.status().problems.map((p) => p.kind)).toContain('wayland');
    platform.registered.get('CommandOrControl+Alt+M')!();
    await expect.poll(() => platform.notifications).toEqual(['No call to act on']);
  });
});

describe('IPC at the door', () => {
  it('refuses unknown calls and bad arguments with a message naming them, and never runs the handler', async () => {
    const { controller } = await desktop();
    expect(await dispatchIpc(controller.handlers, 'deleteEverything', [])).toEqual({ ok: false, error: 'unknown call "deleteEverything"' });
    expect(await dispatchIpc(controller.handlers, 'command', ['explode'])).toMatchObject({ ok: false, error: expect.stringMatching(/^command: at 0: /) });
    expect(await dispatchIpc(controller.handlers, 'revokePairing', ['1'])).toMatchObject({ ok: false, error: expect.stringMatching(/revokePairing: at 0/) });
    expect(await dispatchIpc(controller.handlers, 'updateSettings', [{ port: 80 }])).toMatchObject({ ok: false, error: expect.stringMatching(/port/) });
    expect(await dispatchIpc(controller.handlers, 'updateSettings', [{ hotkeys: { toggleMute: 'M' } }])).toMatchObject({ ok: false, error: expect.stringMatching(/needs a modifier/) });
    expect(await dispatchIpc(controller.handlers, 'previewPolicy', ['http://portal', 'linux'])).toMatchObject({ ok: false, error: expect.stringMatching(/not the https address/) });
    expect(controller.currentSettings.port).not.toBe(80);
  });

  it('a worker origin added in the settings may connect at once', async () => {
    const { controller } = await desktop();
    const refused = newWorker({ port: controller.status().port, origin: ORIGIN });
    await expect(refused.open()).rejects.toThrow(/403/);
    expect(await dispatchIpc(controller.handlers, 'updateSettings', [{ allowedOrigins: [ORIGIN] }])).toMatchObject({ ok: true });
    const accepted = newWorker({ port: controller.status().port, origin: ORIGIN });
    expect((await accepted.open()).type).toBe('hello');
  });

  it('a reminder comes once per long mute, and the sound cue follows mute changes', async () => {
    const { controller, platform } = await desktop({ allowedOrigins: [ORIGIN], muteReminderSeconds: 1, soundCues: true });
    const w = await approveInPairingWindow(controller, newWorker({ port: controller.status().port, origin: ORIGIN }));
    await w.emitAndWait('initialized', { CALL_ID: 'c1' });
    await w.emitAndWait('muteButtonClick', true);
    await expect.poll(() => platform.notifications.filter((n) => n.startsWith('You have been muted')).length, { timeout: 5_000 }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(platform.notifications.filter((n) => n.startsWith('You have been muted'))).toHaveLength(1);
    await w.emitAndWait('muteButtonClick', false);
    await expect.poll(() => platform.beeps).toBe(2);
  });
});
