// Every call from a window passes here: the channel must exist, the arguments must fit its schema, and the
// answer is an explicit result, so an error keeps its message across the process boundary.
import { describeZodError } from '../../../common/card-events.ts';
import { IPC_ARGS, type IpcResult } from '../../../common/ipc.ts';
import { IPC_CHANNELS, type IpcChannel } from '../../../common/ipc-channels.ts';
import type { IpcHandlers } from './desktop-controller.ts';

export function isIpcChannel(name: string): name is IpcChannel {
  return (IPC_CHANNELS as readonly string[]).includes(name);
}

export async function dispatchIpc(handlers: IpcHandlers, channel: string, args: unknown[]): Promise<IpcResult<unknown>> {
  if (!isIpcChannel(channel)) return { ok: false, error: `unknown call "${channel.slice(0, 60)}"` };
  const parsed = IPC_ARGS[channel].safeParse(args);
  if (!parsed.success) return { ok: false, error: `${channel}: ${describeZodError(parsed.error)}` };
  try {
    const handler = handlers[channel] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await handler(...(parsed.data as unknown[])) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
