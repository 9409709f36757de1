// The app windows in real Chromium, with the preload bridge replaced by one that calls the real main-process
// IPC handlers (through the same validating dispatcher), against a real core and store. Each window is
// screenshotted to out/screenshots/ to be looked at.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../common/protocol.ts';
import type { DesktopController } from '../../main/core/desktop/desktop-controller.ts';
import { PulseAudioMicrophone } from '../../main/core/microphone/pulseaudio.ts';
import { startPulseServer } from '../helpers/pulseaudio.ts';
import type { Settings } from '../../common/settings.ts';
import { approveInPairingWindow, fakeSecrets, useDesktops, type FakePlatform, type FakePlatformOptions } from '../helpers/desktop.ts';
import { useWorkers } from '../helpers/lifecycle.ts';
import { seedStore } from '../helpers/seed.ts';
import { startPostgres } from '../helpers/postgres.ts';
import { connectCentral, resolveCentralUrl } from '../../main/core/central/connection.ts';
import { addLogin, centralInit } from '../../main/core/central/schema.ts';
import { CentralSync } from '../../main/core/central/sync.ts';
import { Secrets } from '../../main/core/desktop/secrets.ts';
import { SessionStore } from '../../main/core/store/session-store.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import type { TestWorker } from '../helpers/test-worker.ts';
import { openWindow as openWindowOn, startWindowHost, type OpenedWindow, type OpenWindowOptions, type WindowHost } from '../helpers/windows.ts';
import { SCREENSHOTS } from './harness.ts';

const ORIGIN = 'https://worker.test';
const tempDir = useTempDirs();
let host: WindowHost;
const startDesktop = useDesktops(tempDir);
const newWorker = useWorkers();

beforeAll(async () => {
  host = await startWindowHost();
});
afterAll(async () => {
  await host?.close();
});

/** A window of the app on the real IPC handlers (test/helpers/windows.ts). */
function openWindow(controller: DesktopController, view: string, options: OpenWindowOptions = {}): Promise<OpenedWindow> {
  return openWindowOn(host, controller, view, options);
}

function desktop(settings: Partial<Settings> = {}, platformOptions?: FakePlatformOptions): Promise<{ controller: DesktopController; platform: FakePlatform }> {
  return startDesktop({ allowedOrigins: [ORIGIN], ...settings }, platformOptions);
}

/** A worker from the allow-listed origin, approved the way the operator would in the pairing window. */
function pairedWorker(controller: DesktopController): Promise<TestWorker> {
  return approveInPairingWindow(controller, newWorker({ port: controller.status().port, origin: ORIGIN }));
}

