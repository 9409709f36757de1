// `operator-companion mute|unmute|toggle|hold|unhold`: asks the running instance to act on the current call.
import path from 'node:path';
import { callControl } from '../core/control/control-channel.ts';
import { defaultDataDir } from '../core/paths.ts';
import { parse } from './usage.ts';

export async function runControl(action: string, args: string[]): Promise<number> {
  const values = parse(args, { 'data-dir': { type: 'string' } });
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
  const reply = await callControl(dataDir, 'POST', '/v1/action', { action });
  if (!reply.reachable) {
    process.stderr.write(`operator-companion: ${reply.reason}\n`);
    return 1;
  }
  const body = (reply.body ?? {}) as { ok?: boolean; outcome?: string; message?: string; error?: string };
  if (reply.status === 200 && body.ok) {
    process.stdout.write(`${action}: ${body.message ?? 'done'}\n`);
    return 0;
  }
  process.stderr.write(`operator-companion: ${action} failed: ${body.outcome ?? reply.status} (${body.message ?? body.error ?? 'no detail'})\n`);
  return 1;
}
