// `central init` (the administrator's: roles, schema, migrations) and the companion's check of the schema it
// meets (never altering it).
import { randomBytes } from 'node:crypto';
import type { Sql } from './connection.ts';
import { CENTRAL_MIGRATIONS, SCHEMA, SUPERVISOR_ROLE, WRITER_ROLE } from './migrations.ts';

export class CentralSchemaError extends Error {
  /** A newer schema than this code knows: retrying will not help until the app is updated. */
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = 'CentralSchemaError';
    this.permanent = permanent;
  }
}

export const KNOWN_CENTRAL_VERSION = CENTRAL_MIGRATIONS.length;

function newerSchema(found: number): CentralSchemaError {
  return new CentralSchemaError(
    `the central database has schema version ${found}, newer than this Operator Companion knows (up to ${KNOWN_CENTRAL_VERSION}); ` +
      'update Operator Companion on this PC (nothing was changed)',
    true,
  );
}

/** The schema version, or null where `central init` never ran. */
export async function centralSchemaVersion(sql: Sql): Promise<number | null> {
  const [exists] = await sql.query<{ present: boolean }>(`SELECT to_regclass('${SCHEMA}.schema_version') IS NOT NULL AS present`);
  if (!exists?.present) return null;
  const [row] = await sql.query<{ version: number | null }>(`SELECT max(version)::int AS version FROM ${SCHEMA}.schema_version`);
  return row?.version ?? 0;
}

export interface InitResult {
  from: number;
  to: number;
}

/**
 * Creates or upgrades the schema and the two group roles, in one transaction (a failure changes nothing),
 * serialised against a concurrent init by an advisory lock. A newer schema than this code knows is refused.
 * `upTo` stops at an older version (for tests of an upgrade).
 */
export async function centralInit(sql: Sql, appVersion: string, upTo = KNOWN_CENTRAL_VERSION): Promise<InitResult> {
  return sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('${SCHEMA}.init'))`);
    await tx.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${WRITER_ROLE}') THEN CREATE ROLE ${WRITER_ROLE} NOLOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${SUPERVISOR_ROLE}') THEN CREATE ROLE ${SUPERVISOR_ROLE} NOLOGIN; END IF;
      END $$;
      CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
      REVOKE ALL ON SCHEMA ${SCHEMA} FROM PUBLIC;
      GRANT USAGE ON SCHEMA ${SCHEMA} TO ${WRITER_ROLE}, ${SUPERVISOR_ROLE};
      CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_version (
        version     integer PRIMARY KEY,
        applied_at  timestamptz NOT NULL DEFAULT now(),
        app_version text
      );
      GRANT SELECT ON ${SCHEMA}.schema_version TO ${WRITER_ROLE}, ${SUPERVISOR_ROLE};
    `);
    const [row] = await tx.query<{ version: number }>(`SELECT coalesce(max(version), 0)::int AS version FROM ${SCHEMA}.schema_version`);
    const from = row?.version ?? 0;
    if (from > KNOWN_CENTRAL_VERSION) throw newerSchema(from);
    const to = Math.max(from, Math.min(upTo, KNOWN_CENTRAL_VERSION));
    for (let version = from + 1; version <= to; version += 1) {
      await tx.query(CENTRAL_MIGRATIONS[version - 1] as string);
      await tx.query(`INSERT INTO ${SCHEMA}.schema_version (version, app_version) VALUES ($1, $2)`, [version, appVersion]);
    }
    return { from, to };
  });
}

/**
 * What a companion checks before syncing: the schema exists and is the version it knows. Answers the central
 * database's id (the key of the local sync cursor).
 */
export async function checkCentralSchema(sql: Sql): Promise<{ centralId: string }> {
  const version = await centralSchemaVersion(sql);
  if (version === null || version === 0) {
    throw new CentralSchemaError('the central database has no Operator Companion schema yet; its administrator runs `operator-companion central init --url URL` once', false);
  }
  if (version > KNOWN_CENTRAL_VERSION) throw newerSchema(version);
  if (version < KNOWN_CENTRAL_VERSION) {
    throw new CentralSchemaError(
      `the central database has schema version ${version}, older than this Operator Companion's ${KNOWN_CENTRAL_VERSION}; ` +
        'its administrator runs `operator-companion central init --url URL` to upgrade it (a companion never alters it)',
      false,
    );
  }
  const [about] = await sql.query<{ centralId: string }>(`SELECT central_id::text AS "centralId" FROM ${SCHEMA}.about LIMIT 1`);
  if (!about) throw new CentralSchemaError('the central database lacks its identity row (operator_companion.about); run `central init` again', false);
  return about;
}

export const LOGIN_ROLES = { writer: WRITER_ROLE, supervisor: SUPERVISOR_ROLE } as const;

/**
 * Creates a login (or sets a new password on an existing one) in the writer or supervisor group. Returns the
 * password: the one given, or a random one.
 */
export async function addLogin(sql: Sql, name: string, role: keyof typeof LOGIN_ROLES, password?: string): Promise<{ password: string; created: boolean }> {
  const secret = password ?? randomBytes(18).toString('base64url');
  return sql.transaction(async (tx) => {
    const [existing] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [name]);
    const created = (existing?.n ?? 0) === 0;
    const [statement] = await tx.query<{ text: string }>(
      created ? 'SELECT format($$CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I$$, $1::text, $2::text, $3::text) AS text' : 'SELECT format($$ALTER ROLE %I LOGIN PASSWORD %L$$, $1::text, $2::text) AS text',
      created ? [name, secret, LOGIN_ROLES[role]] : [name, secret],
    );
    await tx.query(statement!.text);
    if (!created) {
      const [grant] = await tx.query<{ text: string }>('SELECT format($$GRANT %I TO %I$$, $1::text, $2::text) AS text', [LOGIN_ROLES[role], name]);
      await tx.query(grant!.text);
    }
    return { password: secret, created };
  });
}
