// The Bitrix24 side of a page, played faithfully for tests, demos and training (shared BITRIX24.md §5.5):
// it iframes the real worker with the portal's `name`, posts the form fields, answers the frame protocol with
// the exact reply shapes, and shows a call card with the real buttons and UI states. `window.emulator` lets a
// test raise cards and fire any event with any payload.
export {};

const UI_STATES = [
  'incoming', 'transferIncoming', 'outgoing', 'connectingIncoming', 'connectingOutgoing', 'connected',
  'transferring', 'transferFailed', 'transferConnected', 'error', 'moneyError', 'redial',
];
const CARD_EVENTS = [
  'initialized', 'addCommentButtonClick', 'muteButtonClick', 'holdButtonClick', 'closeButtonClick', 'transferButtonClick',
  'cancelTransferButtonClick', 'completeTransferButtonClick', 'hangupButtonClick', 'nextButtonClick', 'skipButtonClick',
  'answerButtonClick', 'entityChanged', 'qualityMeterClick', 'dialpadButtonClick', 'makeCallButtonClick', 'notifyAdminButtonClick',
].map((name) => `BackgroundCallCard::${name}`);
const COMMANDS = [
  'CallCardSetMute', 'CallCardSetHold', 'CallCardSetUiState', 'CallCardGetListUiStates', 'CallCardSetCardTitle',
  'CallCardSetStatusText', 'CallCardStartTimer', 'CallCardStopTimer', 'CallCardClose',
];

interface Card {
  callId: string;
  phoneNumber: string | null;
  direction: string;
  uiState: string;
  muted: boolean;
  held: boolean;
  timerRunning: boolean;
  title: string;
  statusText: string;
}

interface LogEntry {
  dir: 'in' | 'out';
  data: unknown;
}

const params = new URLSearchParams(location.search);
const workerUrl = params.get('worker') ?? '';
const workerOrigin = new URL(workerUrl).origin;
const appSid = params.get('sid') ?? `SID${Math.random().toString(36).slice(2, 10)}`;
const mode = params.get('mode') === 'desktop' ? 'desktop' : 'browser';
const userId = params.get('user') ?? '7';
/** `PAGE_BACKGROUND_WORKER` (an invisible frame) or `DEFAULT` (the application's own page, e.g. its install page). */
const placement = params.get('placement') ?? 'PAGE_BACKGROUND_WORKER';
/** A call already going on when the page loads: its card is raised the moment the worker binds `initialized`. */
const cardAtBind = params.get('cardAtBind');
/** Simulates a phone module that registers its events late: binds before then are dropped silently. */
let eventsRegisteredAt = Date.now() + Number(params.get('lateEvents') ?? 0);

const binds = new Map<string, string[]>();
const log: LogEntry[] = [];
let card: Card | null = null;
let frameWindow: Window | null = null;

function post(text: string): void {
  log.push({ dir: 'out', data: text });
  frameWindow?.postMessage(text, workerOrigin);
}

function reply(callbackId: string, result: unknown): void {
  post(`${callbackId}:${result === undefined ? '' : JSON.stringify(result)}`);
}

/** Raises `BackgroundCallCard::<name>` to every frame that bound it; only the first argument travels. */
function fire(name: string, payload?: unknown): number {
  const ids = binds.get(`BackgroundCallCard::${name}`) ?? [];
  for (const id of ids) reply(id, payload);
  render();
  return ids.length;
}

const interfaceEvents = (): string[] => (Date.now() >= eventsRegisteredAt ? CARD_EVENTS : []);

const cardUndefined = [{ result: 'error', errorCode: 'Call card is undefined' }];

function missingField(field: string): unknown {
  // The desktop app answers a missing mute field with a bare object, the rest wrapped in an array.
  const error = { result: 'error', errorCode: `missing field ${field}` };
  return field === 'muted' ? error : [error];
}

