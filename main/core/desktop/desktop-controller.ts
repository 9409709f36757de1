// The desktop app without Electron: settings, the running instance, pairing prompts, hotkeys, reminders and the
// status the tray and windows render (built here, once per change, and pushed). The IPC calls are a table over
// this (ipc-handlers.ts); the session log and its exports are a service of their own (session-log-service.ts). The Electron layer supplies a
// `DesktopPlatform` (shortcuts, notifications, dialogs, windows) and renders what this emits; tests supply
// fakes typed against Electron's own declarations and drive the real core.
import { acceleratorPlatform, displayAccelerator } from '../../../common/accelerator.ts';
import { formatDuration, resolveLanguage, translate, type Language, type MessageKey } from '../../../common/i18n.ts';
import type { ExportProgress, IpcArgs, IpcResults, Problem, StatusView } from '../../../common/ipc.ts';
import type { IpcChannel, WindowView } from '../../../common/ipc-channels.ts';
import type { HotkeyAction, Settings } from '../../../common/settings.ts';
import type { CardAction, CommandResponse } from '../calls/call-state.ts';
import { exportToFile, type ExportOptions } from '../export/export-log.ts';
import { APP_VERSION, type Companion, type CompanionStatus } from '../companion.ts';
import { startInstance, type Instance } from '../instance.ts';
import { connectCentral, describeCentralError, resolveCentralUrl, type CentralConfig } from '../central/connection.ts';
import { centralSource } from '../central/central-export.ts';
import { checkCentralSchema } from '../central/schema.ts';
import { fileLogging, type Logger, type Logging } from '../logging/logger.ts';
import { storeCounts } from '../store/session-store.ts';
import { deviceChoice } from '../microphone/microphone.ts';
import type { MicrophonePort } from '../microphone/microphone-port.ts';
import { loadSettings, saveSettings, updateSettings } from '../settings.ts';
import { diagnosticsFileName, runtimeVersions, writeDiagnostics } from './diagnostics.ts';
import { HotkeyManager, type ShortcutRegistry } from './hotkeys.ts';
import { createIpcHandlers } from './ipc-handlers.ts';
import { SessionLogService } from './session-log-service.ts';
import { ScheduledExports } from './scheduled-export.ts';
import { PairingPrompts } from './pairing-prompts.ts';
import { Secrets, type SecretName, type SecretsPort } from './secrets.ts';

export interface DesktopPlatform {
  shortcuts: ShortcutRegistry;
  /** e.g. 'ru-RU' (Electron's app.getLocale()). */
  systemLocale: string;
  /** Global shortcuts may not reach the app on Wayland. */
  wayland: boolean;
  notify(title: string, body: string): void;
  beep(): void;
  openWindow(view: WindowView): void;
  /** Shows a save dialog; resolves with the chosen path (after writing) or null when cancelled. */
  saveFile(suggestedName: string, data: Buffer): Promise<string | null>;
  /** Shows a save dialog and only returns the chosen path (null when cancelled). */
  chooseSavePath(suggestedName: string): Promise<string | null>;
  setStartAtLogin(enabled: boolean): void;
  /** This OS's microphone control (a new port on each call), or null where the platform offers none. May throw. */
  microphone(): MicrophonePort | null;
  /** The system keychain, for the central logins' passwords (never written to settings.json). */
  secrets: SecretsPort;
}

export type IpcHandlers = { [C in IpcChannel]: (...args: IpcArgs<C>) => Promise<IpcResults[C]> };

/** Problems that put the tray into its attention state. */
const ATTENTION: ReadonlySet<Problem['kind']> = new Set(['no_tab', 'pairing_waiting', 'microphone_failed', 'microphone_disagrees', 'central_failed']);

/**
 * A central sync failing this long puts the tray in its attention state. Shorter outages (a database restart, a
 * VPN reconnecting) only show in the status window: the rows wait in SQLite and go once it is back.
 */
export const CENTRAL_ATTENTION_AFTER_MS = 30 * 60_000;