describe('status window', () => {
  it('follows a call, announces changes, and mutes from the keyboard', async () => {
    const { controller } = await desktop();
    const { page, consoleErrors } = await openWindow(controller, 'status');
    const w = await pairedWorker(controller);
    await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+74951234567', CALL_DIRECTION: 'incoming' });
    await expect.poll(() => page.locator('h1').textContent()).toBe('On a call: microphone live');
    expect(await page.locator('#announcer').textContent()).toBe('On a call: microphone live');

    // Keyboard only: Tab to the Mute button and press Enter; the card gets CallCardSetMute and confirms.
    // The window re-renders every second; the focus must stay where the operator put it.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Mute');
    await page.waitForTimeout(1_200);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Mute');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('h1').textContent()).toBe('On a call: MUTED');
    expect(w.received.filter((m) => m.type === 'command').map((m) => (m as { command: string }).command)).toEqual(['CallCardSetMute']);
    expect(await page.locator('#announcer').textContent()).toBe('On a call: MUTED');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-status-muted.png') });
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });

  it('shows the real microphone: which one, muted by the app, and the badge says so too', async () => {
    const pulse = await startPulseServer();
    try {
      const { controller } = await desktop({}, { microphone: () => new PulseAudioMicrophone({ env: pulse.env }) });
      const { page, consoleErrors } = await openWindow(controller, 'status');
      const w = await pairedWorker(controller);
      await w.emitAndWait('initialized', { CALL_ID: 'c-mic', PHONE_NUMBER: '+74951234567', CALL_DIRECTION: 'incoming' });
      await w.emitAndWait('muteButtonClick', true);
      await expect.poll(() => page.locator('dl.facts').textContent()).toContain('MicrophoneSine source at 440 Hz: muted (muted by the app)');
      expect(await page.locator('h1').textContent()).toBe('On a call: MUTED');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'window-status-microphone.png') });
      const badge = await openWindow(controller, 'indicator');
      await badge.page.setViewportSize({ width: 360, height: 48 });
      await expect.poll(() => badge.page.locator('.indicator').textContent()).toBe('MUTEDSine source at 440 Hz');
      await badge.page.screenshot({ path: path.join(SCREENSHOTS, 'window-indicator-device.png'), omitBackground: true });
      expect([...consoleErrors, ...badge.consoleErrors]).toEqual([]);
    } finally {
      await pulse.stop();
    }
  });

  it('shows problems with what to do, in dark mode and in Russian', async () => {
    const { controller } = await desktop({ hotkeys: { toggleMute: 'F13', mute: '', unmute: '', hold: '' } }, { locale: 'ru-RU', wayland: true });
    const { page, consoleErrors } = await openWindow(controller, 'status', { colorScheme: 'dark', locale: 'ru-RU' });
    await expect.poll(() => page.locator('h1').textContent()).toBe('Нет связи с Битрикс24');
    expect(await page.locator('.problem-wayland').textContent()).toMatch(/Wayland/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-status-dark-ru.png') });
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });
});

