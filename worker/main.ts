// The PAGE_BACKGROUND_WORKER page: binds the call card's 17 events, keeps each in the outbox, relays them to
// Operator Companion on 127.0.0.1 and runs the app's commands against the card. Loading must stay fast
// (Bitrix24 unbinds a handler that is often slower than 5 s): nothing here waits for the network before the
// page has finished loading.
import { CARD_EVENT_NAMES, CARD_EVENT_PREFIX } from '../common/bitrix24.ts';
import type { ServerMessageOf } from '../common/protocol.ts';
import { Bx24Frame, parseFrameName } from './bx24-frame.ts';
import { runCardCommand } from './card-commands.ts';
import { Outbox, type Identity } from './outbox.ts';
import { persistence, safeKey } from './persistence.ts';
import { checkPortal } from './portals.ts';
import { RelayClient } from './relay-client.ts';
import { RestClient } from './rest.ts';
import { publishStatus } from './worker-status.ts';

const VERSION = '0.1.0';
/** How long to wait for the phone module to register its events before giving up on binding. */
const INTERFACE_WAIT_MS = 120_000;

function portFromUrl(): number | null {
  const value = new URLSearchParams(location.search).get('port');
  const port = value === null ? NaN : Number(value);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

function tokenStore(identity: Identity): { load(): string | null; save(token: string | null): void } {
  const key = safeKey('oc_token', identity.memberId, identity.userId);
  return {
    load: () => persistence().get(key),
    save: (token) => {
      // Without storage the app asks to pair again on the next load.
      if (token === null) persistence().remove(key);
      else persistence().set(key, token);
    },
  };
}

/**
 * Binds every card event once the portal's phone module has registered them: a bind sent before that is
 * dropped without a word (BITRIX24.md §5.3), so the interface is checked first and polled until it lists them.
 */
async function bindCardEvents(frame: Bx24Frame, onEvent: (name: string, payload: unknown) => void): Promise<boolean> {
  const wanted = `${CARD_EVENT_PREFIX}initialized`;
  const started = Date.now();
  let delay = 250;
  for (;;) {
    const face = await frame.getInterface();
    // A portal that does not answer getInterface at all gets the binds anyway.
    if (face === null || face.event.includes(wanted)) break;
    if (Date.now() - started > INTERFACE_WAIT_MS) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 5_000);
  }
  for (const name of CARD_EVENT_NAMES) frame.bindEvent(`${CARD_EVENT_PREFIX}${name}`, (payload) => onEvent(name, payload));
  return true;
}

async function learnOperator(rest: RestClient): Promise<{ id: string; name?: string }> {
  for (let delay = 1_000; ; delay = Math.min(delay * 2, 60_000)) {
    try {
      const user = (await rest.call('user.current')) as { ID?: string | number; NAME?: string; LAST_NAME?: string };
      if (user?.ID !== undefined) {
        const name = [user.NAME, user.LAST_NAME].filter(Boolean).join(' ');
        return { id: String(user.ID), ...(name ? { name } : {}) };
      }
    } catch (error) {
      console.warn('[Operator Companion] user.current failed; retrying', error);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function connect(frame: Bx24Frame, outbox: Outbox, identity: Identity, primary: boolean): RelayClient {
  const tokens = tokenStore(identity);
  const client: RelayClient = new RelayClient({
    outbox,
    identity,
    port: portFromUrl(),
    clientVersion: VERSION,
    clientKind: 'worker',
    ...(primary ? {} : { adopted: true }),
    loadToken: tokens.load,
    saveToken: tokens.save,
    onStatus: (status) => {
      if (primary) publishStatus(outbox.appSid, status);
      // An adopted orphan stops once the app has everything it held.
      else if (status.state === 'connected' && outbox.pending.length === 0) {
        outbox.removeIfEmpty();
        client.stop('delivered');
      }
    },
    onCommand: (command: ServerMessageOf<'command'>) => {
      if (primary) void execute(frame, outbox, client, command);
      else client.send({ type: 'commandResult', id: command.id, outcome: 'no_call', detail: 'this tab is closed' });
    },
  });
  client.start();
  return client;
}

async function execute(frame: Bx24Frame, outbox: Outbox, client: RelayClient, command: ServerMessageOf<'command'>): Promise<void> {
  const result = await runCardCommand(frame, command);
  if (result.outcome === 'ok' && (command.command === 'CallCardSetMute' || command.command === 'CallCardSetHold')) {
    // The card does not echo the change as a click: record it as an event of its own, durably, before the result.
    const key = command.command === 'CallCardSetMute' ? 'muted' : 'held';
    const event = outbox.add(command.command, { [key]: command.params[key], commandId: command.id, source: command.source });
    client.sendEventNow(event.id);
  }
  client.send({ type: 'commandResult', id: command.id, ...result });
}

async function main(): Promise<void> {
  const context = parseFrameName(window.name);
  if (!context) {
    document.body.textContent = 'This page is the Operator Companion worker; Bitrix24 loads it in the background of every page.';
    return;
  }
  // Only inside a portal this deployment serves, as the browser (not the embedding page) tells it.
  const portal = await checkPortal(context);
  if (!portal.ok) {
    console.error(`[Operator Companion] the worker does not start: ${portal.reason}`);
    publishStatus(context.appSid, { state: 'refused', detail: portal.reason, port: null, attempts: 0 });
    return;
  }
  const frame = new Bx24Frame(context);
  const outbox = Outbox.open(context.appSid);
  let client: RelayClient | null = null;

  // Events are kept from the first moment, before the operator or the app are known.
  const bound = bindCardEvents(frame, (name, payload) => {
    outbox.add(name, payload);
    client?.flush();
  });

  const init = await frame.getInitData();
  if (!init?.AUTH_ID) {
    console.warn('[Operator Companion] the portal did not hand over init data; the worker stays idle');
    return;
  }
  const rest = new RestClient(frame, init.PATH ?? '/rest', init.AUTH_ID);
  const user = await learnOperator(rest);
  const options = typeof init.PLACEMENT_OPTIONS === 'string' ? safeJson(init.PLACEMENT_OPTIONS) : init.PLACEMENT_OPTIONS;
  const uri = typeof options?.URI === 'string' ? options.URI : undefined;
  const identity: Identity = {
    domain: init.DOMAIN ?? context.domain,
    memberId: init.MEMBER_ID ?? context.domain,
    userId: user.id,
    ...(user.name ? { userName: user.name } : {}),
    ...(uri ? { uri } : {}),
  };
  outbox.setIdentity(identity);
  client = connect(frame, outbox, identity, true);
  setInterval(() => outbox.touch(), 10_000);
  // A closed tab (not one kept in the back/forward cache) leaves its outbox adoptable at once.
  window.addEventListener('pagehide', (event) => {
    if (!event.persisted) outbox.markClosed();
  });

  // Tabs closed before the app acknowledged their events left them behind: deliver them under their own frame.
  for (const orphan of Outbox.orphans(context.appSid)) {
    orphan.touch();
    connect(frame, orphan, orphan.identity as Identity, false);
  }
  if (!(await bound)) console.warn('[Operator Companion] the call card events never became available on this page');
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

void main();
