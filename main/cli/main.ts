// Dispatches `operator-companion <command>`; returns the exit code. Each command is loaded only when asked for,
// so `operator-companion mute` (bound to a hotkey) does not pay for SQLite, zod and the exporters.
import { USAGE, UsageError } from './usage.ts';

const CONTROL_COMMANDS = new Set(['mute', 'unmute', 'toggle', 'hold', 'unhold']);

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve':
        return await (await import('./serve-command.ts')).runServe(args);
      case 'export':
        return await (await import('./export-command.ts')).runExport(args);
      case 'status':
        return await (await import('./status-command.ts')).runStatus(args);
      case 'microphones':
        return await (await import('./microphones-command.ts')).runMicrophones(args);
      case 'central':
        return await (await import('./central-command.ts')).runCentral(args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        if (CONTROL_COMMANDS.has(command)) return await (await import('./control-command.ts')).runControl(command, args);
        throw new UsageError(`unknown command "${command}"; commands: serve, export, status, microphones, central, mute, unmute, toggle, hold, unhold`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`operator-companion: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`operator-companion: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
