// The app windows: status, pairing approval, settings and the browser setup assistant, chosen by `?view=`.
// Plain DOM, no framework; everything goes through `window.companion` (the preload bridge). State changes are
// announced to screen readers; every control is a real button, input or select, so the keyboard works.
import { POLICY_PLATFORMS, portalOriginOf, type PolicyPlatform } from '../common/browser-policy.ts';
import { formatDuration, resolveLanguage, translate, type Language, type MessageKey } from '../common/i18n.ts';
import type { CompanionBridge, IpcResult, StatusView } from '../common/ipc.ts';
import { INDICATOR_VIEW, WINDOW_VIEWS, type WindowView } from '../common/ipc-channels.ts';
import { CENTRAL_TLS_MODES } from '../common/central-tls.ts';
import type { Settings } from '../common/settings.ts';
import { hotkeyField, showAccelerator } from './hotkey-field.ts';
import { logView } from './log-view.ts';

declare global {
  interface Window {
    companion: CompanionBridge;
  }
}

const api = window.companion;
let language: Language = 'en';
const t = (key: MessageKey, params?: Record<string, string | number>): string => translate(language, key, params);

type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (typeof value === 'boolean') {
      if (value) element.setAttribute(name, '');
    } else element.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

function unwrap<T>(result: IpcResult<T>): T {
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

/**
 * Replaces a view's content without losing the keyboard focus: the element that had it is found again in the
 * new content by its `data-key` (views re-render every second for the durations).
 */
function render(root: HTMLElement, ...children: Child[]): void {
  const focusedKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
  root.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  if (focusedKey) root.querySelector<HTMLElement>(`[data-key="${focusedKey}"]`)?.focus();
}

function announce(text: string): void {
  const announcer = document.getElementById('announcer') as HTMLElement;
  announcer.textContent = text;
}

function showError(container: HTMLElement, error: unknown): void {
  container.textContent = t('common.error', { message: error instanceof Error ? error.message : String(error) });
  container.hidden = false;
}

// ------------------------------------------------------------------ icons (inline SVG, same shapes as the tray)

const ICON_PATHS: Record<string, string> = {
  not_connected: '<circle cx="12" cy="12" r="8.5" fill="none" stroke="currentColor" stroke-width="2.2"/><path d="M6 18 18 6" stroke="currentColor" stroke-width="2.2"/>',
  waiting: '<circle cx="12" cy="12" r="8.5" fill="none" stroke="currentColor" stroke-width="2.2"/><circle cx="12" cy="12" r="2.6" fill="currentColor"/>',
  live: '<rect x="9" y="3" width="6" height="11" rx="3" fill="currentColor"/><path d="M6.5 11a5.5 5.5 0 0 0 11 0M12 16.5V20M8.5 20h7" fill="none" stroke="currentColor" stroke-width="2"/>',
  muted: '<rect x="9" y="3" width="6" height="11" rx="3" fill="currentColor"/><path d="M6.5 11a5.5 5.5 0 0 0 11 0M12 16.5V20M8.5 20h7" fill="none" stroke="currentColor" stroke-width="2"/><path d="M4 3.5 20 20.5" stroke="var(--bg)" stroke-width="4.5"/><path d="M4 3.5 20 20.5" stroke="currentColor" stroke-width="2.2"/>',
  on_hold: '<rect x="6.5" y="5" width="4" height="14" rx="2" fill="currentColor"/><rect x="13.5" y="5" width="4" height="14" rx="2" fill="currentColor"/>',
  pending: '<circle cx="5" cy="12" r="2.4" fill="currentColor"/><circle cx="12" cy="12" r="2.4" fill="currentColor"/><circle cx="19" cy="12" r="2.4" fill="currentColor"/>',
  problem: '<path d="M12 2.5 22.5 21h-21z" fill="currentColor"/><path d="M12 9v6" stroke="var(--bg)" stroke-width="2.2"/><circle cx="12" cy="18" r="1.3" fill="var(--bg)"/>',
};

function icon(state: string): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('icon', `state-${state}`);
  svg.innerHTML = ICON_PATHS[state] ?? '';
  return svg;
}

// ------------------------------------------------------------------ status

