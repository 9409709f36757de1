// The central PostgreSQL schema, as ordered SQL migrations; `operator_companion.schema_version` records which
// have run. Append only: never edit a migration that has shipped. `central init` applies them (and creates the
// roles first); a companion only checks the version and never alters the schema.
//
// Every row carries the install id of the PC that recorded it and the natural keys of its local store, so a
// row sent twice is stored once, and the central tables are exactly the union of every PC's log. Times are
// integers, ms since the epoch (UTC), as in the local store, so the same export columns read both.
//
// Roles (created by `central init`, NOLOGIN groups; logins are made members):
// - operator_companion_writer: for companions. Row-level security lets a login see, insert and update only the
//   rows of installs registered to that login (each PC has its own login; see docs/central.md); no DELETE,
//   no TRUNCATE anywhere.
// - operator_companion_supervisor: reads everything, writes nothing.

export const SCHEMA = 'operator_companion';
export const WRITER_ROLE = 'operator_companion_writer';
export const SUPERVISOR_ROLE = 'operator_companion_supervisor';

/** Rows of the installs registered to the current login: the key of every writer policy. */
const MINE = `install_id IN (SELECT i.install_id FROM ${SCHEMA}.installs i WHERE i.login = current_user)`;

function writerPolicies(table: string): string {
  return `
  ALTER TABLE ${SCHEMA}.${table} ENABLE ROW LEVEL SECURITY;
  GRANT SELECT, INSERT, UPDATE ON ${SCHEMA}.${table} TO ${WRITER_ROLE};
  GRANT SELECT ON ${SCHEMA}.${table} TO ${SUPERVISOR_ROLE};
  CREATE POLICY ${table}_writer_read ON ${SCHEMA}.${table} FOR SELECT TO ${WRITER_ROLE} USING (${MINE});
  CREATE POLICY ${table}_writer_insert ON ${SCHEMA}.${table} FOR INSERT TO ${WRITER_ROLE} WITH CHECK (${MINE});
  CREATE POLICY ${table}_writer_update ON ${SCHEMA}.${table} FOR UPDATE TO ${WRITER_ROLE} USING (${MINE}) WITH CHECK (${MINE});
  CREATE POLICY ${table}_supervisor_read ON ${SCHEMA}.${table} FOR SELECT TO ${SUPERVISOR_ROLE} USING (true);
  `;
}

