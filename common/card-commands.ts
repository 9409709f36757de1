// The card commands the app may ask a worker to run, with the parameters each takes: the one allow-list both
// sides check (the relay's schema refines with it; the worker runs nothing else). Plain code, no zod, so the
// worker page stays small. Anything else — `getInitData`, `refreshAuth`, any other frame command, or extra
// parameters — is refused: those would hand the portal's tokens or replies to whoever sent them.
import { CARD_COMMAND_NAMES, type CardCommandName } from './bitrix24.ts';

/** The UI states `CallCardSetUiState` accepts (shared BITRIX24.md §3.2). */
export const CARD_UI_STATES = [
  'incoming', 'transferIncoming', 'outgoing', 'connectingIncoming', 'connectingOutgoing', 'connected', 'transferring',
  'transferFailed', 'transferConnected', 'error', 'moneyError', 'redial',
] as const;

type Params = Record<string, unknown>;
const none = (p: Params): Params | null => (Object.keys(p).length === 0 ? {} : null);
const onlyKeys = (p: Params, allowed: string[]): boolean => Object.keys(p).every((k) => allowed.includes(k));
const text = (key: string) => (p: Params): Params | null =>
  onlyKeys(p, [key]) && typeof p[key] === 'string' && (p[key] as string).length <= 200 ? { [key]: p[key] } : null;

const PARAMS: Record<CardCommandName, (p: Params) => Params | null> = {
  CallCardSetMute: (p) => (onlyKeys(p, ['muted']) && typeof p.muted === 'boolean' ? { muted: p.muted } : null),
  CallCardSetHold: (p) => (onlyKeys(p, ['held']) && typeof p.held === 'boolean' ? { held: p.held } : null),
  CallCardSetUiState: (p) =>
    onlyKeys(p, ['uiState', 'disableAutoStartTimer']) && (CARD_UI_STATES as readonly unknown[]).includes(p.uiState) &&
    (p.disableAutoStartTimer === undefined || typeof p.disableAutoStartTimer === 'boolean')
      ? { uiState: p.uiState, ...(p.disableAutoStartTimer === undefined ? {} : { disableAutoStartTimer: p.disableAutoStartTimer }) }
      : null,
  CallCardGetListUiStates: none,
  CallCardSetCardTitle: text('title'),
  CallCardSetStatusText: text('statusText'),
  CallCardStartTimer: none,
  CallCardStopTimer: none,
  CallCardClose: none,
};

export type CardCommandCheck = { ok: true; command: CardCommandName; params: Params } | { ok: false; reason: string };

/** Whether `command` with `params` is one of the card commands, exactly as it may be run. */
export function checkCardCommand(command: unknown, params: unknown): CardCommandCheck {
  if (typeof command !== 'string' || !(CARD_COMMAND_NAMES as readonly string[]).includes(command)) {
    return { ok: false, reason: `${String(command).slice(0, 60)} is not a card command this worker runs` };
  }
  const name = command as CardCommandName;
  const checked = typeof params === 'object' && params !== null && !Array.isArray(params) ? PARAMS[name](params as Params) : null;
  return checked ? { ok: true, command: name, params: checked } : { ok: false, reason: `wrong parameters for ${name}` };
}
