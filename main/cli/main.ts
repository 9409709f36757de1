// Dispatches `operator-companion <command>`; returns the exit code.
import { runControl } from './control-command.ts';
import { runExport } from './export-command.ts';
import { runMicrophones } from './microphones-command.ts';
import { runServe } from './serve-command.ts';
import { runStatus } from './status-command.ts';
import { USAGE, UsageError } from './usage.ts';

const CONTROL_COMMANDS = new Set(['mute', 'unmute', 'toggle', 'hold', 'unhold']);

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve':
        return await runServe(args);
      case 'export':
        return await runExport(args);
      case 'status':
        return await runStatus(args);
      case 'microphones':
        return await runMicrophones(args);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        if (CONTROL_COMMANDS.has(command)) return await runControl(command, args);
        throw new UsageError(`unknown command "${command}"; commands: serve, export, status, microphones, mute, unmute, toggle, hold, unhold`);
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