function handleCommand(command: string, paramsValue: Record<string, unknown>, callbackId: string): void {
  switch (command) {
    case 'getInitData':
      return reply(callbackId, {
        LANG: 'en', DOMAIN: location.host, PROTOCOL: 1, PATH: '/rest', AUTH_ID: `auth-${userId}-1`, AUTH_EXPIRES: 3600,
        REFRESH_ID: 'refresh-1', MEMBER_ID: 'member-emulator', FIRST_RUN: false, IS_ADMIN: true, INSTALL: false,
        USER_OPTIONS: [], APP_OPTIONS: [], PLACEMENT: placement,
        PLACEMENT_OPTIONS: placement === 'DEFAULT' ? {} : { ID: placement, URI: location.pathname },
      });
    case 'getInterface':
      return reply(callbackId, { command: COMMANDS, event: interfaceEvents() });
    case 'refreshAuth':
      return reply(callbackId, { AUTH_ID: `auth-${userId}-2`, AUTH_EXPIRES: 3600, REFRESH_ID: 'refresh-2' });
    case 'placementBindEvent': {
      const event = String(paramsValue.event ?? '');
      // Unknown at bind time → silently ignored, and no reply either way.
      if (!interfaceEvents().includes(event)) return;
      binds.set(event, [...(binds.get(event) ?? []), callbackId]);
      if (cardAtBind && event === 'BackgroundCallCard::initialized' && !card) emulator.raiseCard({ callId: cardAtBind });
      return;
    }
    case 'setInstallFinish':
      (window as unknown as { installFinished: boolean }).installFinished = true;
      return;
    default:
      break;
  }
  if (!COMMANDS.includes(command)) return; // unknown or denied commands: no reply at all
  if (command === 'CallCardGetListUiStates') return reply(callbackId, UI_STATES);
  if (!card) return reply(callbackId, cardUndefined);
  const desktop = mode === 'desktop';
  switch (command) {
    case 'CallCardSetMute':
      if (typeof paramsValue.muted !== 'boolean') return reply(callbackId, desktop ? missingField('muted') : cardUndefined);
      card.muted = paramsValue.muted; // no muteButtonClick echo
      break;
    case 'CallCardSetHold':
      if (typeof paramsValue.held !== 'boolean') return reply(callbackId, missingField('held'));
      card.held = paramsValue.held;
      break;
    case 'CallCardSetUiState':
      if (!UI_STATES.includes(String(paramsValue.uiState))) return reply(callbackId, [{ result: 'error', errorCode: 'Invalid ui state' }]);
      card.uiState = String(paramsValue.uiState);
      if (card.uiState === 'connected' && paramsValue.disableAutoStartTimer !== true) card.timerRunning = true;
      break;
    case 'CallCardSetCardTitle':
      card.title = String(paramsValue.title ?? '');
      break;
    case 'CallCardSetStatusText':
      card.statusText = String(paramsValue.statusText ?? '');
      break;
    case 'CallCardStartTimer':
    case 'CallCardStopTimer':
      card.timerRunning = command === 'CallCardStartTimer';
      render();
      if (desktop) reply(callbackId, []);
      return; // the browser never answers the timer commands
    case 'CallCardClose':
      card = null;
      break;
  }
  render();
  reply(callbackId, []);
}

window.addEventListener('message', (event: MessageEvent) => {
  if (event.origin !== workerOrigin) return;
  log.push({ dir: 'in', data: event.data });
  let command: string;
  let paramsText: string;
  let callbackId: string;
  let sid: string;
  if (typeof event.data === 'string') {
    const parts = event.data.split(':');
    if (parts.length < 4) return;
    command = parts[0] as string;
    sid = parts[parts.length - 1] as string;
    callbackId = parts[parts.length - 2] as string;
    paramsText = parts.slice(1, -2).join(':');
  } else if (typeof event.data === 'object' && event.data !== null) {
    const data = event.data as { method?: string; params?: unknown; callback?: string; appSid?: string };
    command = String(data.method ?? '');
    paramsText = typeof data.params === 'string' ? data.params : JSON.stringify(data.params ?? '');
    callbackId = String(data.callback ?? '');
    sid = String(data.appSid ?? '');
  } else return;
  if (sid !== appSid) return;
  let parsed: Record<string, unknown> = {};
  if (paramsText) {
    try {
      parsed = JSON.parse(paramsText) as Record<string, unknown>;
    } catch {
      return;
    }
  }
  handleCommand(command, parsed, callbackId);
});

// ---------------------------------------------------------------- the visible card

function button(label: string, id: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.id = id;
  b.addEventListener('click', onClick);
  return b;
}

