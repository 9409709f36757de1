// Shared set-up of the end-to-end tests: the portal emulator, real Chromium, `serve` child processes, and
// small helpers to drive the emulated portal and read the app's state through the real CLI.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/portal-server.ts';
import { launchChromium, type LaunchOptions, type TestBrowser } from '../helpers/browser.ts';
import { exited, freePort, runCli, startServe, type ServeProcess } from '../helpers/cli.ts';

/** Screenshots of what the tests saw, kept to look at (not compared). */
export const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'out', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

/** The test API the emulated portal page puts on `window.emulator`. */
export interface EmulatorApi {
  appSid: string;
  binds(): Record<string, number>;
  card(): { callId: string; muted: boolean; held: boolean; uiState: string } | null;
  raiseCard(options: { callId: string; phoneNumber?: string | null; direction?: string; uiState?: string }): void;
  fire(name: string, payload?: unknown): number;
  registerEventsNow(): void;
}

export interface AppStatus {
  state: string;
  connectedFrames: number;
  call: { callId: string; muted: boolean; held: boolean } | null;
}

export interface AppMicrophone {
  device: string | null;
  muted: boolean | null;
  controlledByApp: boolean;
  error: string | null;
  disagreesWithCard: boolean;
}

export interface Harness {
  emulator: Emulator;
  chromium: TestBrowser;
  /** `extra`: more serve arguments (e.g. --microphone) and the environment (e.g. a private PulseAudio's). */
  serve(dataDir: string, port?: number, extra?: { args?: string[]; env?: NodeJS.ProcessEnv }): Promise<ServeProcess>;
  stop(s: ServeProcess): Promise<void>;
}

export function useHarness(launch: (emulator: Emulator) => LaunchOptions = () => ({})): Harness {
  const serves: ServeProcess[] = [];
  const harness = {
    emulator: undefined as unknown as Emulator,
    chromium: undefined as unknown as TestBrowser,
    async serve(dataDir: string, port?: number, extra: { args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ServeProcess> {
      const s = await startServe([
        '--data-dir', dataDir, '--port', String(port ?? (await freePort())),
        '--allow-origin', harness.emulator.workerOrigin, '--auto-approve', ...(extra.args ?? []),
      ], [], extra.env);
      serves.push(s);
      return s;
    },
    async stop(s: ServeProcess): Promise<void> {
      s.child.kill('SIGTERM');
      await exited(s.child);
      serves.splice(serves.indexOf(s), 1);
    },
  };
  beforeAll(async () => {
    harness.emulator = await startEmulator();
    harness.chromium = await launchChromium(launch(harness.emulator));
  });
  afterAll(async () => {
    await harness.chromium?.close();
    await harness.emulator?.close();
  });
  afterEach(async () => {
    for (const s of serves.splice(0)) {
      s.child.kill('SIGKILL');
      await exited(s.child);
    }
  });
  return harness;
}

/** The app's view, read the way a user would: `operator-companion status --json`. */
export async function appStatus(dataDir: string): Promise<AppStatus | null> {
  const result = await runCli(['status', '--data-dir', dataDir, '--json']);
  return (JSON.parse(result.stdout) as { running: { view: AppStatus } | null }).running?.view ?? null;
}

/** The app's microphone as `status --json` reports it (null: mirror only, or not running). */
export async function appMicrophone(dataDir: string): Promise<AppMicrophone | null> {
  const result = await runCli(['status', '--data-dir', dataDir, '--json']);
  return (JSON.parse(result.stdout) as { microphone: AppMicrophone | null }).microphone;
}

/** The session log as the supervisor gets it: `operator-companion export --format jsonl`, read back. */
export async function exportJsonl(dataDir: string, kind: 'calls' | 'events'): Promise<Array<Record<string, string | number>>> {
  const out = path.join(dataDir, `${kind}.jsonl`);
  const result = await runCli(['export', '--data-dir', dataDir, '--format', 'jsonl', '--kind', kind, '--out', out]);
  expect(result.code, result.stderr).toBe(0);
  const text = readFileSync(out, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Record<string, string | number>);
}

/** Just the operator state from `appStatus`. */
export async function appState(dataDir: string): Promise<string | undefined> {
  return (await appStatus(dataDir))?.state;
}

export function workerFrame(page: Page): Frame | undefined {
  return page.frames().find((f) => f.name().includes('|1|'));
}

/** The worker's connection state, as it publishes it on its own document. */
export async function workerState(page: Page): Promise<string | undefined> {
  return workerFrame(page)?.evaluate(() => document.documentElement.dataset.state);
}

export function emulatorApi<K extends keyof EmulatorApi>(
  page: Page,
  name: K,
  ...args: EmulatorApi[K] extends (...a: infer A) => unknown ? A : never
): Promise<EmulatorApi[K] extends (...a: never[]) => infer R ? R : never> {
  return page.evaluate(
    ([fn, values]) => {
      const api = (window as unknown as { emulator: Record<string, (...a: unknown[]) => unknown> }).emulator;
      return api[fn as string]?.(...(values as unknown[]));
    },
    [name, args] as const,
  ) as never;
}

/** Opens an emulated Bitrix24 page whose worker talks to the relay on `relayPort`; waits until it is connected. */
export async function openPortal(context: BrowserContext, url: string, options: { expectState?: string } = {}): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await expect.poll(() => workerState(page), { timeout: 15_000 }).toBe(options.expectState ?? 'connected');
  return page;
}

/** Waits until the worker's binds reached the portal (the phone module must be there first). */
export async function waitForBinds(page: Page): Promise<void> {
  await expect.poll(async () => (await emulatorApi(page, 'binds'))['BackgroundCallCard::initialized']).toBe(1);
}