export const CENTRAL_MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  -- This database's identity: a companion keeps one sync cursor per central database.
  CREATE TABLE ${SCHEMA}.about (
    central_id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
  );
  INSERT INTO ${SCHEMA}.about DEFAULT VALUES;
  GRANT SELECT ON ${SCHEMA}.about TO ${WRITER_ROLE}, ${SUPERVISOR_ROLE};

  -- One row per companion (PC): its install id, claimed by the login that first synced it.
  CREATE TABLE ${SCHEMA}.installs (
    install_id    uuid PRIMARY KEY,
    login         name NOT NULL DEFAULT current_user,
    hostname      text,
    app_version   text,
    first_sync_at timestamptz NOT NULL DEFAULT now(),
    last_sync_at  timestamptz NOT NULL DEFAULT now()
  );
  ALTER TABLE ${SCHEMA}.installs ENABLE ROW LEVEL SECURITY;
  GRANT SELECT ON ${SCHEMA}.installs TO ${WRITER_ROLE}, ${SUPERVISOR_ROLE};
  GRANT INSERT (install_id, hostname, app_version) ON ${SCHEMA}.installs TO ${WRITER_ROLE};
  GRANT UPDATE (hostname, app_version, last_sync_at) ON ${SCHEMA}.installs TO ${WRITER_ROLE};
  CREATE POLICY installs_writer_read ON ${SCHEMA}.installs FOR SELECT TO ${WRITER_ROLE} USING (login = current_user);
  CREATE POLICY installs_writer_insert ON ${SCHEMA}.installs FOR INSERT TO ${WRITER_ROLE} WITH CHECK (login = current_user);
  CREATE POLICY installs_writer_update ON ${SCHEMA}.installs FOR UPDATE TO ${WRITER_ROLE} USING (login = current_user) WITH CHECK (login = current_user);
  CREATE POLICY installs_supervisor_read ON ${SCHEMA}.installs FOR SELECT TO ${SUPERVISOR_ROLE} USING (true);

  CREATE TABLE ${SCHEMA}.portals (
    install_id    uuid NOT NULL,
    member_id     text NOT NULL,
    domain        text NOT NULL,
    first_seen_at bigint NOT NULL,
    PRIMARY KEY (install_id, member_id)
  );
  ${writerPolicies('portals')}

  CREATE TABLE ${SCHEMA}.operators (
    install_id uuid NOT NULL,
    member_id  text NOT NULL,
    user_id    text NOT NULL,
    name       text,
    PRIMARY KEY (install_id, member_id, user_id)
  );
  ${writerPolicies('operators')}

  CREATE TABLE ${SCHEMA}.calls (
    install_id      uuid NOT NULL,
    member_id       text NOT NULL,
    call_id         text NOT NULL,
    local_id        bigint NOT NULL,
    user_id         text NOT NULL,
    phone_number    text,
    direction       text,
    line_number     text,
    crm_entity_type text,
    crm_entity_id   text,
    started_at      bigint NOT NULL,
    ended_at        bigint,
    end_reason      text,
    duration_ms     bigint NOT NULL,
    muted_ms        bigint NOT NULL,
    mute_count      integer NOT NULL,
    longest_mute_ms bigint NOT NULL,
    held_ms         bigint NOT NULL,
    hold_count      integer NOT NULL,
    gap_ms          bigint NOT NULL,
    mic_muted_ms    bigint,
    synced_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (install_id, member_id, call_id)
  );
  CREATE INDEX calls_by_start ON ${SCHEMA}.calls (started_at, install_id, local_id);
  CREATE INDEX calls_by_operator_start ON ${SCHEMA}.calls (user_id, started_at);
  ${writerPolicies('calls')}

  CREATE TABLE ${SCHEMA}.events (
    install_id  uuid NOT NULL,
    event_id    text NOT NULL,
    local_id    bigint NOT NULL,
    member_id   text NOT NULL,
    user_id     text NOT NULL,
    app_sid     text NOT NULL,
    call_id     text,
    seq         bigint,
    name        text NOT NULL,
    source      text NOT NULL,
    payload     text,
    client_at   bigint,
    at          bigint NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (install_id, event_id)
  );
  CREATE INDEX events_by_time ON ${SCHEMA}.events (at, install_id, local_id);
  ${writerPolicies('events')}
  `,
  // 2: the session log window's whole-team view (central-log.ts). Every call gets a number of its own in the
  // central database (a PC's row id is unique only on that PC): the window's key for a row and the tie-break of
  // every sort. An identity column needs no grant on its sequence, and an upsert keeps it. One index per sort
  // of the window, so a page comes from an index scan (the start-time sort uses calls_by_start); NULL phone
  // numbers first, as SQLite sorts them. A call's events by call, for its timeline and the per-day totals.
  `
  ALTER TABLE ${SCHEMA}.calls ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
  CREATE UNIQUE INDEX calls_by_id ON ${SCHEMA}.calls (id);
  CREATE INDEX calls_by_phone ON ${SCHEMA}.calls (phone_number NULLS FIRST, id);
  CREATE INDEX calls_by_duration ON ${SCHEMA}.calls (duration_ms, id);
  CREATE INDEX calls_by_muted ON ${SCHEMA}.calls (muted_ms, id);
  CREATE INDEX calls_by_muted_share ON ${SCHEMA}.calls ((muted_ms::float8 / greatest(duration_ms, 1)), id);
  CREATE INDEX calls_by_held ON ${SCHEMA}.calls (held_ms, id);
  CREATE INDEX calls_by_gap ON ${SCHEMA}.calls (gap_ms, id);
  CREATE INDEX events_by_call ON ${SCHEMA}.events (install_id, member_id, call_id, at, local_id);
  `,
  // 3: the whole-team view's pages from index-only scans (central-log.ts picks a page's ids from the index of its
  // sort, then reads those calls): the start-time index carries the central id, the muted-share index the two
  // columns its expression reads (PostgreSQL answers an expression index from the index alone only then), and
  // each operator's calls by start time, keyed as the operators table is (the sort by operator walks operators
  // in name order, each one's calls from this index).
  `
  DROP INDEX ${SCHEMA}.calls_by_start;
  CREATE INDEX calls_by_start ON ${SCHEMA}.calls (started_at, install_id, local_id) INCLUDE (id);
  DROP INDEX ${SCHEMA}.calls_by_muted_share;
  CREATE INDEX calls_by_muted_share ON ${SCHEMA}.calls ((muted_ms::float8 / greatest(duration_ms, 1)), id) INCLUDE (muted_ms, duration_ms);
  CREATE INDEX calls_by_operator ON ${SCHEMA}.calls (install_id, member_id, user_id, started_at, id);
  `,
];
