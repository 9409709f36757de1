// Runs the app's commands against the call card; `interpretReply` turns the portal's answers into typed results.
// Only the card commands, with exactly their parameters (common/card-commands.ts): a frame command such as
// getInitData or refreshAuth would hand the portal's tokens to whoever sent it, so anything else is refused
// without reaching the portal.
import { checkCardCommand } from '../common/card-commands.ts';
import { interpretReply, type CommandResult } from '../common/card-replies.ts';
import type { ServerMessageOf } from '../common/protocol.ts';
import type { Bx24Frame } from './bx24-frame.ts';

export async function runCardCommand(frame: Bx24Frame, command: ServerMessageOf<'command'>): Promise<CommandResult> {
  const checked = checkCardCommand(command.command, command.params);
  if (!checked.ok) return { outcome: 'card_refused', detail: checked.reason };
  // Answer well inside the app's own wait, so the app hears "no answer" rather than timing out itself.
  const timeoutMs = Number.isFinite(command.timeoutMs) ? Math.min(Math.max(command.timeoutMs, 500), 30_000) : 4_000;
  const wait = Math.max(200, Math.min(timeoutMs * 0.75, timeoutMs - 500));
  return interpretReply(await frame.call(checked.command, checked.params, wait));
}