/** How long without any connected tab before it counts as a problem (a reload is not one). */
const NO_TAB_GRACE_MS = 20_000;

/** The longest a settings window may hold the hotkeys off while recording one. */
const RECORDING_LIMIT_MS = 60_000;

const HOTKEY_TO_ACTION: Record<Exclude<HotkeyAction, 'hold'>, CardAction> = { toggleMute: 'toggle', mute: 'mute', unmute: 'unmute' };

export class DesktopController {
  readonly dataDir: string;
  private readonly platform: DesktopPlatform;
  private readonly now: () => number;
  private settings!: Settings;
  private settingsProblems: string[] = [];
  private instance!: Instance;
  readonly prompts: PairingPrompts;
  private readonly hotkeys: HotkeyManager;
  private readonly listeners = new Set<(status: StatusView) => void>();
  readonly sessionLog: SessionLogService;
  private readonly startedAt: number;
  private ticker: NodeJS.Timeout | undefined;
  private scheduler: ScheduledExports | null = null;
  private schedulerTimer: NodeJS.Timeout | undefined;
  private remindedForMuteAt: number | null = null;
  private lastMuted: boolean | null = null;
  /** Why the microphone could not be opened at start (the app then mirrors the card only). */
  private microphoneStartError: string | null = null;
  /** DATA_DIR/logs/companion.log, rotated; the core's events and this controller's own. */
  private logging: Logging | null = null;
  private log!: Logger;
  /** Gives the hotkeys back if a settings window stops recording without saying so (closed mid-way). */
  private recordingTimer: NodeJS.Timeout | undefined;
  readonly handlers: IpcHandlers;
  readonly secrets: Secrets;
  /** Why the central sync could not start with the current settings (bad URL, no keychain), and since when. */
  private centralStartError: { message: string; target: string; since: number } | null = null;
  /** Restarts of the sync, one after another (each reads the settings and the keychain when its turn comes). */
  private centralChange: Promise<void> = Promise.resolve();

  constructor(dataDir: string, platform: DesktopPlatform, now: () => number = Date.now) {
    this.dataDir = dataDir;
    this.platform = platform;
    this.now = now;
    this.startedAt = now();
    this.prompts = new PairingPrompts(now);
    this.secrets = new Secrets(dataDir, platform.secrets);
    this.hotkeys = new HotkeyManager(platform.shortcuts, (action) => void this.hotkey(action));
    this.sessionLog = new SessionLogService({
      dataDir,
      chooseSavePath: (name) => platform.chooseSavePath(name),
      log: () => this.log,
      teamConfig: async () => (this.settings.central.readUrl === '' ? null : this.centralConfig(this.settings.central.readUrl, 'centralRead')),
    });
    this.handlers = createIpcHandlers(this);
  }

  async start(): Promise<void> {
    this.logging = fileLogging(this.dataDir);
    this.log = this.logging.logger('Desktop');
    const loaded = loadSettings(this.dataDir);
    this.settings = loaded.settings;
    this.settingsProblems = loaded.problems;
    if (loaded.problems.length > 0) this.log.warn('settingsInvalid', { problems: loaded.problems });
    const microphone = this.openMicrophone();
    if (this.microphoneStartError) this.log.error('microphoneUnavailable', { message: this.microphoneStartError });
    const central = await this.syncConfig();
    try {
      this.instance = await startInstance({
        ...(microphone ? { microphone } : {}),
        ...(central ? { central } : {}),
        dataDir: this.dataDir,
        log: this.logging.core,
        port: this.settings.port,
        allowedOrigins: this.settings.allowedOrigins,
        approvePairing: (request) => {
          this.platform.notify('Operator Companion', this.t('notify.pairing', { domain: request.domain, user: request.userName ?? request.userId }));
          this.platform.openWindow('pairing');
          return this.prompts.ask(request);
        },
      });
    } catch (error) {
      this.log.error('startFailed', { message: error instanceof Error ? error.message : String(error) });
      this.logging.close();
      throw error;
    }
    this.logHotkeys(this.hotkeys.apply(this.settings.hotkeys, this.settings.hotkeysPaused));
    this.log.info('started', { version: APP_VERSION, port: this.instance.companion.port });
    this.instance.companion.state.onChange(() => this.publishStatus());
    this.instance.companion.microphone?.onChange(() => this.publishStatus());
    this.prompts.onChange(() => this.publishStatus());
    // Durations in the tooltip and the status window, the reminder, and the "no tab" problem need a clock.
    this.ticker = setInterval(() => this.publishStatus(), 1_000);
    this.ticker.unref();
    this.scheduler = new ScheduledExports({
      dataDir: this.dataDir,
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      now: this.now,
      run: (file, options) => (this.settings.scheduledExport.source === 'central' ? this.exportFromCentral(file, options) : exportToFile(this.sessionLog.reader(), options, file)),
    });
    const tick = (): void => void this.scheduler?.tick(this.settings.scheduledExport).then((run) => run && this.publishStatus());
    this.schedulerTimer = setInterval(tick, 30_000);
    this.schedulerTimer.unref();
    tick();
    this.publishStatus();
  }