describe('pairing window', () => {
  it('lists who asks, and Allow lets the tab in', async () => {
    const { controller, platform } = await desktop();
    const { page } = await openWindow(controller, 'pairing');
    expect(await page.locator('main').textContent()).toContain('No requests are waiting.');
    const w = newWorker({ port: controller.status().port, origin: ORIGIN, userName: 'Olga Operator' });
    await w.open();
    w.identify();
    await expect.poll(() => page.locator('.card').count()).toBe(1);
    expect(platform.windows).toEqual(['pairing']);
    expect(await page.locator('.card').textContent()).toMatch(/acme\.bitrix24\.com.*Olga Operator \(7\).*https:\/\/worker\.test/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-pairing.png') });
    const identified = w.next('identified');
    await page.getByRole('button', { name: 'Allow' }).click();
    expect((await identified).pairingToken).toBeDefined();
    await expect.poll(() => page.locator('.card').count()).toBe(0);
  });
});

describe('settings window', () => {
  it('saves valid settings, names invalid ones, and revokes a paired tab', async () => {
    const { controller, platform } = await desktop();
    const w = await pairedWorker(controller);
    const { page, consoleErrors } = await openWindow(controller, 'settings');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-settings.png'), fullPage: true });

    // The hotkey fields record key presses: a bare letter is recorded and refused with the reason on save.
    await page.locator('#hotkey-toggleMute').press('m');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toMatch(/hotkeys\.toggleMute: a global hotkey needs a modifier/);

    await page.locator('#hotkey-toggleMute').press('Control+Shift+F8');
    expect(await page.locator('#hotkey-toggleMute').inputValue()).toBe('Ctrl+Shift+F8');
    await page.locator('#start-at-login').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toBe('Saved.');
    expect(controller.currentSettings).toMatchObject({ startAtLogin: true, hotkeys: { toggleMute: 'CommandOrControl+Shift+F8' } });
    expect(platform.loginItem).toEqual([true]);
    expect(platform.registered.has('CommandOrControl+Shift+F8')).toBe(true);

    await page.getByRole('button', { name: 'Revoke' }).click();
    expect(await w.closed()).toBe(CLOSE_CODES.pairingRevoked.code);
    await expect.poll(() => page.locator('.clients em').textContent()).toBe('revoked');
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });

  it('records a hotkey from the keys pressed, shows it as the OS writes it, and stores Electron\'s syntax', async () => {
    const { controller, platform } = await desktop();
    const { page, consoleErrors } = await openWindow(controller, 'settings');
    const field = page.locator('#hotkey-toggleMute');
    const hold = page.locator('#hotkey-hold');
    expect([await field.inputValue(), await hold.inputValue()]).toEqual(['Ctrl+Alt+M', 'Ctrl+Alt+H']);

    // Backspace clears and Escape puts back what was there; text cannot be typed in (each key replaces the
    // last, and a key alone is refused on save, as above); a combination is recorded.
    expect([...platform.registered.keys()].sort()).toEqual(['CommandOrControl+Alt+H', 'CommandOrControl+Alt+M']);
    await hold.click();
    await expect.poll(() => hold.getAttribute('placeholder')).toBe('Press the keys…');
    // While a field records, the app lets its global hotkeys go: the OS would hand them to the app, not the field.
    await expect.poll(() => platform.registered.size).toBe(0);
    await hold.press('Backspace');
    expect(await hold.inputValue()).toBe('');
    await hold.press('Escape');
    expect(await hold.inputValue()).toBe('Ctrl+Alt+H');
    await field.focus();
    await page.keyboard.type('abc');
    expect(await field.inputValue()).toBe('C');
    await field.press('Control+Alt+K');
    expect(await field.inputValue()).toBe('Ctrl+Alt+K');
    await page.keyboard.down('Control');
    await page.keyboard.down('Shift');
    expect(await field.inputValue()).toBe('Ctrl+Shift+…');
    await page.keyboard.up('Shift');
    await page.keyboard.up('Control');
    expect(await field.inputValue()).toBe('Ctrl+Alt+K');
    await page.locator('#hotkey-unmute').press('Backspace');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-settings-hotkey.png') });
    // Leaving the fields gives the saved hotkeys back until the new ones are saved.
    await page.locator('#hotkeys-paused').focus();
    await expect.poll(() => [...platform.registered.keys()].sort()).toEqual(['CommandOrControl+Alt+H', 'CommandOrControl+Alt+M']);

    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toBe('Saved.');
    expect(controller.currentSettings.hotkeys).toEqual({ toggleMute: 'CommandOrControl+Alt+K', mute: '', unmute: '', hold: 'CommandOrControl+Alt+H' });
    expect([...platform.registered.keys()].sort()).toEqual(['CommandOrControl+Alt+H', 'CommandOrControl+Alt+K']);
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });
});

describe('settings window: team log', () => {
  it('keeps the password in the keychain, the URL in the settings, and says why when there is no keychain', async () => {
    const { controller, platform } = await desktop();
    const { page, consoleErrors } = await openWindow(controller, 'settings');
    // Nothing listens on port 1: the settings are saved and the sync reports its failure in the status.
    await page.locator('#central-url').fill('postgres://pc_olga@127.0.0.1:1/companion');
    await page.locator('#central-password').fill('s3cret-pw');
    await page.locator('#central-tls').selectOption('verify-full');
    await page.locator('#central-ca').fill('/etc/ssl/companion-ca.pem');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toBe('Saved.');
    expect(controller.currentSettings.central).toEqual({ url: 'postgres://pc_olga@127.0.0.1:1/companion', tls: 'verify-full', caFile: '/etc/ssl/companion-ca.pem', readUrl: '' });
    expect(readFileSync(path.join(controller.dataDir, 'settings.json'), 'utf8')).not.toContain('s3cret-pw');
    expect(await controller.secrets.load('centralSync')).toBe('s3cret-pw');
    expect(await page.locator('#central-password').inputValue()).toBe('');
    expect(await page.locator('#central-password').getAttribute('placeholder')).toBe('saved — type to replace');
    await expect.poll(() => controller.status().central?.target).toBe('pc_olga@127.0.0.1:1/companion');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-settings-central.png'), fullPage: true });

    // A password in the URL is refused with the reason; without a keychain the password is not stored at all.
    await page.locator('#central-url').fill('postgres://pc_olga:oops@127.0.0.1:1/companion');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toMatch(/central\.url: leave the password out of the URL/);
    platform.secrets.refuse = 'no keyring (GNOME Keyring or KWallet) is running on this desktop, so the password cannot be kept safely; start one, or use ~/.pgpass instead';
    await page.locator('#central-url').fill('postgres://pc_olga@127.0.0.1:1/companion');
    await page.locator('#central-read-url').fill('postgres://boss@127.0.0.1:1/companion');
    await page.locator('#central-read-password').fill('boss-pw');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toMatch(/no keyring \(GNOME Keyring or KWallet\)/);
    expect(controller.secrets.has('centralRead')).toBe(false);
    expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
  });

  it('the status window shows the sync and, after a long failure, what to do', async () => {
    let shift = 0;
    const { controller } = await startDesktop({ allowedOrigins: [ORIGIN], central: { url: 'postgres://pc_olga@127.0.0.1:1/companion', tls: 'disable', caFile: '', readUrl: '' } }, { now: () => Date.now() + shift });
    const { page, consoleErrors } = await openWindow(controller, 'status');
    await expect.poll(() => page.locator('dl.facts').textContent(), { timeout: 15_000 }).toMatch(/Team log syncpc_olga@127\.0\.0\.1:1\/companion: last sync never, \d+ rows waiting\. Last error: cannot reach PostgreSQL: connection refused/);
    // The server is named once, at the start of the line.
    expect((await page.locator('dl.facts').textContent())?.match(/127\.0\.0\.1:1\//g)).toHaveLength(1);
    expect(await page.locator('.problem-central_failed').count()).toBe(0);
    shift = 31 * 60_000;
    await expect.poll(() => page.locator('.problem-central_failed').textContent()).toMatch(/^Syncing to the team log has failed for 31:\d\d: cannot reach PostgreSQL.*Settings$/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-status-central.png'), fullPage: true });
    expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
  });
});

describe('browser setup assistant', () => {
  it('shows the steps for the portal and saves the IT policy file', async () => {
    const { controller, platform } = await desktop();
    const { page, consoleErrors } = await openWindow(controller, 'assistant');
    await page.locator('#portal').fill('acme.bitrix24.com');
    await page.locator('#platform').selectOption('linux');
    await expect.poll(() => page.locator('#policy-preview').textContent()).toContain('"LoopbackNetworkAllowedForUrls": [\n    "https://acme.bitrix24.com"');
    expect(await page.locator('ol').textContent()).toContain('Open your Bitrix24 (https://acme.bitrix24.com)');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-assistant.png'), fullPage: true });

    await page.locator('#platform').selectOption('windows');
    await page.getByRole('button', { name: 'Save policy file…' }).click();
    await expect.poll(() => page.locator('.message').textContent()).toMatch(/Saved to .*operator-companion-browser-policy\.reg/);
    const saved = platform.saved[0]!.data;
    expect([saved[0], saved[1]]).toEqual([0xff, 0xfe]);
    expect(saved.subarray(2).toString('utf16le')).toContain('"1"="https://acme.bitrix24.com"');
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });
});

describe('session log window', () => {
  it('pages a large log from SQL, filters, sorts, shows a timeline and totals, and exports with progress', async () => {
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 2_000, events: 20_000, operators: 5 });
    const { startDesktop } = await import('../helpers/desktop.ts');
    const { controller, platform } = await startDesktop(dataDir, { allowedOrigins: [ORIGIN] });
    try {
      const { page, consoleErrors } = await openWindow(controller, 'log');
      await page.setViewportSize({ width: 1280, height: 900 });
      await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('2000 calls');
      // No read-only URL of a team log: no "This PC / Whole team" switch.
      expect(await page.locator('.log-source').count()).toBe(0);
      // Only the visible rows exist.
      expect(await page.locator('.log-body .log-row').count()).toBeLessThan(40);
      await page.locator('.log-viewport').evaluate((e) => (e.scrollTop = e.scrollHeight));
      await expect.poll(() => page.locator('.log-body .log-row').last().getAttribute('aria-rowindex')).toBe('2001');

      await page.locator('#log-operator').fill('3');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('400 calls');
      await page.getByRole('button', { name: /^Muted %/ }).click();
      const shares = await page.locator('.log-body .log-row .col-share').allTextContents();
      expect(shares.slice(0, 5).map(Number)).toEqual([...shares.slice(0, 5).map(Number)].sort((a, b) => b - a));

      await page.locator('.log-body .log-row').first().click();
      await expect.poll(() => page.locator('.timeline h2').textContent()).toMatch(/^Call timeline: \+7495/);
      expect(await page.locator('.timeline-chart .bar-muted').count()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'window-log.png'), fullPage: true });

      await page.getByRole('tab', { name: 'Totals by day' }).click();
      await expect.poll(() => page.locator('.totals tbody tr').count()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'window-log-totals.png'), fullPage: true });

      // The zones to export in are offered once the field is used (not built before the first rows).
      await page.locator('#log-zone').focus();
      expect(await page.locator('#log-zones option').count()).toBeGreaterThan(300);
      expect(await page.locator('#log-zones option[value="Europe/Moscow"]').count()).toBe(1);

      await page.locator('#log-export-format').selectOption('xlsx');
      await page.getByRole('button', { name: 'Export…' }).click();
      await expect.poll(() => page.locator('.export ~ .message').textContent(), { timeout: 20_000 }).toMatch(/^Exported \d+ rows to .*operator-companion-calls\.xlsx$/);
      expect(existsSync(path.join(dataDir, 'operator-companion-calls.xlsx'))).toBe(true);
      expect(platform.windows).toEqual([]);
      expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
    } finally {
      await controller.stop();
    }
  }, 60_000);
});

