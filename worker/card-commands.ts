// Runs the app's commands against the call card; `interpretReply` turns the portal's answers into typed results.
import { interpretReply, type CommandResult } from '../common/card-replies.ts';
import type { ServerMessageOf } from '../common/protocol.ts';
import type { Bx24Frame } from './bx24-frame.ts';

export async function runCardCommand(frame: Bx24Frame, command: ServerMessageOf<'command'>): Promise<CommandResult> {
  // Answer well inside the app's own wait, so the app hears "no answer" rather than timing out itself.
  const wait = Math.max(200, Math.min(command.timeoutMs * 0.75, command.timeoutMs - 500));
  return interpretReply(await frame.call(command.command, command.params, wait));
}