function statusView(root: HTMLElement): (status: StatusView) => void {
  let lastState = '';
  return (status) => {
    const shown = status.problem && (status.state === 'not_connected' || status.state === 'waiting') ? 'problem' : status.state;
    const headline = t(shown === 'problem' ? 'state.problem' : `state.${status.state}`);
    if (shown !== lastState) {
      announce(headline);
      lastState = shown;
    }
    const call = status.call;
    const facts: Array<[string, string]> = [];
    if (call) {
      facts.push([t('status.phone'), call.phoneNumber ?? t('status.hidden')]);
      if (call.direction) facts.push([t('status.call'), t(`status.direction.${call.direction}` as MessageKey)]);
      facts.push([t('status.duration'), formatDuration(status.now - call.startedAt)]);
      if (call.muted && call.mutedSince !== null) facts.push([t('status.mutedFor'), formatDuration(status.now - call.mutedSince)]);
    }
    const mic = status.microphone;
    facts.push([t('status.microphone'), !mic
      ? t('status.micNone')
      : mic.error
        ? mic.error
        : `${mic.device ?? '—'}: ${t(mic.muted ? 'mic.muted' : 'mic.live')}${mic.controlledByApp ? ` (${t('status.micMutedByApp')})` : ''}`]);
    facts.push([t('status.tabs'), status.asleepTabs > 0 ? `${status.connectedTabs} (${t('status.asleep', { count: status.asleepTabs })})` : String(status.connectedTabs)]);
    facts.push([t('status.lastEvent'), status.lastEventAt === null ? t('status.never') : t('status.ago', { duration: formatDuration(status.now - status.lastEventAt) })]);
    const hotkeys = status.hotkeysPaused
      ? t('status.hotkeysPaused')
      : status.hotkeys.map((k) => (k.registered ? showAccelerator(k.accelerator) : `${showAccelerator(k.accelerator)} — ${t('status.hotkeyFailed', { error: k.error ?? '' })}`)).join(', ') || '—';
    facts.push([t('status.hotkeys'), hotkeys]);
    const central = status.central;
    if (central) {
      const when = central.lastSyncAt === null ? t('status.never') : t('status.ago', { duration: formatDuration(Math.max(0, status.now - central.lastSyncAt)) });
      const state = central.running ? t('status.centralState', { target: central.target, when, rows: central.rowsWaiting }) : `${central.target}: ${t('status.centralStopped')}`;
      // The error names the server too (it is written for the log and the command line); here the line starts with it.
      const error = central.lastError?.replace(` at ${central.target}`, '');
      facts.push([t('status.central'), error ? `${state}. ${t('status.centralError', { error })}` : state]);
    }

    const act = (action: 'toggle' | 'hold' | 'unhold') => async (): Promise<void> => {
      const result = await api.command(action);
      if (result.ok && !result.value.ok) announce(result.value.message);
    };
    const problemActions: Partial<Record<string, HTMLButtonElement>> = {
      no_tab: h('button', { type: 'button', 'data-key': 'fix-no_tab', onclick: () => void api.openWindow('assistant') }, t('button.assistant')),
      pairing_waiting: h('button', { type: 'button', 'data-key': 'fix-pairing', onclick: () => void api.openWindow('pairing') }, t('button.pairing')),
      hotkey_failed: h('button', { type: 'button', 'data-key': 'fix-hotkey', onclick: () => void api.openWindow('settings') }, t('button.settings')),
      microphone_failed: h('button', { type: 'button', 'data-key': 'fix-microphone', onclick: () => void api.openWindow('settings') }, t('button.settings')),
      central_failed: h('button', { type: 'button', 'data-key': 'fix-central', onclick: () => void api.openWindow('settings') }, t('button.settings')),
    };
    render(root,
      h('header', { class: `headline state-${shown}` }, icon(shown), h('h1', {}, headline)),
      h('section', { 'aria-label': t('status.call') },
        call ? null : h('p', { class: 'muted' }, t('status.noCall')),
        h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        h('div', { class: 'actions' },
          h('button', { type: 'button', 'data-key': 'mute', class: call?.muted ? 'primary danger' : 'primary', disabled: !call, onclick: act('toggle') }, t(call?.muted ? 'button.unmute' : 'button.mute')),
          h('button', { type: 'button', 'data-key': 'hold', disabled: !call, onclick: act(call?.held ? 'unhold' : 'hold') }, t(call?.held ? 'button.resume' : 'button.hold')),
        ),
      ),
      h('section', { class: 'problems', 'aria-label': t('status.problems') },
        h('h2', {}, t('status.problems')),
        status.problems.length === 0
          ? h('p', { class: 'ok' }, t('status.allGood'))
          : h('ul', {}, ...status.problems.map((p) => h('li', { class: `problem problem-${p.kind}` }, h('span', {}, p.detail), problemActions[p.kind] ?? null))),
      ),
      h('footer', {}, h('button', { type: 'button', class: 'link', 'data-key': 'footer-settings', onclick: () => void api.openWindow('settings') }, t('button.settings')), ' · ',
        h('button', { type: 'button', class: 'link', 'data-key': 'footer-assistant', onclick: () => void api.openWindow('assistant') }, t('button.assistant'))),
    );
  };
}

