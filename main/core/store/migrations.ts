// Schema migrations, applied in order; `PRAGMA user_version` holds how many have run.
// Append only: never edit a migration that has shipped. Times are integers, ms since the epoch, UTC.

export const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE portals (
    id            INTEGER PRIMARY KEY,
    member_id     TEXT NOT NULL UNIQUE,
    domain        TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL
  );

  CREATE TABLE operators (
    id        INTEGER PRIMARY KEY,
    portal_id INTEGER NOT NULL REFERENCES portals(id),
    user_id   TEXT NOT NULL,
    name      TEXT,
    UNIQUE (portal_id, user_id)
  );

  -- Approved (origin, portal, operator) triples. Only a hash of the token is kept.
  CREATE TABLE pairings (
    id           INTEGER PRIMARY KEY,
    origin       TEXT NOT NULL,
    portal_id    INTEGER NOT NULL REFERENCES portals(id),
    operator_id  INTEGER NOT NULL REFERENCES operators(id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );
  CREATE INDEX pairings_by_client ON pairings (origin, portal_id, operator_id);

  -- One row per worker frame (a Bitrix24 tab or slider, identified by APP_SID).
  CREATE TABLE frames (
    id              INTEGER PRIMARY KEY,
    portal_id       INTEGER NOT NULL REFERENCES portals(id),
    operator_id     INTEGER NOT NULL REFERENCES operators(id),
    app_sid         TEXT NOT NULL,
    origin          TEXT NOT NULL,
    uri             TEXT,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    current_call_id INTEGER REFERENCES calls(id),
    first_seen_at   INTEGER NOT NULL,
    UNIQUE (portal_id, app_sid)
  );

  -- Every socket a frame opened, for the audit trail.
  CREATE TABLE connections (
    id              INTEGER PRIMARY KEY,
    frame_id        INTEGER NOT NULL REFERENCES frames(id),
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER,
    close_code      INTEGER,
    clock_offset_ms INTEGER NOT NULL
  );
  CREATE INDEX connections_by_frame ON connections (frame_id, opened_at);

  CREATE TABLE calls (
    id              INTEGER PRIMARY KEY,
    portal_id       INTEGER NOT NULL REFERENCES portals(id),
    operator_id     INTEGER NOT NULL REFERENCES operators(id),
    owner_frame_id  INTEGER NOT NULL REFERENCES frames(id),
    call_id         TEXT NOT NULL,
    phone_number    TEXT,
    direction       TEXT,
    line_number     TEXT,
    crm_entity_type TEXT,
    crm_entity_id   TEXT,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    muted_ms        INTEGER NOT NULL DEFAULT 0,
    mute_count      INTEGER NOT NULL DEFAULT 0,
    longest_mute_ms INTEGER NOT NULL DEFAULT 0,
    held_ms         INTEGER NOT NULL DEFAULT 0,
    hold_count      INTEGER NOT NULL DEFAULT 0,
    gap_ms          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (portal_id, call_id)
  );
  CREATE INDEX calls_by_start ON calls (started_at);
  CREATE INDEX calls_by_operator_start ON calls (operator_id, started_at);
  CREATE INDEX calls_open ON calls (ended_at) WHERE ended_at IS NULL;

  CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    frame_id    INTEGER NOT NULL REFERENCES frames(id),
    call_id     INTEGER REFERENCES calls(id),
    seq         INTEGER,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    payload     TEXT,
    client_at   INTEGER,
    at          INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX events_by_call ON events (call_id, at, id);
  CREATE INDEX events_by_time ON events (at);
  `,
  // 2: pairing requests the operator blocked, remembered across restarts.
  `
  CREATE TABLE pairing_blocks (
    origin      TEXT NOT NULL,
    portal_id   INTEGER NOT NULL REFERENCES portals(id),
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (origin, portal_id, operator_id)
  );
  `,
  // 3: the supervisor's "muted more than N %" filter and sort, served by an index on the muted share.
  `
  CREATE INDEX calls_by_muted_share ON calls ((muted_ms * 1.0 / max(duration_ms, 1)));
  `,
  // 4: the real microphone's muted time per call, next to the card's; NULL where the app controlled no microphone.
  `
  ALTER TABLE calls ADD COLUMN mic_muted_ms INTEGER;
  `,
  // 5: sync to the central PostgreSQL (docs/central.md). Every change to what a call's export row shows gives the
  // call the next change number (by trigger, so no writer can forget it); the sync sends calls in that order
  // and keeps, per central database, how far it got (events by id, calls by change number). This PC's install id.
  `
  ALTER TABLE calls ADD COLUMN changed_seq INTEGER;
  UPDATE calls SET changed_seq = id;
  CREATE INDEX calls_by_changed_seq ON calls (changed_seq);
  CREATE TRIGGER calls_changed_on_insert AFTER INSERT ON calls
  BEGIN
    UPDATE calls SET changed_seq = (SELECT coalesce(max(changed_seq), 0) + 1 FROM calls) WHERE id = NEW.id;
  END;
  CREATE TRIGGER calls_changed_on_update AFTER UPDATE OF operator_id, call_id, phone_number, direction, line_number, crm_entity_type, crm_entity_id, started_at, ended_at, end_reason, duration_ms, muted_ms, mute_count, longest_mute_ms, held_ms, hold_count, gap_ms, mic_muted_ms ON calls
    WHEN OLD.operator_id IS NOT NEW.operator_id OR OLD.call_id IS NOT NEW.call_id OR
      OLD.phone_number IS NOT NEW.phone_number OR OLD.direction IS NOT NEW.direction OR
      OLD.line_number IS NOT NEW.line_number OR OLD.crm_entity_type IS NOT NEW.crm_entity_type OR
      OLD.crm_entity_id IS NOT NEW.crm_entity_id OR OLD.started_at IS NOT NEW.started_at OR
      OLD.ended_at IS NOT NEW.ended_at OR OLD.end_reason IS NOT NEW.end_reason OR
      OLD.duration_ms IS NOT NEW.duration_ms OR OLD.muted_ms IS NOT NEW.muted_ms OR
      OLD.mute_count IS NOT NEW.mute_count OR OLD.longest_mute_ms IS NOT NEW.longest_mute_ms OR
      OLD.held_ms IS NOT NEW.held_ms OR OLD.hold_count IS NOT NEW.hold_count OR
      OLD.gap_ms IS NOT NEW.gap_ms OR OLD.mic_muted_ms IS NOT NEW.mic_muted_ms
  BEGIN
    UPDATE calls SET changed_seq = (SELECT coalesce(max(changed_seq), 0) + 1 FROM calls) WHERE id = NEW.id;
  END;
  CREATE TABLE install_identity (
    only_row   INTEGER PRIMARY KEY CHECK (only_row = 1),
    install_id TEXT NOT NULL
  );
  CREATE TABLE central_sync (
    central_id   TEXT PRIMARY KEY,
    events_after INTEGER NOT NULL DEFAULT 0,
    calls_after  INTEGER NOT NULL DEFAULT 0,
    last_sync_at INTEGER
  );
  `,
  // 6: the session log at a million calls (issue 14): an index for each sort of the calls table, so a page's ids
  // come from a covering index scan instead of sorting every call (the row id, the tie-breaker, ends every index);
  // operators by name, walked in order with calls_by_operator_start for the sort by operator.
  `
  CREATE INDEX calls_by_duration ON calls (duration_ms);
  CREATE INDEX calls_by_muted ON calls (muted_ms);
  CREATE INDEX calls_by_held ON calls (held_ms);
  CREATE INDEX calls_by_gap ON calls (gap_ms);
  CREATE INDEX calls_by_phone ON calls (phone_number);
  CREATE INDEX operators_by_name ON operators (name);
  `,
  // 7: a call's figures are computed in memory as its events are stored, and written to the calls table just after
  // the ack, without an fsync of their own (issue 14). Every event up to this id has its call's figures written;
  // after a crash, the calls of later events are recomputed from their events when the store opens.
  `
  CREATE TABLE call_figures_written (
    only_row         INTEGER PRIMARY KEY CHECK (only_row = 1),
    through_event_id INTEGER NOT NULL
  );
  INSERT INTO call_figures_written (only_row, through_event_id) SELECT 1, coalesce(max(id), 0) FROM events;
  `,
];
