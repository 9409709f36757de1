// The Bitrix24 application's install page: binds the worker page to PAGE_BACKGROUND_WORKER (for everyone, or
// per operator with USER_ID), replacing an earlier binding cleanly, says what it did, and finishes the
// installation. It also shows what the worker in this browser last reported, with what to do when the browser
// blocks it.
import { Bx24Frame, parseFrameName } from './bx24-frame.ts';
import { checkPortal } from './portals.ts';
import { RestClient } from './rest.ts';
import { persistence } from './persistence.ts';
import { readStatus } from './worker-status.ts';

const PLACEMENT = 'PAGE_BACKGROUND_WORKER';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function log(text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  const item = document.createElement('li');
  item.textContent = text;
  item.className = kind;
  $('log').append(item);
}

function showWorkerStatus(portalOrigin: string): void {
  const status = readStatus();
  const box = $('worker-status');
  if (!status) {
    box.textContent = 'No worker has run in this browser yet. After installing, reload any Bitrix24 page.';
    return;
  }
  const age = Math.round((Date.now() - status.at) / 1000);
  const lines = [`Worker state: ${status.state.replaceAll('_', ' ')} (${age} s ago)${status.detail ? ` — ${status.detail}` : ''}`];
  if (status.state === 'unproven') {
    lines.push(
      'Something on this computer answers as Operator Companion but cannot prove it is the app this browser paired with, so the worker sends it nothing.',
      'If Operator Companion was reinstalled or its data reset, press "Pair this browser again" and allow the tab in the app. Otherwise, find the program on that port.',
    );
    const forget = $<HTMLButtonElement>('forget');
    forget.hidden = false;
    forget.onclick = () => {
      for (const key of persistence().keys('oc_token')) persistence().remove(key);
      forget.hidden = true;
      box.textContent = 'This browser forgot its pairing. Reload a Bitrix24 page: Operator Companion will ask you to allow it.';
    };
  }
  if (status.state === 'blocked_by_browser') {
    lines.push(
      `To allow it: click the icon left of the address bar on ${portalOrigin}, open "Site settings", set "Apps on device" (or "Local network access") to Allow, and reload.`,
      `For every PC at once, IT sets the Chrome/Edge policies LoopbackNetworkAllowedForUrls = ["${portalOrigin}"] and LocalNetworkAccessPermissionsPolicyDefaultEnabled = true.`,
    );
  }
  box.textContent = lines.join('\n');
  box.dataset.state = status.state;
}

async function currentBindings(rest: RestClient): Promise<Array<{ handler: string; userId?: string }>> {
  const list = (await rest.call('placement.get')) as Array<{ placement?: string; handler?: string; userId?: string | number }> | null;
  return (list ?? [])
    .filter((p) => p.placement === PLACEMENT && typeof p.handler === 'string')
    .map((p) => ({ handler: p.handler as string, ...(p.userId ? { userId: String(p.userId) } : {}) }));
}

/** What is bound now, as Bitrix24 says: at start, and again after every install attempt (it may have changed). */
async function showBindings(rest: RestClient): Promise<void> {
  try {
    const existing = await currentBindings(rest);
    $('current').textContent = existing.length === 0 ? 'Not bound yet.' : existing.map((b) => `${b.handler}${b.userId ? ` (user ${b.userId})` : ' (every user)'}`).join('\n');
  } catch (error) {
    $('current').textContent = `Could not read the current binding: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function install(frame: Bx24Frame, rest: RestClient): Promise<void> {
  $<HTMLButtonElement>('install').disabled = true;
  $('log').replaceChildren();
  try {
    const handler = new URL('index.html', location.href);
    const port = $<HTMLInputElement>('port').value.trim();
    if (port) handler.searchParams.set('port', port);
    const errorHandlerUrl = new URL('error.html', location.href).toString();
    const users = $<HTMLInputElement>('users').value.split(/[\s,;]+/).filter(Boolean);
    if (users.some((u) => !/^\d+$/.test(u))) throw new Error('user ids are numbers, separated by commas');

    // One general handler per app (plus one per user): an old binding must go before the new one.
    for (const old of await currentBindings(rest)) {
      await rest.call('placement.unbind', { PLACEMENT, HANDLER: old.handler, ...(old.userId ? { USER_ID: old.userId } : {}) });
      log(`Removed the earlier binding ${old.handler}${old.userId ? ` (user ${old.userId})` : ''}`);
    }
    const targets = users.length > 0 ? users : [null];
    for (const userId of targets) {
      await rest.call('placement.bind', {
        PLACEMENT,
        HANDLER: handler.toString(),
        TITLE: 'Operator Companion',
        'OPTIONS[errorHandlerUrl]': errorHandlerUrl,
        ...(userId ? { USER_ID: userId } : {}),
      });
      log(`Bound ${handler} ${userId ? `for user ${userId}` : 'for every user'}`, 'ok');
    }
    frame.send('setInstallFinish', {});
    log('Installation finished. Reload Bitrix24 pages for the worker to start.', 'ok');
  } catch (error) {
    log(`Failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
  } finally {
    await showBindings(rest);
    $<HTMLButtonElement>('install').disabled = false;
  }
}

async function main(): Promise<void> {
  const context = parseFrameName(window.name);
  if (!context) {
    $('intro').textContent = 'Open this page from Bitrix24: it is the install page of the Operator Companion application.';
    return;
  }
  const portal = await checkPortal(context);
  $('portal-check').textContent = portal.ok
    ? `The worker host serves this portal (${portal.parentOrigin} is listed in portals.json).`
    : `The worker will not start here: ${portal.reason}. Put this portal's address in portals.json beside index.html (see the README).`;
  $('portal-check').dataset.state = portal.ok ? 'ok' : 'refused';
  if (!portal.ok) console.error(`[Operator Companion] ${portal.reason}`);
  const frame = new Bx24Frame(context);
  showWorkerStatus(context.parentOrigin);
  const init = await frame.getInitData();
  if (!init?.AUTH_ID) {
    log('Bitrix24 did not hand over the application context.', 'error');
    return;
  }
  const rest = new RestClient(frame, init.PATH ?? '/rest', init.AUTH_ID);
  if (init.IS_ADMIN === false) log('Only a Bitrix24 administrator can install the worker.', 'error');
  await showBindings(rest);
  $<HTMLButtonElement>('install').disabled = false;
  $('install').addEventListener('click', () => void install(frame, rest));
}

void main();
