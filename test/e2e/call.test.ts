import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { appState as state, appStatus, emulatorApi, openPortal, SCREENSHOTS, useHarness, waitForBinds } from './harness.ts';

const tempDir = useTempDirs();
const h = useHarness();

describe('a call through the real worker in Chromium', () => {
  it('card raised → mute twice → hold → hang up: one call with the right intervals, and export shows it', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: s.port, sid: 'TAB1' }));
    await waitForBinds(page);
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.e2e1', phoneNumber: '+74951234567' });
    await expect.poll(() => state(dataDir)).toBe('live');

    await page.click('#mute');
    await expect.poll(() => state(dataDir)).toBe('muted');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'portal-muted.png') });
    await page.waitForTimeout(1_200);
    await page.click('#mute');
    await expect.poll(() => state(dataDir)).toBe('live');
    await page.click('#hold');
    await expect.poll(() => state(dataDir)).toBe('on_hold');
    await page.waitForTimeout(700);
    await page.click('#hold');
    await page.click('#hangup');
    await expect.poll(() => state(dataDir)).toBe('waiting');

    const out = path.join(dataDir, 'calls.jsonl');
    expect((await runCli(['export', '--data-dir', dataDir, '--format', 'jsonl', '--out', out])).code).toBe(0);
    const calls = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(calls).toHaveLength(1);
    const [call] = calls as [Record<string, number | string>];
    expect(call).toMatchObject({ call_id: 'externalCall.e2e1', phone_number: '+74951234567', operator_id: '7', end_reason: 'hangup', mute_count: 1, hold_count: 1, gap_s: 0 });
    expect(call.muted_s).toBeGreaterThanOrEqual(1.2);
    expect(call.muted_s).toBeLessThan(5);
    expect(call.held_s).toBeGreaterThanOrEqual(0.7);
    expect(call.held_s).toBeLessThan(5);
  });

  it('a hotkey path: the app sends setMute, the card changes, the app shows it confirmed', async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: s.port, sid: 'TAB2' }));
    await waitForBinds(page);
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.e2e2', phoneNumber: '+74950000000' });
    await expect.poll(() => state(dataDir)).toBe('live');

    expect(await runCli(['mute', '--data-dir', dataDir])).toMatchObject({ code: 0, stdout: 'mute: done\n' });
    expect(await emulatorApi(page, 'card')).toMatchObject({ muted: true });
    expect(await appStatus(dataDir)).toMatchObject({ state: 'muted', call: { muted: true } });
    expect(await page.locator('#card').getAttribute('data-muted')).toBe('true');

    // Once the operator closed the card, the next command says there is no call.
    await page.click('#close');
    const late = await runCli(['unmute', '--data-dir', dataDir]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/no_call/);
  });

  it("in the Bitrix24 desktop app's mode (other reply shapes) a hold from the app works", async () => {
    const dataDir = tempDir();
    const s = await h.serve(dataDir);
    const page = await openPortal(await h.chromium.context(), h.emulator.portalUrl({ relayPort: s.port, sid: 'TAB3', mode: 'desktop' }));
    await waitForBinds(page);
    await emulatorApi(page, 'raiseCard', { callId: 'externalCall.e2e3' });
    await expect.poll(() => state(dataDir)).toBe('live');
    expect(await runCli(['hold', '--data-dir', dataDir])).toMatchObject({ code: 0, stdout: 'hold: done\n' });
    await expect.poll(() => state(dataDir)).toBe('on_hold');
  });
});
