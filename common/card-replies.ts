// What the portal's answers to `CallCard*` commands mean. Success is `[]`; errors come as
// `[{result: 'error', errorCode}]` in the browser or as a bare `{result: 'error', errorCode}` in the desktop app;
// the timer commands are never answered in the browser (shared BITRIX24.md §3).

export type CommandOutcome = 'ok' | 'card_refused' | 'no_call' | 'no_answer';

export interface CommandResult {
  outcome: CommandOutcome;
  detail?: string;
  result?: unknown;
}

function portalError(value: unknown): string | null {
  const item = Array.isArray(value) ? value[0] : value;
  if (typeof item === 'object' && item !== null && (item as { result?: unknown }).result === 'error') {
    const code = (item as { errorCode?: unknown }).errorCode;
    return typeof code === 'string' ? code : 'error';
  }
  return null;
}

/**
 * Interprets one reply of the portal to a `CallCard*` command. The raw reply is never passed on: only the error
 * code (short text) and, for a success, a list of short strings (the UI states) or nothing.
 */
export function interpretReply(reply: { answered: true; value: unknown } | { answered: false }): CommandResult {
  if (!reply.answered) return { outcome: 'no_answer' };
  const error = portalError(reply.value)?.slice(0, 200) ?? null;
  if (error === 'Call card is undefined') return { outcome: 'no_call', detail: error };
  if (error !== null) return { outcome: 'card_refused', detail: error };
  const list = reply.value;
  const plain = Array.isArray(list) && list.length <= 32 && list.every((v) => typeof v === 'string' && v.length <= 64);
  return plain ? { outcome: 'ok', result: list } : { outcome: 'ok' };
}