// ------------------------------------------------------------------ pairing

async function pairingView(root: HTMLElement): Promise<() => Promise<void>> {
  const refresh = async (): Promise<void> => {
    const requests = unwrap(await api.pendingPairings());
    root.replaceChildren(
      h('h1', {}, t('pairing.title')),
      h('p', { class: 'muted' }, t('pairing.explain')),
      requests.length === 0
        ? h('p', {}, t('pairing.none'))
        : h('ul', { class: 'cards' }, ...requests.map((r) =>
            h('li', { class: 'card' },
              h('dl', { class: 'facts' },
                h('dt', {}, t('pairing.portal')), h('dd', {}, r.domain),
                h('dt', {}, t('pairing.user')), h('dd', {}, r.userName ? `${r.userName} (${r.userId})` : r.userId),
                h('dt', {}, t('pairing.origin')), h('dd', {}, r.origin)),
              h('div', { class: 'actions' },
                h('button', { type: 'button', class: 'primary', onclick: async () => { unwrap(await api.decidePairing(r.id, true)); await refresh(); } }, t('pairing.allow')),
                h('button', { type: 'button', class: 'danger', onclick: async () => { unwrap(await api.decidePairing(r.id, false)); await refresh(); } }, t('pairing.block')))))),
    );
  };
  await refresh();
  return refresh;
}

// ------------------------------------------------------------------ settings

