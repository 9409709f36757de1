// Control of the running desktop app without Node: its own executable with an argument
// (`"Operator Companion" --mute`, handed to the running instance by the single-instance lock) or an
// `operator-companion://mute` link (what Stream Deck's "open website" and most hotkey tools can call). The same
// actions as `operator-companion mute|unmute|toggle|hold|unhold`.
import { CARD_ACTIONS, type CardAction } from '../../../common/ipc.ts';

export const URL_SCHEME = 'operator-companion';

/** The action a command line or a link asks for, or null when it asks for none (a plain second start). */
export function launchAction(argv: readonly string[]): CardAction | null {
  for (const arg of argv) {
    const flag = /^--(mute|unmute|toggle|hold|unhold)$/.exec(arg);
    if (flag) return flag[1] as CardAction;
    const fromUrl = actionFromUrl(arg);
    if (fromUrl) return fromUrl;
  }
  return null;
}

/** `operator-companion://mute` (also `operator-companion:mute`, `…://mute/`): the action, or null. */
export function actionFromUrl(text: string): CardAction | null {
  if (!text.toLowerCase().startsWith(`${URL_SCHEME}:`)) return null;
  const action = text.slice(URL_SCHEME.length + 1).replace(/^\/\//, '').replace(/\/$/, '').toLowerCase();
  return (CARD_ACTIONS as readonly string[]).includes(action) ? (action as CardAction) : null;
}
