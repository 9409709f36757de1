// Argument handling shared by the commands: every mistake becomes one line naming the argument, exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: operator-companion <command> [options]

  serve   --data-dir DIR [--port N] [--allow-origin ORIGIN]... [--auto-approve]
          [--microphone default|off|NAME] [--end-of-call app|always|never]
          Run the relay, call state and session store without the desktop app. --microphone: which real
          microphone follows the card (default: off, the card is only mirrored); --end-of-call: when a call
          ends, unmute what the app muted (app, the default), unmute always, or never.
          --central URL: sync the log to a central PostgreSQL (postgres://LOGIN@HOST:5432/DB?sslmode=...).
  export  [--data-dir DIR] --format csv|xlsx|jsonl [--kind calls|events] [--from DATE] [--to DATE]
          [--operator ID] [--tz ZONE] [--delimiter ,|;] --out FILE|-
          Write the session log. DATE is YYYY-MM-DD (local midnight in --tz) or an ISO time with offset.
          --central URL instead of --data-dir: the whole team's log from the central PostgreSQL.
  central init --url URL
          Create or upgrade the central PostgreSQL schema and its roles (run by its administrator).
  central add-login --url URL --name NAME --role writer|supervisor [--password-stdin]
          Create a login for a companion (writer) or a supervisor (read-only); prints a new password.
  status  [--data-dir DIR] [--json]
          What the store holds and whether an instance is listening (with its microphone).
  microphones [--json]
          The microphones this computer has, the default marked.
  mute | unmute | toggle | hold | unhold  [--data-dir DIR]
          Ask the running instance to act on the current call.

Exit codes: 0 done, 1 failed (no call, no running instance, ...), 2 bad arguments.
`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict parsing: unknown options, missing values and stray positionals are usage errors. */
export function parse<T extends Options>(args: string[], options: T): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // Node's messages are good but long; the first sentence names the argument.
    const message = error instanceof Error ? error.message.split('. ')[0] ?? error.message : String(error);
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option'));
  }
}

export function required<V>(value: V | undefined, name: string): V {
  if (value === undefined || value === '') throw new UsageError(`${name} is required`);
  return value;
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new UsageError(`${name} must be a port number from 1 to 65535 (got "${value}")`);
  }
  return Number(value);
}