async function settingsView(root: HTMLElement): Promise<void> {
  const { settings, scheduledRuns, centralPasswords } = unwrap(await api.getSettings());
  const { paired, blocked } = unwrap(await api.listPairings());
  const microphones = unwrap(await api.listMicrophones());
  const message = h('p', { class: 'message', role: 'alert', hidden: true });
  const field = (id: string, label: string, input: HTMLElement, hint?: string): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { id: `${id}-hint` }, hint) : null);
  // Recorded from the keys pressed (hotkey-field.ts), never typed in Electron's syntax.
  const hotkeyInputs = (['toggleMute', 'mute', 'unmute', 'hold'] as const).map((action) => {
    const field = hotkeyField(`hotkey-${action}`, settings.hotkeys[action], { none: t('settings.hotkeyNone'), recording: t('settings.hotkeyRecording') }, 'hotkey-hint',
      (recording) => void api.recordHotkeys(recording));
    return { action, ...field };
  });
  const paused = h('input', { type: 'checkbox', id: 'hotkeys-paused', checked: settings.hotkeysPaused });
  const port = h('input', { id: 'port', type: 'number', min: '1024', max: '65535', value: String(settings.port), 'aria-describedby': 'port-hint' });
  const origins = h('textarea', { id: 'origins', rows: '3', spellcheck: 'false' }, settings.allowedOrigins.join('\n'));
  const startAtLogin = h('input', { type: 'checkbox', id: 'start-at-login', checked: settings.startAtLogin });
  const languageSelect = h('select', { id: 'language' },
    h('option', { value: 'system', selected: settings.language === 'system' }, t('settings.language.system')),
    h('option', { value: 'en', selected: settings.language === 'en' }, 'English'),
    h('option', { value: 'ru', selected: settings.language === 'ru' }, 'Русский'));
  const reminder = h('input', { id: 'reminder', type: 'number', min: '0', max: '3600', value: String(settings.muteReminderSeconds) });
  const sound = h('input', { type: 'checkbox', id: 'sound', checked: settings.soundCues });
  const mic = settings.microphone;
  const known = microphones.devices.some((d) => d.name === mic.device || d.id === mic.device);
  const micDevice = h('select', { id: 'mic-device', 'aria-describedby': 'mic-device-hint' },
    h('option', { value: 'default', selected: mic.device === 'default' }, t('settings.micDefault')),
    ...microphones.devices.map((d) => h('option', { value: d.name, selected: mic.device === d.name || mic.device === d.id }, d.name)),
    // A device chosen earlier and not plugged in now stays chosen.
    mic.device === 'default' || mic.device === 'off' || known ? null : h('option', { value: mic.device, selected: true }, mic.device),
    h('option', { value: 'off', selected: mic.device === 'off' }, t('settings.micOff')));
  const micEndOfCall = h('select', { id: 'mic-end-of-call' },
    ...(['app', 'always', 'never'] as const).map((rule) => h('option', { value: rule, selected: mic.endOfCall === rule }, t(`settings.micEndOfCall.${rule}`))));
  const micIndicator = h('input', { type: 'checkbox', id: 'mic-indicator', checked: mic.indicator });
  const micMuteOnLock = h('input', { type: 'checkbox', id: 'mic-mute-on-lock', checked: mic.muteOnLock });
  const daily = settings.scheduledExport;
  const dailyEnabled = h('input', { type: 'checkbox', id: 'daily-enabled', checked: daily.enabled });
  const dailyTime = h('input', { id: 'daily-time', type: 'time', value: daily.time });
  const dailyFolder = h('input', { id: 'daily-folder', value: daily.folder, spellcheck: 'false' });
  const dailyFormat = h('select', { id: 'daily-format' },
    ...([['xlsx', 'XLSX'], ['csv-semicolon', 'CSV (;) — Excel'], ['csv', 'CSV (,)'], ['jsonl', 'JSON Lines']] as const).map(([value, label]) => h('option', { value, selected: daily.format === value }, label)));
  const central = settings.central;
  const centralUrl = h('input', { id: 'central-url', value: central.url, spellcheck: 'false', autocomplete: 'off', placeholder: 'postgres://pc_olga@db.example.com:5432/companion', 'aria-describedby': 'central-url-hint' });
  // Password fields start empty: the saved password never comes back to a window; typing replaces it.
  const passwordInput = (id: string, saved: boolean): HTMLInputElement =>
    h('input', { id, type: 'password', autocomplete: 'new-password', placeholder: saved ? t('settings.centralPasswordSaved') : '', 'aria-describedby': 'central-password-hint' });
  const forgetBox = (id: string, saved: boolean): HTMLElement | null =>
    saved ? h('div', { class: 'check' }, h('input', { type: 'checkbox', id }), h('label', { for: id }, t('settings.centralForget'))) : null;
  const centralPassword = passwordInput('central-password', centralPasswords.centralSync);
  const centralForget = forgetBox('central-forget', centralPasswords.centralSync);
  const centralTls = h('select', { id: 'central-tls' },
    ...CENTRAL_TLS_MODES.map((mode) => h('option', { value: mode, selected: central.tls === mode }, t(`settings.centralTls.${mode}`))));
  const centralCa = h('input', { id: 'central-ca', value: central.caFile, spellcheck: 'false', placeholder: '/etc/ssl/certs/companion-ca.pem' });
  const centralReadUrl = h('input', { id: 'central-read-url', value: central.readUrl, spellcheck: 'false', autocomplete: 'off', placeholder: 'postgres://supervisor@db.example.com:5432/companion' });
  const centralReadPassword = passwordInput('central-read-password', centralPasswords.centralRead);
  const centralReadForget = forgetBox('central-read-forget', centralPasswords.centralRead);
  const dailySource = h('select', { id: 'daily-source', 'aria-describedby': 'daily-source-hint' },
    ...(['local', 'central'] as const).map((source) => h('option', { value: source, selected: daily.source === source }, t(`settings.dailySource.${source}`))));
  const lastRun = scheduledRuns.at(-1);
  const dailyLast = h('p', { class: lastRun && !lastRun.ok ? 'message error' : 'muted' },
    lastRun ? t('settings.dailyLast', { day: lastRun.day, result: lastRun.ok ? `${lastRun.rows ?? 0} → ${lastRun.path ?? ''}` : lastRun.error ?? '' }) : t('settings.dailyNone'));

  const clientList = (): HTMLElement =>
    h('div', {},
      h('h3', {}, t('settings.paired')),
      paired.length === 0 ? h('p', { class: 'muted' }, t('settings.noneYet')) : h('ul', { class: 'clients' }, ...paired.map((p) =>
        h('li', {}, h('span', {}, `${p.domain} · ${p.userName ?? p.userId} · ${p.origin}`),
          p.revokedAt !== null ? h('em', {}, t('settings.revoked')) : h('button', { type: 'button', class: 'danger', onclick: async () => { unwrap(await api.revokePairing(p.id)); await settingsView(root); } }, t('settings.revoke'))))),
      h('h3', {}, t('settings.blocked')),
      blocked.length === 0 ? h('p', { class: 'muted' }, t('settings.noneYet')) : h('ul', { class: 'clients' }, ...blocked.map((b) =>
        h('li', {}, h('span', {}, `${b.domain} · ${b.userName ?? b.userId} · ${b.origin}`),
          h('button', { type: 'button', onclick: async () => { unwrap(await api.unblockClient(b.id)); await settingsView(root); } }, t('settings.unblock'))))));

  /** Passwords go to the keychain first, so the sync restarted by the settings already has them. */
  const savePasswords = async (): Promise<IpcResult<unknown>> => {
    const pairs = [
      ['centralSync', centralPassword, centralForget] as const,
      ['centralRead', centralReadPassword, centralReadForget] as const,
    ];
    for (const [name, input, forget] of pairs) {
      const forgetting = forget?.querySelector('input')?.checked ?? false;
      if (input.value === '' && !forgetting) continue;
      const result = await api.setCentralPassword(name, forgetting && input.value === '' ? '' : input.value);
      if (!result.ok) return result;
      input.value = '';
      input.placeholder = result.value.stored ? t('settings.centralPasswordSaved') : '';
    }
    return { ok: true, value: null };
  };

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    const stored = await savePasswords();
    if (!stored.ok) {
      message.hidden = false;
      message.className = 'message error';
      message.textContent = t('common.error', { message: stored.error });
      return;
    }
    const change: Partial<Settings> = {
      hotkeys: Object.fromEntries(hotkeyInputs.map(({ action, value }) => [action, value()])) as Settings['hotkeys'],
      hotkeysPaused: paused.checked,
      port: Number(port.value),
      allowedOrigins: origins.value.split(/\s+/).filter(Boolean),
      startAtLogin: startAtLogin.checked,
      language: languageSelect.value as Settings['language'],
      muteReminderSeconds: Number(reminder.value),
      soundCues: sound.checked,
      microphone: { device: micDevice.value, endOfCall: micEndOfCall.value as Settings['microphone']['endOfCall'], indicator: micIndicator.checked, muteOnLock: micMuteOnLock.checked },
      central: { url: centralUrl.value.trim(), tls: centralTls.value as Settings['central']['tls'], caFile: centralCa.value.trim(), readUrl: centralReadUrl.value.trim() },
      scheduledExport: { enabled: dailyEnabled.checked, time: dailyTime.value, folder: dailyFolder.value.trim(), format: dailyFormat.value as Settings['scheduledExport']['format'], source: dailySource.value as Settings['scheduledExport']['source'] },
    };
    const result = await api.updateSettings(change as Record<string, unknown>);
    message.hidden = false;
    if (!result.ok) {
      message.className = 'message error';
      message.textContent = t('common.error', { message: result.error });
      return;
    }
    const failed = result.value.hotkeys.filter((k) => !k.registered && k.error !== 'paused');
    message.className = failed.length ? 'message error' : 'message ok';
    message.textContent = failed.length ? failed.map((k) => `${showAccelerator(k.accelerator)}: ${t('status.hotkeyFailed', { error: k.error ?? '' })}`).join('; ') : t('settings.saved');
    language = resolveLanguage(result.value.settings.language, navigator.language);
  };

  root.replaceChildren(
    h('h1', {}, t('settings.title')),
    h('form', { onsubmit: (e) => void save(e), novalidate: true },
      h('fieldset', {}, h('legend', {}, t('settings.hotkeys')),
        ...hotkeyInputs.map(({ action, input }) => field(input.id, t(`settings.hotkey.${action}`), input)),
        h('small', { id: 'hotkey-hint' }, t('settings.hotkeyHint', { example: showAccelerator('CommandOrControl+Alt+M') })),
        h('div', { class: 'check' }, paused, h('label', { for: 'hotkeys-paused' }, t('settings.pauseHotkeys')))),
      h('fieldset', {}, h('legend', {}, t('settings.microphone')),
        field('mic-device', t('settings.micDevice'), micDevice, microphones.error ?? t('settings.micRestart')),
        field('mic-end-of-call', t('settings.micEndOfCall'), micEndOfCall),
        h('div', { class: 'check' }, micIndicator, h('label', { for: 'mic-indicator' }, t('settings.micIndicator'))),
        h('div', { class: 'check' }, micMuteOnLock, h('label', { for: 'mic-mute-on-lock' }, t('settings.micMuteOnLock')))),
      h('fieldset', {}, h('legend', {}, t('settings.connection')),
        field('port', t('settings.port'), port, t('settings.portHint')),
        field('origins', t('settings.origins'), origins),
        clientList()),
      h('fieldset', {}, h('legend', {}, t('settings.general')),
        h('div', { class: 'check' }, startAtLogin, h('label', { for: 'start-at-login' }, t('settings.startAtLogin'))),
        field('language', t('settings.language'), languageSelect),
        field('reminder', t('settings.reminder'), reminder),
        h('div', { class: 'check' }, sound, h('label', { for: 'sound' }, t('settings.sound')))),
      h('fieldset', {}, h('legend', {}, t('settings.daily')),
        h('div', { class: 'check' }, dailyEnabled, h('label', { for: 'daily-enabled' }, t('settings.dailyEnabled'))),
        field('daily-time', t('settings.dailyTime'), dailyTime),
        field('daily-folder', t('settings.dailyFolder'), dailyFolder),
        field('daily-format', t('settings.dailyFormat'), dailyFormat),
        field('daily-source', t('settings.dailySource'), dailySource, t('settings.dailySourceHint')),
        dailyLast),
      h('fieldset', {}, h('legend', {}, t('settings.central')),
        field('central-url', t('settings.centralUrl'), centralUrl, t('settings.centralUrlHint')),
        field('central-password', t('settings.centralPassword'), centralPassword, t('settings.centralPasswordHint')),
        centralForget,
        field('central-tls', t('settings.centralTls'), centralTls),
        field('central-ca', t('settings.centralCa'), centralCa, t('settings.centralCaHint')),
        field('central-read-url', t('settings.centralReadUrl'), centralReadUrl),
        field('central-read-password', t('settings.centralReadPassword'), centralReadPassword),
        centralReadForget),
      message,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('settings.save')))),
  );
}