function render(): void {
  const root = document.getElementById('card') as HTMLElement;
  root.replaceChildren();
  root.hidden = placement === 'DEFAULT';
  root.dataset.present = String(card !== null);
  if (!card) {
    root.textContent = 'No call card ';
    // For demos and training: what telephony.externalCall.register would make happen.
    root.append(button('Simulate an incoming call', 'raise', () => emulator.raiseCard({ callId: `externalCall.demo.${Date.now()}`, phoneNumber: '+74951234567' })));
    return;
  }
  const c = card;
  root.dataset.muted = String(c.muted);
  root.dataset.held = String(c.held);
  root.dataset.uiState = c.uiState;
  const head = document.createElement('div');
  head.className = 'head';
  head.textContent = `${c.title || (c.direction === 'outgoing' ? 'Outgoing call' : 'Incoming call')} · ${c.phoneNumber ?? 'hidden number'}`;
  const state = document.createElement('div');
  state.id = 'card-state';
  state.textContent = `${c.uiState}${c.muted ? ' · muted' : ''}${c.held ? ' · on hold' : ''}${c.timerRunning ? ' · timer running' : ''}${c.statusText ? ` · ${c.statusText}` : ''}`;
  const buttons = document.createElement('div');
  buttons.className = 'buttons';
  if (c.uiState === 'incoming' || c.uiState === 'transferIncoming') {
    buttons.append(
      button('Answer', 'answer', () => (c.uiState = 'connected', fire('answerButtonClick'))),
      button('Skip', 'skip', () => fire('skipButtonClick')),
    );
  }
  if (c.uiState === 'connected') {
    buttons.append(
      button(c.muted ? 'Unmute' : 'Mute', 'mute', () => {
        c.muted = !c.muted;
        fire('muteButtonClick', c.muted);
      }),
      button(c.held ? 'Resume' : 'Hold', 'hold', () => {
        c.held = !c.held;
        fire('holdButtonClick', c.held);
      }),
    );
  }
  if (['connected', 'connectingIncoming', 'connectingOutgoing', 'transferConnected'].includes(c.uiState)) {
    buttons.append(button('Hang up', 'hangup', () => (c.uiState = 'idle', c.timerRunning = false, fire('hangupButtonClick'))));
  }
  buttons.append(button('Close', 'close', () => {
    fire('closeButtonClick');
    card = null;
    render();
  }));
  root.append(head, state, buttons);
}

// ---------------------------------------------------------------- test API

const emulator = {
  appSid,
  log,
  binds: (): Record<string, number> => Object.fromEntries([...binds].map(([k, v]) => [k, v.length])),
  card: (): Card | null => (card ? { ...card } : null),
  /** What `telephony.externalCall.register` makes happen in the operator's browser: a card appears. */
  raiseCard(options: { callId: string; phoneNumber?: string | null; direction?: string; uiState?: string }): void {
    card = {
      callId: options.callId, phoneNumber: options.phoneNumber ?? null, direction: options.direction ?? 'incoming',
      uiState: options.uiState ?? 'connected', muted: false, held: false, timerRunning: false, title: '', statusText: '',
    };
    const payload: Record<string, unknown> = {
      CALL_ID: options.callId, LINE_NUMBER: '1', LINE_NAME: '', CRM_ENTITY_TYPE: '', CRM_ENTITY_ID: 0,
      CRM_BINDINGS: [], CALL_DIRECTION: card.direction, CALL_STATE: 'idle', CALL_LIST_MODE: false,
    };
    // Keys whose value is undefined vanish in JSON: an unknown number means no PHONE_NUMBER at all.
    if (options.phoneNumber) payload.PHONE_NUMBER = options.phoneNumber;
    fire('initialized', payload);
  },
  fire,
  registerEventsNow(): void {
    eventsRegisteredAt = Date.now();
  },
};
(window as unknown as { emulator: typeof emulator }).emulator = emulator;

// ---------------------------------------------------------------- load the worker as Bitrix24 does

function loadWorker(): void {
  const name = `${location.host}|1|${appSid}`;
  const iframe = document.createElement('iframe');
  iframe.name = name;
  iframe.id = 'worker-frame';
  iframe.title = 'Operator Companion worker';
  // What the Bitrix24 app-frame template delegates: no local-network tokens.
  iframe.allow = 'geolocation *; microphone *; camera *; autoplay *;';
  iframe.style.cssText = placement === 'DEFAULT'
    ? 'width:100%;height:900px;border:0;background:#fff;border-radius:8px'
    : 'width:0;height:0;border:0;position:absolute;visibility:hidden';
  document.body.append(iframe);
  frameWindow = iframe.contentWindow;
  const action = new URL(workerUrl);
  for (const [key, value] of Object.entries({ DOMAIN: location.host, PROTOCOL: '1', LANG: 'en', APP_SID: appSid })) action.searchParams.set(key, value);
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = action.toString();
  form.target = name;
  const fields = {
    AUTH_ID: `auth-${userId}-1`, AUTH_EXPIRES: '3600', REFRESH_ID: 'refresh-1', member_id: 'member-emulator', status: 'L',
    PLACEMENT: placement, PLACEMENT_OPTIONS: JSON.stringify(placement === 'DEFAULT' ? {} : { ID: placement, URI: location.pathname }),
  };
  for (const [key, value] of Object.entries(fields)) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = key;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
  document.getElementById('user')!.textContent = `operator ${userId} · tab ${appSid} · ${mode} mode`;
}

render();
loadWorker();
