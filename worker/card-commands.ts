// Runs the app's commands against the call card and turns the portal's answers into typed results.
// The portal answers success with `[]`, errors as `[{result: 'error', errorCode}]` in the browser or as a bare
// `{result: 'error', errorCode}` in the desktop app, and never answers the timer commands (BITRIX24.md §3).
import type { ServerMessageOf } from '../common/protocol.ts';
import type { Bx24Frame } from './bx24-frame.ts';

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

/** Interprets one reply of the portal to a `CallCard*` command. */
export function interpretReply(reply: { answered: true; value: unknown } | { answered: false }): CommandResult {
  if (!reply.answered) return { outcome: 'no_answer' };
  const error = portalError(reply.value);
  if (error === 'Call card is undefined') return { outcome: 'no_call', detail: error };
  if (error !== null) return { outcome: 'card_refused', detail: error };
  return { outcome: 'ok', result: reply.value };
}

export async function runCardCommand(frame: Bx24Frame, command: ServerMessageOf<'command'>): Promise<CommandResult> {
  // Answer well inside the app's own wait, so the app hears "no answer" rather than timing out itself.
  const wait = Math.max(200, Math.min(command.timeoutMs * 0.75, command.timeoutMs - 500));
  return interpretReply(await frame.call(command.command, command.params, wait));
}