// ------------------------------------------------------------------ browser setup assistant

async function assistantView(root: HTMLElement): Promise<(status: StatusView) => void> {
  const portal = h('input', { id: 'portal', placeholder: 'https://yourcompany.bitrix24.com', autocomplete: 'url', spellcheck: 'false' });
  const platform = h('select', { id: 'platform' }, ...POLICY_PLATFORMS.map((p) => h('option', { value: p, selected: p === guessPlatform() }, { windows: 'Windows (.reg)', macos: 'macOS (.mobileconfig)', linux: 'Linux (JSON)' }[p])));
  const preview = h('pre', { id: 'policy-preview', tabindex: '0', 'aria-label': 'policy' });
  const howTo = h('p', { class: 'muted' });
  const saved = h('p', { class: 'message', role: 'status', hidden: true });
  const connection = h('p', { class: 'connection', role: 'status' });
  const steps = h('ol', {});
  const update = async (): Promise<void> => {
    const origin = portalOriginOf(portal.value.trim() || 'https://yourcompany.bitrix24.com') ?? 'https://yourcompany.bitrix24.com';
    steps.replaceChildren(...(['assistant.step1', 'assistant.step2', 'assistant.step3', 'assistant.step4'] as const).map((key) => h('li', {}, t(key, { portal: origin }))));
    const result = await api.previewPolicy(origin, platform.value as PolicyPlatform);
    if (result.ok) {
      preview.textContent = result.value.content;
      howTo.textContent = result.value.howToApply;
    } else showError(howTo, result.error);
  };
  portal.addEventListener('input', () => void update());
  platform.addEventListener('change', () => void update());
  const save = async (): Promise<void> => {
    const origin = portalOriginOf(portal.value.trim());
    saved.hidden = false;
    if (!origin) {
      saved.className = 'message error';
      saved.textContent = t('common.error', { message: t('assistant.portal') });
      portal.focus();
      return;
    }
    const result = await api.savePolicy(origin, platform.value as PolicyPlatform);
    if (!result.ok) return showError(saved, result.error);
    saved.className = 'message ok';
    saved.textContent = result.value.saved ? t('assistant.savedTo', { path: result.value.path ?? '' }) : '';
  };
  root.replaceChildren(
    h('h1', {}, t('assistant.title')),
    h('p', {}, t('assistant.intro')),
    connection,
    h('div', { class: 'field' }, h('label', { for: 'portal' }, t('assistant.portal')), portal),
    h('h2', {}, t('assistant.operatorSteps')), steps,
    h('h2', {}, t('assistant.itSteps')), h('p', {}, t('assistant.itIntro')),
    h('div', { class: 'field' }, h('label', { for: 'platform' }, t('assistant.platform')), platform),
    preview, howTo,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => void save() }, t('assistant.save'))), saved,
  );
  await update();
  return (status) => {
    connection.textContent = status.connectedTabs > 0 ? t('assistant.connected', { count: status.connectedTabs }) : t('assistant.notConnected');
    connection.className = `connection ${status.connectedTabs > 0 ? 'ok' : 'warn'}`;
  };
}

