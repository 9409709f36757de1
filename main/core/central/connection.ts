// Connecting to the central PostgreSQL the way libpq would: a `postgres://` URL plus libpq's environment
// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGCONNECT_TIMEOUT,
// PGAPPNAME, PGPASSFILE/~/.pgpass), resolved here into explicit options for the driver (node-postgres, see
// docs/central.md), which reads only some of them and has no sslmode=prefer. Every failure becomes one line a
// person can act on.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface CentralConfig {
  host: string;
  port: number;
  /** A Unix socket folder (`?host=/run/postgresql`), instead of TCP. */
  socketDir: string | null;
  user: string;
  password: string | null;
  database: string;
  sslMode: SslMode;
  /** PEM file with the CA(s) that signed the server's certificate. */
  sslRootCert: string | null;
  connectTimeoutS: number;
  applicationName: string;
}

export class CentralConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CentralConfigError';
  }
}

/** Parses a `postgres://user:password@host:port/database?sslmode=…` URL, filling gaps from libpq's variables. */
export function resolveCentralUrl(url: string, env: NodeJS.ProcessEnv = process.env): CentralConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CentralConfigError(`the central URL must look like postgres://user@host:5432/database (got "${redactUrl(url)}")`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new CentralConfigError(`the central URL must start with postgres:// (got "${redactUrl(url)}")`);
  }
  const query = parsed.searchParams;
  const known = new Set(['sslmode', 'sslrootcert', 'connect_timeout', 'application_name', 'host', 'port', 'user', 'password', 'dbname']);
  for (const key of query.keys()) {
    if (!known.has(key)) throw new CentralConfigError(`the central URL has a parameter this app does not know: "${key}" (known: ${[...known].join(', ')})`);
  }
  const hostParam = query.get('host') ?? '';
  const socketDir = hostParam.startsWith('/') ? hostParam : parsed.hostname === '' && (env.PGHOST ?? '').startsWith('/') ? env.PGHOST! : null;
  const host = decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')) || (hostParam && !hostParam.startsWith('/') ? hostParam : '') || (env.PGHOST && !env.PGHOST.startsWith('/') ? env.PGHOST : '') || 'localhost';
  const portText = parsed.port || query.get('port') || env.PGPORT || '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CentralConfigError(`the central URL's port must be 1-65535 (got "${portText}")`);
  const user = decodeURIComponent(parsed.username) || query.get('user') || env.PGUSER || os.userInfo().username;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || query.get('dbname') || env.PGDATABASE || user;
  const sslText = query.get('sslmode') ?? env.PGSSLMODE ?? 'prefer';
  if (!(SSL_MODES as readonly string[]).includes(sslText)) throw new CentralConfigError(`sslmode must be one of ${SSL_MODES.join(', ')} (got "${sslText}")`);
  const timeoutText = query.get('connect_timeout') ?? env.PGCONNECT_TIMEOUT ?? '10';
  const connectTimeoutS = Math.max(2, Number(timeoutText) || 10);
  const password = decodeURIComponent(parsed.password) || query.get('password') || env.PGPASSWORD || passFilePassword({ host: socketDir ?? host, port, database, user }, env);
  return {
    host,
    port,
    socketDir,
    user,
    password: password || null,
    database,
    sslMode: sslText as SslMode,
    sslRootCert: query.get('sslrootcert') ?? env.PGSSLROOTCERT ?? null,
    connectTimeoutS,
    applicationName: query.get('application_name') ?? env.PGAPPNAME ?? 'operator-companion',
  };
}

/** libpq's password file: PGPASSFILE or ~/.pgpass, lines `host:port:database:user:password`, `*` matches any. */
function passFilePassword(target: { host: string; port: number; database: string; user: string }, env: NodeJS.ProcessEnv): string | null {
  const file = env.PGPASSFILE ?? path.join(os.homedir(), '.pgpass');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const wanted = [target.host === '' ? 'localhost' : target.host, String(target.port), target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = splitPassLine(line);
    if (fields.length < 5) continue;
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) return fields.slice(4).join(':');
  }
  return null;
}

/** A .pgpass line split at its unescaped colons (a backslash escapes the next character). */
function splitPassLine(line: string): string[] {
  const fields = [''];
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i] as string;
    if (ch === '\\' && i + 1 < line.length) {
      i += 1;
      fields[fields.length - 1] += line[i] as string;
    } else if (ch === ':') fields.push('');
    else fields[fields.length - 1] += ch;
  }
  return fields;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@').replace(/([?&]password=)[^&]*/, '$1***');
}

/** Where a config points, for messages: user@host:port/database. */
export function describeTarget(config: CentralConfig): string {
  return `${config.user}@${config.socketDir ?? config.host}:${config.port}/${config.database}`;
}

/** TLS options for node-postgres from libpq's sslmode; `prefer` and `allow` ask the server first. */
async function tlsOptions(config: CentralConfig): Promise<false | ConnectionOptions> {
  const ca = (): string => {
    try {
      return readFileSync(config.sslRootCert!, 'utf8');
    } catch (error) {
      throw new CentralConfigError(`cannot read the CA file ${config.sslRootCert}: ${(error as Error).message}`);
    }
  };
  switch (config.sslMode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
      // libpq tries TLS and falls back to plain; node-postgres cannot fall back, so ask the server first.
      return (await serverAcceptsTls(config)) === true ? { rejectUnauthorized: false } : false;
    case 'require':
      // As libpq: with a root certificate given, "require" also verifies the chain (like verify-ca).
      return config.sslRootCert ? { ca: ca(), checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    case 'verify-ca':
      return { ...(config.sslRootCert ? { ca: ca() } : {}), rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...(config.sslRootCert ? { ca: ca() } : {}), rejectUnauthorized: true };
  }
}

/** Integers (int8: counts, ms) come back as numbers: every value stored here fits in 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser,
};

/** No answer to a statement for this long: the connection is given up and made again. */
const QUERY_TIMEOUT_MS = 120_000;

/** Clients whose connection ended or failed while idle. */
const BROKEN = new WeakSet<pg.Client>();

async function openClient(config: CentralConfig, queryTimeoutMs = QUERY_TIMEOUT_MS): Promise<pg.Client> {
  const client = new pg.Client({
    host: config.socketDir ?? config.host,
    port: config.port,
    user: config.user,
    ...(config.password === null ? {} : { password: config.password }),
    database: config.database,
    ssl: await tlsOptions(config),
    connectionTimeoutMillis: config.connectTimeoutS * 1000,
    ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs } : {}),
    keepAlive: true,
    application_name: config.applicationName,
    types: TYPES,
  });
  // A connection that dies between statements must not crash the process; the next statement reconnects.
  client.on('error', () => BROKEN.add(client));
  client.on('end', () => BROKEN.add(client));
  try {
    await client.connect();
    // Just-in-time compilation costs tens of ms a statement and pays only on long analytic queries: the
    // session log's pages and totals are short, the export is bound by sending rows.
    await client.query('SET jit = off');
  } catch (error) {
    void client.end().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * One connection to the central database, made on first use and made again after it broke (a server restart,
 * a network cut). Statements on one Sql run one after another; a cursor gets a connection of its own.
 */
export interface Sql {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Answers the number of rows the statement changed. */
  execute(text: string, params?: unknown[]): Promise<number>;
  /** Runs `body` inside BEGIN … COMMIT (ROLLBACK on any error). */
  transaction<T>(body: (tx: Sql) => Promise<T>): Promise<T>;
  /** A read-only server-side cursor: the rows in batches of `rows`. */
  cursor<Row = Record<string, unknown>>(text: string, params: unknown[], rows: number): AsyncIterable<Row[]>;
  /**
   * Runs `COPY … TO STDOUT` on a connection of its own and hands each CopyData message (one row) to `onData` as it
   * arrives; a promise from `onData` pauses the reading until it settles. `onEnd` runs after the last message.
   */
  copyOut(statement: string, onData: (message: Buffer) => Promise<void> | null, onEnd: () => Promise<void> | null, signal?: AbortSignal): Promise<void>;
  end(): Promise<void>;
}

const CONNECTION_LOST = /Connection terminated|connection timeout|Query read timeout|ECONNRESET|EPIPE|not queryable/i;

export function connectCentral(config: CentralConfig): Sql {
  let current: Promise<pg.Client> | null = null;
  let resolved: pg.Client | null = null;
  let ended = false;
  const client = (): Promise<pg.Client> => {
    if (ended) return Promise.reject(new Error('the central connection is closed'));
    current ??= openClient(config).then(
      (c) => (resolved = c),
      (error: unknown) => {
        current = null;
        throw error;
      },
    );
    return current;
  };
  const drop = (broken: pg.Client): void => {
    if (resolved === broken) {
      current = null;
      resolved = null;
    }
    void broken.end().catch(() => {});
  };
  const on = async (c: pg.Client, text: string, params?: unknown[]): Promise<pg.QueryResult> => {
    try {
      return await c.query(text, params as unknown[] | undefined);
    } catch (error) {
      const e = error as { code?: unknown; message?: string };
      if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || /^(08|57P)/.test(e.code) || CONNECTION_LOST.test(e.message ?? '')) drop(c);
      throw error;
    }
  };
  const run = async (text: string, params?: unknown[]): Promise<pg.QueryResult> => {
    let c = await client();
    if (BROKEN.has(c)) {
      drop(c);
      c = await client();
    }
    return on(c, text, params);
  };
  const sql: Sql = {
    query: async <Row>(text: string, params?: unknown[]) => (await run(text, params)).rows as Row[],
    execute: async (text, params) => (await run(text, params)).rowCount ?? 0,
    transaction: async (body) => {
      // Every statement of the transaction on the same connection: if it breaks, the rest fail, none autocommits.
      let c = await client();
      if (BROKEN.has(c)) {
        drop(c);
        c = await client();
      }
      const tx: Sql = {
        ...sql,
        query: async <Row>(text: string, params?: unknown[]) => (await on(c, text, params)).rows as Row[],
        execute: async (text, params) => (await on(c, text, params)).rowCount ?? 0,
        transaction: (inner) => inner(tx),
      };
      await on(c, 'BEGIN');
      try {
        const result = await body(tx);
        await on(c, 'COMMIT');
        return result;
      } catch (error) {
        await on(c, 'ROLLBACK').catch(() => {});
        throw error;
      }
    },
    cursor: <Row>(text: string, params: unknown[], rows: number): AsyncIterable<Row[]> => ({
      async *[Symbol.asyncIterator]() {
        const own = await openClient(config);
        try {
          await own.query('BEGIN READ ONLY');
          await own.query(`DECLARE operator_companion_export NO SCROLL CURSOR FOR ${text}`, params);
          for (;;) {
            const batch = await own.query(`FETCH ${Math.max(1, Math.floor(rows))} FROM operator_companion_export`);
            if (batch.rows.length === 0) break;
            yield batch.rows as Row[];
          }
          await own.query('COMMIT');
        } finally {
          await own.end().catch(() => {});
        }
      },
    }),
    copyOut: async (statement, onData, onEnd, signal) => {
      // No statement timeout: a COPY lasts as long as the export (the connection's keepalive watches the link).
      const own = await openClient(config, 0);
      try {
        await runCopyOut(own, statement, onData, signal);
        await onEnd();
      } finally {
        await own.end().catch(() => {});
      }
    },
    end: async () => {
      ended = true;
      const c = await current?.catch(() => null);
      current = null;
      await c?.end().catch(() => {});
    },
  };
  return sql;
}

/**
 * `COPY … TO STDOUT` through node-postgres's custom-query hook (an object with `submit`, which the client calls
 * with its connection and then feeds the backend's messages): each CopyData message goes to `onData`, whose
 * promise pauses the socket (PostgreSQL then waits, its send buffer full) until the writer has room. An error
 * thrown by `onData`, or the signal, ends the connection, which also stops the COPY on the server.
 */
function runCopyOut(client: pg.Client, statement: string, onData: (message: Buffer) => Promise<void> | null, signal?: AbortSignal): Promise<void> {
  const connection = (client as unknown as { connection: { stream: NodeJS.ReadableStream & { destroy(): void }; query(text: string): void } }).connection;
  return new Promise<void>((resolve, reject) => {
    let failure: unknown = null;
    let paused = 0;
    const fail = (error: unknown): void => {
      failure ??= error;
      connection.stream.destroy();
    };
    const onAbort = (): void => fail(signal?.reason ?? new Error('cancelled'));
    if (!signal?.aborted) signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (error: unknown): void => {
      signal?.removeEventListener('abort', onAbort);
      if (failure !== null || error) reject(failure ?? error);
      else resolve();
    };
    const query = {
      submit(c: { query(text: string): void }): void {
        c.query(statement);
      },
      handleCopyData(message: { chunk: Buffer }): void {
        if (failure !== null) return;
        try {
          const wait = onData(message.chunk);
          if (wait) {
            if (paused === 0) connection.stream.pause();
            paused += 1;
            wait.then(
              () => {
                paused -= 1;
                if (paused === 0 && failure === null) connection.stream.resume();
              },
              fail,
            );
          }
        } catch (error) {
          fail(error);
        }
      },
      handleCommandComplete(): void {},
      handleRowDescription(): void {},
      handleDataRow(): void {},
      handlePortalSuspended(): void {},
      handleEmptyQuery(): void {},
      handleCopyInResponse(c: { sendCopyFail(message: string): void }): void {
        c.sendCopyFail('not a COPY FROM');
      },
      handleError(error: unknown): void {
        settle(error);
      },
      handleReadyForQuery(): void {
        settle(null);
      },
    };
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    client.query(query as unknown as pg.QueryConfig);
  });
}

/** Does the server accept TLS at all? (libpq's SSLRequest: one byte back, S or N.) */
export function serverAcceptsTls(config: CentralConfig, timeoutMs = 3_000): Promise<boolean | null> {
  return new Promise((resolve) => {
    const socket = config.socketDir ? net.connect(path.join(config.socketDir, `.s.PGSQL.${config.port}`)) : net.connect(config.port, config.host);
    const done = (answer: boolean | null): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('error', () => done(null));
    socket.once('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));
    socket.once('data', (data) => done(data[0] === 0x53));
  });
}

const TLS_REQUIRED: ReadonlySet<SslMode> = new Set(['require', 'verify-ca', 'verify-full']);

/**
 * One line for any failure to reach or use the central database: what happened and what to check. Never
 * includes the password.
 */
export async function describeCentralError(error: unknown, config: CentralConfig): Promise<string> {
  const target = describeTarget(config);
  if (error instanceof CentralConfigError) return error.message;
  const e = error as { code?: string; message?: string; severity?: string; routine?: string };
  const code = e.code ?? '';
  const message = (e.message ?? String(error)).split('\n')[0] ?? '';
  switch (code) {
    case '28P01':
      return `PostgreSQL at ${target} refused the password for "${config.user}" (check the URL's password, PGPASSWORD or ~/.pgpass)`;
    case '28000':
      return `PostgreSQL at ${target} refused the login: ${message} (check the user and the server's pg_hba.conf)`;
    case '3D000':
      return `PostgreSQL at ${target}: database "${config.database}" does not exist`;
    case '42501':
      return `PostgreSQL at ${target}: ${message} (this login lacks the privilege; writers need the operator_companion_writer role)`;
    case '57P01':
    case '57P02':
    case '57P03':
      return `PostgreSQL at ${target} is shutting down or starting up (${message}); will retry`;
    case 'ECONNREFUSED':
      return `cannot reach PostgreSQL at ${target}: connection refused (is it running and listening on that address?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach PostgreSQL at ${target}: host "${config.host}" not found`;
    case 'ETIMEDOUT':
      return `cannot reach PostgreSQL at ${target}: no answer within ${config.connectTimeoutS} s`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach PostgreSQL at ${target}: host unreachable`;
    case 'ECONNRESET':
    case 'EPIPE':
      break;
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `PostgreSQL at ${target}: the server's TLS certificate is not trusted (${message}); give its CA with sslrootcert=FILE or PGSSLROOTCERT (sslmode=${config.sslMode})`;
    default:
      if (/^[0-9A-Z]{5}$/.test(code)) return `PostgreSQL at ${target}: ${message} (${code})`;
  }
  if (/does not support SSL/i.test(message)) {
    return `PostgreSQL at ${target} does not accept TLS connections, but sslmode=${config.sslMode} requires TLS (enable ssl on the server, or use sslmode=prefer)`;
  }
  if (/connection timeout|timeout expired/i.test(message)) return `cannot reach PostgreSQL at ${target}: no answer within ${config.connectTimeoutS} s`;
  if (/Query read timeout/i.test(message)) return `PostgreSQL at ${target} did not answer a statement within ${QUERY_TIMEOUT_MS / 1000} s; will retry`;
  // A dropped connection: when TLS was demanded, say whether the server offers it at all.
  if (TLS_REQUIRED.has(config.sslMode) && (await serverAcceptsTls(config)) === false) {
    return `PostgreSQL at ${target} does not accept TLS connections, but sslmode=${config.sslMode} requires TLS (enable ssl on the server, or use sslmode=prefer)`;
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /Connection terminated|not queryable/i.test(message)) {
    return `the connection to PostgreSQL at ${target} was lost (${message}); will retry`;
  }
  return `PostgreSQL at ${target}: ${message}`;
}