  private openMicrophone(): { port: MicrophonePort; choice: NonNullable<ReturnType<typeof deviceChoice>>; endOfCall: Settings['microphone']['endOfCall'] } | null {
    const choice = deviceChoice(this.settings.microphone.device);
    if (!choice) return null;
    try {
      const port = this.platform.microphone();
      return port ? { port, choice, endOfCall: this.settings.microphone.endOfCall } : null;
    } catch (error) {
      this.microphoneStartError = error instanceof Error ? error.message : String(error);
      return null;
    }
  }

  /** The screen locked or the computer is going to sleep: nobody is at the microphone. Unlock unmutes nothing. */
  async screenLockedOrSleeping(): Promise<void> {
    if (!this.settings.microphone.muteOnLock) return;
    const status = this.status();
    if (status.call && status.state !== 'muted') await this.command('mute', 'system');
  }

  get language(): Language {
    return resolveLanguage(this.settings?.language ?? 'system', this.platform.systemLocale);
  }

  get currentSettings(): Settings {
    return this.settings;
  }

  onStatus(listener: (status: StatusView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onExportProgress(listener: (progress: ExportProgress) => void): () => void {
    return this.sessionLog.onProgress(listener);
  }

  status(): StatusView {
    const companion = this.instance.companion.status();
    const view = companion.view;
    const call = view.call;
    const microphone = companion.microphone;
    const problems = this.problems(view.connectedFrames, microphone);
    return {
      state: view.state,
      problem: problems.some((p) => ATTENTION.has(p.kind)),
      call: call && {
        callId: call.callId,
        phoneNumber: call.phoneNumber,
        direction: call.direction,
        startedAt: call.startedAt,
        // What the customer hears: the microphone where the app controls one.
        muted: view.state === 'muted' || (view.state !== 'live' && call.muted),
        held: call.held,
        mutedSince: call.mutedSince,
        heldSince: call.heldSince,
        pending: call.requested.muted !== undefined || call.requested.held !== undefined,
      },
      connectedTabs: view.connectedFrames,
      asleepTabs: view.asleepFrames,
      lastEventAt: companion.lastEventAt,
      port: companion.port,
      hotkeys: this.hotkeys.status,
      hotkeysPaused: this.settings.hotkeysPaused,
      pendingPairings: this.prompts.list().length,
      problems,
      microphone: microphone && {
        device: microphone.device,
        muted: microphone.muted,
        controlledByApp: microphone.controlledByApp,
        error: microphone.error,
        disagreesWithCard: microphone.disagreesWithCard,
      },
      central: this.centralStatus(),
      now: this.now(),
    };
  }

  /** The sync's own status, or why it could not start; null when no central URL is set. */
  private centralStatus(): StatusView['central'] {
    if (this.settings.central.url === '') return null;
    const sync = this.instance.central;
    if (sync) return sync.status();
    const error = this.centralStartError;
    if (!error) return null;
    return { target: error.target, lastSyncAt: null, rowsWaiting: 0, lastError: error.message, failingSince: error.since, running: false };
  }

  /**
   * A central login's settings made into a connection: the URL (libpq's variables fill what it leaves out), the
   * TLS mode and CA file from the settings, the password from the keychain when one is stored there. Throws with
   * the reason when it cannot be used (a bad URL, no keychain).
   */
  async centralConfig(url: string, password: SecretName): Promise<CentralConfig> {
    const { tls, caFile } = this.settings.central;
    const config = resolveCentralUrl(url);
    const stored = await this.secrets.load(password);
    return { ...config, sslMode: tls, sslRootCert: caFile.trim() === '' ? null : caFile.trim(), ...(stored === null ? {} : { password: stored }) };
  }

  /** The sync's connection from the settings; null when none is set or it cannot be built (the reason is kept). */
  private async syncConfig(): Promise<CentralConfig | null> {
    this.centralStartError = null;
    const url = this.settings.central.url;
    if (url === '') return null;
    try {
      return await this.centralConfig(url, 'centralSync');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // The URL holds no password (the settings refuse one).
      this.centralStartError = { message, target: url, since: this.now() };
      this.log.error('centralNotStarted', { message });
      return null;
    }
  }

  /** Applies the current central settings and password to the running sync: stops it and starts the new one. */
  restartCentral(): Promise<void> {
    this.centralChange = this.centralChange.then(async () => {
      if (!this.instance) return;
      const config = await this.syncConfig();
      await this.instance.setCentral(config);
      this.log.info('centralApplied', { syncing: config !== null });
      this.publishStatus();
    });
    return this.centralChange;
  }

  /** The whole team's log, from the central database with the read-only login, into `file` (one file for the team). */
  private async exportFromCentral(file: string, options: ExportOptions): Promise<number> {
    const url = this.settings.central.readUrl;
    if (url === '') throw new Error('the whole team\'s export needs the read-only URL of the team log (settings)');
    const config = await this.centralConfig(url, 'centralRead');
    const sql = connectCentral(config);
    try {
      await checkCentralSchema(sql);
      return await exportToFile(centralSource(sql, options), options, file);
    } catch (error) {
      // The server's and the network's errors (they carry a code) in one line; the export's own as they are.
      if (typeof (error as { code?: unknown }).code !== 'string') throw error;
      throw new Error(await describeCentralError(error, config));
    } finally {
      await sql.end();
    }
  }

  /** Keeps a central login's password in the keychain ('' forgets it) and applies it; throws with the reason. */
  async setCentralPassword(name: SecretName, password: string): Promise<IpcResults['setCentralPassword']> {
    await this.secrets.save(name, password);
    this.log.info('centralPasswordSaved', { login: name, stored: password !== '' });
    if (name === 'centralSync') void this.restartCentral();
    return { stored: password !== '' };
  }

  /** A command from the tray or a hotkey; failures are told briefly instead of passing silently. */
  async command(action: CardAction, source: 'tray' | 'hotkey' | 'window' | 'system' | 'cli'): Promise<CommandResponse> {
    const response = await this.instance.companion.command(action, source);
    if (!response.ok && source !== 'window') {
      const key: MessageKey = response.outcome === 'no_call' ? 'notify.noCall' : response.outcome === 'not_connected' ? 'notify.notConnected' : 'notify.failed';
      this.platform.notify('Operator Companion', this.t(key, { message: response.message }));
    }
    return response;
  }

  async setHotkeysPaused(paused: boolean): Promise<void> {
    this.applySettings({ hotkeysPaused: paused });
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    clearInterval(this.schedulerTimer);
    clearTimeout(this.recordingTimer);
    await this.centralChange;
    this.sessionLog.close();
    this.hotkeys.clear();
    this.prompts.dispose();
    await this.instance?.stop();
    this.listeners.clear();
    this.log?.info('stopped');
    this.logging?.close();
  }

  /**
   * Tray → "Save diagnostics…": the operator picks where, the archive is written there (diagnostics.ts), and a
   * notification says where it went or why it failed.
   */
  async saveDiagnostics(): Promise<{ saved: false } | { saved: true; path: string }> {
    const file = await this.platform.chooseSavePath(diagnosticsFileName(this.now()));
    if (file === null) return { saved: false };
    let counts: Parameters<typeof writeDiagnostics>[1]['counts'];
    try {
      counts = storeCounts(this.sessionLog.reader());
    } catch (error) {
      counts = { error: error instanceof Error ? error.message : String(error) };
    }
    const diagnostics = this.logging?.logger('Diagnostics');
    try {
      const entries = await writeDiagnostics(file, {
        dataDir: this.dataDir,
        status: this.status(),
        settings: this.settings,
        counts,
        versions: runtimeVersions(this.platform.systemLocale),
        createdAt: this.now(),
      });
      diagnostics?.info('saved', { entries: entries.length });
      this.platform.notify('Operator Companion', this.t('notify.diagnosticsSaved', { path: file }));
      return { saved: true, path: file };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      diagnostics?.error('saveFailed', { message });
      this.platform.notify('Operator Companion', this.t('notify.diagnosticsFailed', { message }));
      throw error;
    }
  }

  /** What the settings window shows: the settings, what was wrong with the file, the last daily exports. */
  settingsView(): IpcResults['getSettings'] {
    return {
      settings: this.settings,
      problems: this.settingsProblems,
      scheduledRuns: this.scheduler?.history().slice(-5) ?? [],
      centralPasswords: { centralSync: this.secrets.has('centralSync'), centralRead: this.secrets.has('centralRead') },
    };
  }

  /** Validates, saves and applies a change of settings; throws with what is wrong. */
  applySettings(change: Record<string, unknown>): IpcResults['updateSettings'] {
    const result = updateSettings(this.settings, change);
    if (!result.ok) throw new Error(result.error);
    const previous = this.settings;
    saveSettings(this.dataDir, result.settings);
    this.settings = result.settings;
    this.settingsProblems = [];
    if (previous.startAtLogin !== this.settings.startAtLogin) this.platform.setStartAtLogin(this.settings.startAtLogin);
    this.instance.companion.setAllowedOrigins(this.settings.allowedOrigins);
    const { url, tls, caFile } = this.settings.central;
    if (url !== previous.central.url || tls !== previous.central.tls || caFile !== previous.central.caFile) void this.restartCentral();
    const hotkeys = this.hotkeys.apply(this.settings.hotkeys, this.settings.hotkeysPaused);
    this.logHotkeys(hotkeys);
    this.publishStatus();
    return { settings: this.settings, hotkeys };
  }

  /** While a settings field records a hotkey the global ones are let go: the OS would hand the keys to them. */
  recordHotkeys(recording: boolean): boolean {
    clearTimeout(this.recordingTimer);
    this.hotkeys.apply(this.settings.hotkeys, recording || this.settings.hotkeysPaused);
    if (recording) {
      this.recordingTimer = setTimeout(() => this.hotkeys.apply(this.settings.hotkeys, this.settings.hotkeysPaused), RECORDING_LIMIT_MS);
      this.recordingTimer.unref();
    }
    this.publishStatus();
    return recording;
  }

  platformSaveFile(suggestedName: string, data: Buffer): Promise<string | null> {
    return this.platform.saveFile(suggestedName, data);
  }

  openWindow(view: WindowView): void {
    this.platform.openWindow(view);
  }

  get companion(): Companion {
    return this.instance.companion;
  }

  /** The microphones a settings window can offer; `error` says why there are none. */
  async microphones(): Promise<IpcResults['listMicrophones']> {
    let port: MicrophonePort | null = null;
    try {
      port = this.platform.microphone();
      if (!port) return { devices: [], error: this.t('mic.notSupported') };
      return { devices: await port.list(), error: null };
    } catch (error) {
      return { devices: [], error: error instanceof Error ? error.message : String(error) };
    } finally {
      await port?.close();
    }
  }

  private logHotkeys(statuses: ReturnType<HotkeyManager['apply']>): void {
    for (const hotkey of statuses) {
      if (!hotkey.registered && hotkey.error !== 'paused') this.log.warn('hotkeyFailed', { action: hotkey.action, accelerator: hotkey.accelerator, error: hotkey.error });
    }
  }

  private t(key: MessageKey, params?: Record<string, string | number>): string {
    return translate(this.language, key, params);
  }

  private async hotkey(action: HotkeyAction): Promise<void> {
    if (action === 'hold') {
      const held = this.instance.companion.state.view().call?.held ?? false;
      await this.command(held ? 'unhold' : 'hold', 'hotkey');
      return;
    }
    await this.command(HOTKEY_TO_ACTION[action], 'hotkey');
  }

  private problems(connectedTabs: number, microphone: CompanionStatus['microphone']): Problem[] {
    const problems: Problem[] = [];
    const micError = microphone?.error ?? this.microphoneStartError;
    if (micError) problems.push({ kind: 'microphone_failed', detail: this.t('problem.microphone_failed', { detail: micError }) });
    if (microphone?.disagreesWithCard) problems.push({ kind: 'microphone_disagrees', detail: this.t('problem.microphone_disagrees', { mic: this.t(microphone.muted ? 'mic.muted' : 'mic.live') }) });
    if (connectedTabs === 0 && this.now() - this.startedAt > NO_TAB_GRACE_MS) problems.push({ kind: 'no_tab', detail: this.t('problem.no_tab') });
    if (this.prompts.list().length > 0) problems.push({ kind: 'pairing_waiting', detail: this.t('problem.pairing_waiting') });
    for (const hotkey of this.hotkeys.status) {
      if (!hotkey.registered && hotkey.error !== 'paused') {
        problems.push({ kind: 'hotkey_failed', detail: this.t('problem.hotkey_failed', { detail: `${displayAccelerator(hotkey.accelerator, acceleratorPlatform(process.platform))} (${hotkey.error ?? ''})` }) });
      }
    }
    if (this.platform.wayland) problems.push({ kind: 'wayland', detail: this.t('problem.wayland') });
    const failedExport = this.scheduler?.lastFailure();
    if (failedExport) problems.push({ kind: 'export_failed', detail: this.t('problem.export_failed', { day: failedExport.day, error: failedExport.error ?? '' }) });
    const recovered = this.instance.companion.storeRecovered;
    if (recovered) problems.push({ kind: 'store_recovered', detail: this.t('problem.store_recovered', { path: recovered.to }) });
    const central = this.centralStatus();
    if (central?.lastError && (!central.running || (central.failingSince !== null && this.now() - central.failingSince >= CENTRAL_ATTENTION_AFTER_MS))) {
      problems.push({
        kind: 'central_failed',
        detail: central.running
          ? this.t('problem.central_failed', { duration: formatDuration(this.now() - (central.failingSince ?? this.now())), error: central.lastError })
          : this.t('problem.central_stopped', { error: central.lastError }),
      });
    }
    if (this.settingsProblems.length > 0) problems.push({ kind: 'settings_invalid', detail: this.t('problem.settings_invalid', { detail: this.settingsProblems.join('; ') }) });
    return problems;
  }

  /** Builds the status once and pushes it to the tray, the windows and the cues. */
  publishStatus(): void {
    if (!this.instance) return;
    const status = this.status();
    this.cues(status);
    for (const listener of this.listeners) listener(status);
  }

  /** The optional sound on a mute change, and the reminder when muted too long on a call. */
  private cues(status: StatusView): void {
    const muted = status.call?.muted ?? false;
    if (this.settings.soundCues && this.lastMuted !== null && muted !== this.lastMuted) this.platform.beep();
    this.lastMuted = muted;
    const limit = this.settings.muteReminderSeconds * 1000;
    const since = status.call?.mutedSince ?? null;
    if (limit > 0 && muted && since !== null && status.now - since >= limit && this.remindedForMuteAt !== since) {
      this.remindedForMuteAt = since;
      this.platform.notify('Operator Companion', this.t('notify.reminder', { duration: formatDuration(status.now - since) }));
    }
  }
}