function guessPlatform(): PolicyPlatform {
  const p = navigator.platform.toLowerCase();
  return p.startsWith('win') ? 'windows' : p.startsWith('mac') ? 'macos' : 'linux';
}

// ------------------------------------------------------------------ on-screen badge

/** The badge shown on top of every window while muted: what is muted, readable at a glance, nothing to click. */
function indicatorView(root: HTMLElement): (status: StatusView) => void {
  return (status) => {
    const device = status.microphone?.muted ? status.microphone.device : null;
    render(root, h('div', { class: 'indicator', role: 'status' }, icon('muted'), h('h1', {}, t('indicator.muted')), device ? h('span', {}, device) : null));
  };
}

// ------------------------------------------------------------------ start

async function start(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  const requested = new URLSearchParams(location.search).get('view');
  const view: WindowView | typeof INDICATOR_VIEW =
    requested === INDICATOR_VIEW ? INDICATOR_VIEW : (WINDOW_VIEWS as readonly string[]).includes(requested ?? '') ? (requested as WindowView) : 'status';
  try {
    const { settings } = unwrap(await api.getSettings());
    language = resolveLanguage(settings.language, navigator.language);
    document.documentElement.lang = language;
    document.body.dataset.view = view;
    let onStatus: (status: StatusView) => void = () => {};
    if (view === 'status') onStatus = statusView(root);
    else if (view === INDICATOR_VIEW) onStatus = indicatorView(root);
    else if (view === 'pairing') {
      const refresh = await pairingView(root);
      let pending = -1;
      onStatus = (status) => {
        if (status.pendingPairings !== pending) void refresh();
        pending = status.pendingPairings;
      };
    } else if (view === 'settings') await settingsView(root);
    else if (view === 'log') await logView(root, api, language, h);
    else onStatus = await assistantView(root);
    onStatus(unwrap(await api.getStatus()));
    api.onStatus(onStatus);
    document.title = `Operator Companion — ${root.querySelector('h1')?.textContent ?? ''}`;
  } catch (error) {
    root.replaceChildren(h('p', { class: 'message error', role: 'alert' }, t('common.error', { message: error instanceof Error ? error.message : String(error) })));
  }
}

void start();
