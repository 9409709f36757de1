// A private, throwaway PostgreSQL per suite: initdb into a temp folder, a free port on 127.0.0.1, the Unix socket
// in the same folder, password (SCRAM) authentication everywhere; stopped and removed after. PostgreSQL refuses
// to run as root, so as root the folder is given to the `postgres` user and the server runs as that user.
// `.ci/run` installs Debian's `postgresql` (binaries in /usr/lib/postgresql/15/bin).
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cli.ts';

const run = promisify(execFile);

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const PG_SUPERUSER = 'postgres';
export const PG_SUPERPASSWORD = 'throwaway-superuser-secret';

export interface PgServer {
  port: number;
  dir: string;
  /** postgres://user:password@127.0.0.1:port/database */
  url(user?: string, password?: string, database?: string): string;
  /** Runs SQL through psql as the superuser; answers its unaligned output. */
  psql(sql: string, user?: string, password?: string): Promise<string>;
  /** Stops the server (fast shutdown: open connections are cut). */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function pgUserIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const passwd = execFileSyncText('id', ['-u', 'postgres']);
  const group = execFileSyncText('id', ['-g', 'postgres']);
  return { uid: Number(passwd), gid: Number(group) };
}

function execFileSyncText(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8' }).trim();
}

export async function startPostgres(): Promise<PgServer> {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(`PostgreSQL is not installed (no ${PG_BIN}/initdb): apt-get install postgresql (.ci/run does)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-pg-'));
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  writeFileSync(pwfile, `${PG_SUPERPASSWORD}\n`);
  const owner = pgUserIds();
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  chmodSync(dir, 0o700);
  const asPostgres = (bin: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
    owner ? run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args]) : run(path.join(PG_BIN, bin), args);
  await asPostgres('initdb', ['-D', data, '-U', PG_SUPERUSER, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-N', '-E', 'UTF8', '--locale=C.UTF-8']);
  rmSync(pwfile);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = async (): Promise<void> => {
    await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  };
  const halt = async (): Promise<void> => {
    await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  };
  await start();
  const url = (user = PG_SUPERUSER, password = PG_SUPERPASSWORD, database = 'postgres'): string =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    port,
    dir,
    url,
    psql: async (sql, user = PG_SUPERUSER, password = PG_SUPERPASSWORD) =>
      (
        await run(path.join(PG_BIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-c', sql], {
          env: { ...process.env, PGPASSWORD: password },
        })
      ).stdout,
    halt,
    resume: start,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await halt().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