describe('session log window: whole team', () => {
  it('switches between this PC and the whole team (two PCs synced to a real PostgreSQL), and says in one line when it cannot read it', async () => {
    const pg = await startPostgres();
    const stores: SessionStore[] = [];
    const syncs: CentralSync[] = [];
    try {
      await pg.psql('CREATE DATABASE companion');
      const admin = connectCentral(resolveCentralUrl(pg.url(undefined, undefined, 'companion'), {}));
      const writers: string[] = [];
      let bossPassword = '';
      try {
        await centralInit(admin, 'test');
        for (const pc of ['olga', 'ivan']) writers.push(pg.url(`pc_${pc}`, (await addLogin(admin, `pc_${pc}`, 'writer')).password, 'companion'));
        bossPassword = (await addLogin(admin, 'boss', 'supervisor')).password;
      } finally {
        await admin.end();
      }
      // Two operators' PCs, each with its own log, synced into the team log.
      for (const [i, name] of ['Olga', 'Ivan'].entries()) {
        const dir = tempDir();
        seedStore(dir, { calls: 30 + i * 6, events: (30 + i * 6) * 6, operators: 1, start: Date.UTC(2025, 11, 1, 8, i * 3), spacingMs: 7 * 60_000 });
        const store = SessionStore.openInDir(dir);
        store.db.prepare('UPDATE operators SET user_id = ?, name = ?').run(String(100 + i), name);
        stores.push(store);
        const sync = new CentralSync({ db: store.db, config: resolveCentralUrl(writers[i]!, {}), appVersion: 'test', batchRows: 100, idleMs: 100, backoff: { minMs: 100, maxMs: 1_000 } });
        sync.start();
        syncs.push(sync);
      }
      for (const sync of syncs) await expect.poll(() => sync.status().lastSyncAt !== null && sync.status().rowsWaiting === 0, { timeout: 30_000 }).toBe(true);

      // The supervisor's PC: a few calls of its own, and the team log's read-only URL with its password in the keychain.
      const dataDir = tempDir();
      seedStore(dataDir, { calls: 5, events: 30, operators: 1 });
      const secrets = fakeSecrets();
      await new Secrets(dataDir, secrets).save('centralRead', bossPassword);
      const { startDesktop } = await import('../helpers/desktop.ts');
      const { controller } = await startDesktop(dataDir, { allowedOrigins: [ORIGIN], central: { url: '', tls: 'disable', caFile: '', readUrl: `postgres://boss@127.0.0.1:${pg.port}/companion` } }, { secrets });
      try {
        const { page, consoleErrors } = await openWindow(controller, 'log');
        await page.setViewportSize({ width: 1280, height: 900 });
        await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('5 calls');
        expect(await page.getByRole('radio', { name: 'This PC' }).getAttribute('aria-checked')).toBe('true');

        await page.getByRole('radio', { name: 'Whole team' }).click();
        await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('66 calls');
        expect(await page.getByRole('radio', { name: 'Whole team' }).getAttribute('aria-checked')).toBe('true');
        // Both operators' calls, by start time; sorted by operator (by name), one and then the other first.
        await expect.poll(async () => new Set(await page.locator('.log-body .log-row .col-operator').allTextContents())).toEqual(new Set(['Olga', 'Ivan']));
        await page.getByRole('button', { name: /^Operator/ }).click();
        await expect.poll(() => page.locator('.log-body .log-row .col-operator').first().textContent()).toBe('Olga');
        await page.getByRole('button', { name: /^Operator/ }).click();
        await expect.poll(() => page.locator('.log-body .log-row .col-operator').first().textContent()).toBe('Ivan');
        await page.getByRole('button', { name: /^Time/ }).click();
        await page.locator('#log-operator').fill('101');
        await page.getByRole('button', { name: 'Apply' }).click();
        await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('36 calls');
        await page.locator('#log-operator').fill('');
        await page.getByRole('button', { name: 'Apply' }).click();
        await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('66 calls');
        await page.locator('.log-body .log-row').first().click();
        await expect.poll(() => page.locator('.timeline h2').textContent()).toMatch(/^Call timeline: \+7495/);
        expect(await page.locator('.timeline-chart .bar-muted').count()).toBeGreaterThan(0);
        await page.screenshot({ path: path.join(SCREENSHOTS, 'window-log-team.png'), fullPage: true });

        await page.getByRole('tab', { name: 'Totals by day' }).click();
        await expect.poll(() => page.locator('.totals tbody tr').count()).toBe(2);
        expect(await page.locator('.totals tbody td:nth-child(2)').allTextContents()).toEqual(expect.arrayContaining(['Olga', 'Ivan']));
        await page.getByRole('tab', { name: 'Calls' }).click();

        // The server away: one line in the window, the rest stays usable, and this PC's log still reads.
        await pg.halt();
        await page.getByRole('button', { name: 'Apply' }).click();
        await expect.poll(() => page.locator('#log-error').textContent(), { timeout: 15_000 }).toMatch(/^Cannot read the log: [^\n]*PostgreSQL[^\n]*$/);
        expect(await page.locator('#log-error').isVisible()).toBe(true);
        await page.screenshot({ path: path.join(SCREENSHOTS, 'window-log-team-error.png'), fullPage: true });
        await page.getByRole('radio', { name: 'This PC' }).click();
        await expect.poll(() => page.locator('.calls [role=status]').textContent()).toBe('5 calls');
        expect(await page.locator('#log-error').isVisible()).toBe(false);
        expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
      } finally {
        await controller.stop();
      }
    } finally {
      for (const sync of syncs) await sync.stop();
      for (const store of stores) store.close();
      await pg.stop();
    }
  }, 90_000);
});

describe('on-screen badge', () => {
  it('says MUTED on a transparent page, nothing else', async () => {
    const { controller } = await desktop();
    const { page, consoleErrors } = await openWindow(controller, 'indicator');
    await page.setViewportSize({ width: 360, height: 48 });
    expect(await page.locator('.indicator h1').textContent()).toBe('MUTED');
    // The real preload gives the badge only the calls it uses.
    expect(await page.evaluate(() => Object.keys((window as unknown as { companion: object }).companion).sort())).toEqual(['getSettings', 'getStatus', 'onExportProgress', 'onStatus']);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgba(0, 0, 0, 0)');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'window-indicator.png'), omitBackground: true });
    expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
  });
});
