// `operator-companion central init|add-login`: the administrator's side of the central PostgreSQL.
import { APP_VERSION } from '../core/companion.ts';
import { connectCentral, describeCentralError, describeTarget, resolveCentralUrl, CentralConfigError, type CentralConfig } from '../core/central/connection.ts';
import { SUPERVISOR_ROLE, WRITER_ROLE } from '../core/central/migrations.ts';
import { addLogin, centralInit, CentralSchemaError, LOGIN_ROLES } from '../core/central/schema.ts';
import { oneOf, parse, required, UsageError } from './usage.ts';

/** `--url` (or one of libpq's variables alone) as a connection config; a malformed URL is a usage error. */
export function centralConfig(url: string, name: string): CentralConfig {
  try {
    return resolveCentralUrl(url);
  } catch (error) {
    if (error instanceof CentralConfigError) throw new UsageError(`${name}: ${error.message}`);
    throw error;
  }
}

export async function runCentral(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'init') {
    const values = parse(rest, { url: { type: 'string' } });
    const config = centralConfig(required(values.url, '--url'), '--url');
    return withCentral(config, async (sql) => {
      const { from, to } = await centralInit(sql, APP_VERSION);
      process.stdout.write(
        `${from === to ? `central schema already at version ${to}` : `central schema upgraded from version ${from} to ${to}`} in ${describeTarget(config)}; ` +
          `roles ${WRITER_ROLE} (companions) and ${SUPERVISOR_ROLE} (read-only) ready\n`,
      );
    });
  }
  if (sub === 'add-login') {
    const values = parse(rest, { url: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
    const config = centralConfig(required(values.url, '--url'), '--url');
    const name = required(values.name, '--name');
    if (!/^[a-z_][a-z0-9_.-]{0,62}$/i.test(name)) throw new UsageError(`--name must be a PostgreSQL role name: letters, digits, _ . - (got "${name}")`);
    const role = oneOf(required(values.role, '--role'), Object.keys(LOGIN_ROLES) as (keyof typeof LOGIN_ROLES)[], '--role');
    const given = values['password-stdin'] ? await readStdinLine() : undefined;
    if (given === '') throw new UsageError('--password-stdin: the password read from standard input is empty');
    return withCentral(config, async (sql) => {
      const { password, created } = await addLogin(sql, name, role, given);
      process.stderr.write(`${created ? 'created' : 'updated'} login "${name}" in ${LOGIN_ROLES[role]}${given ? '' : '; its password is on standard output (shown once)'}\n`);
      if (!given) process.stdout.write(`${password}\n`);
    });
  }
  throw new UsageError(`central needs a subcommand: init or add-login (got ${sub === undefined ? 'none' : `"${sub}"`})`);
}

async function withCentral(config: CentralConfig, body: (sql: ReturnType<typeof connectCentral>) => Promise<void>): Promise<number> {
  const sql = connectCentral(config);
  try {
    await body(sql);
    return 0;
  } catch (error) {
    const message = error instanceof CentralSchemaError ? error.message : await describeCentralError(error, config);
    process.stderr.write(`operator-companion: ${message}\n`);
    return 1;
  } finally {
    await sql.end();
  }
}

async function readStdinLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split(/\r?\n/)[0] ?? '';
}
