// Pushes this PC's log to the central PostgreSQL, in the background. The local store stays the source of truth:
// the sync only reads it (in small batches, so the event loop that acknowledges events is never held for long)
// and keeps, in the store itself, how far it got per central database. Every batch is one PostgreSQL transaction
// of upserts keyed by (install id, natural key), so a batch sent twice (a commit whose answer was lost, a crash
// before the cursor was saved) is stored once; a call whose figures changed gets a new change number (migration
// 5's trigger) and is sent again, replacing its row. Failures back off (1 s doubling to a minute); once the
// server answers again the backlog goes at full speed, batch after batch.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type Database from 'better-sqlite3';
import { connectCentral, describeCentralError, describeTarget, type CentralConfig, type Sql } from './connection.ts';
import { SCHEMA } from './migrations.ts';
import { CentralSchemaError, checkCentralSchema } from './schema.ts';
import type { CentralStatusView } from '../../../common/ipc.ts';

/** What `status --json` and the status window show of the sync: one shape, defined with the windows' types. */
export type CentralSyncStatus = CentralStatusView;

export interface CentralSyncOptions {
  /** The store's connection (read, and the cursor written). */
  db: Database.Database;
  config: CentralConfig;
  appVersion: string;
  /** Rows per batch and table. */
  batchRows?: number;
  /** Pause between checks once caught up. */
  idleMs?: number;
  backoff?: { minMs: number; maxMs: number };
  now?: () => number;
  log?: (entry: { event: string } & Record<string, unknown>) => void;
}

interface CallOut {
  local_id: number;
  changed_seq: number;
  member_id: string;
  call_id: string;
  user_id: string;
  phone_number: string | null;
  direction: string | null;
  line_number: string | null;
  crm_entity_type: string | null;
  crm_entity_id: string | null;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  duration_ms: number;
  muted_ms: number;
  mute_count: number;
  longest_mute_ms: number;
  held_ms: number;
  hold_count: number;
  gap_ms: number;
  mic_muted_ms: number | null;
}

interface EventOut {
  local_id: number;
  event_id: string;
  member_id: string;
  user_id: string;
  app_sid: string;
  call_id: string | null;
  seq: number | null;
  name: string;
  source: string;
  payload: string | null;
  client_at: number | null;
  at: number;
  received_at: number;
}

const CALL_FIELDS = `member_id text, call_id text, local_id bigint, user_id text, phone_number text, direction text, line_number text,
  crm_entity_type text, crm_entity_id text, started_at bigint, ended_at bigint, end_reason text, duration_ms bigint, muted_ms bigint,
  mute_count integer, longest_mute_ms bigint, held_ms bigint, hold_count integer, gap_ms bigint, mic_muted_ms bigint`;
const CALL_NAMES = CALL_FIELDS.split(',').map((f) => f.trim().split(' ')[0] as string);
const EVENT_FIELDS = `event_id text, local_id bigint, member_id text, user_id text, app_sid text, call_id text, seq bigint, name text,
  source text, payload text, client_at bigint, at bigint, received_at bigint`;
const EVENT_NAMES = EVENT_FIELDS.split(',').map((f) => f.trim().split(' ')[0] as string);

/** The statements of one batch; `$1` is the install id, `$2` the rows as JSON. */
export const UPSERT = {
  install: `INSERT INTO ${SCHEMA}.installs (install_id, hostname, app_version) VALUES ($1, $2, $3)
    ON CONFLICT (install_id) DO UPDATE SET hostname = EXCLUDED.hostname, app_version = EXCLUDED.app_version, last_sync_at = now()`,
  portals: `INSERT INTO ${SCHEMA}.portals (install_id, member_id, domain, first_seen_at)
    SELECT $1::uuid, x.* FROM jsonb_to_recordset($2::text::jsonb) AS x(member_id text, domain text, first_seen_at bigint)
    ON CONFLICT (install_id, member_id) DO UPDATE SET domain = EXCLUDED.domain, first_seen_at = EXCLUDED.first_seen_at`,
  operators: `INSERT INTO ${SCHEMA}.operators (install_id, member_id, user_id, name)
    SELECT $1::uuid, x.* FROM jsonb_to_recordset($2::text::jsonb) AS x(member_id text, user_id text, name text)
    ON CONFLICT (install_id, member_id, user_id) DO UPDATE SET name = EXCLUDED.name`,
  calls: `INSERT INTO ${SCHEMA}.calls (install_id, ${CALL_NAMES.join(', ')})
    SELECT $1::uuid, x.* FROM jsonb_to_recordset($2::text::jsonb) AS x(${CALL_FIELDS})
    ON CONFLICT (install_id, member_id, call_id) DO UPDATE SET
    ${CALL_NAMES.filter((n) => n !== 'member_id' && n !== 'call_id').map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, synced_at = now()`,
  events: `INSERT INTO ${SCHEMA}.events (install_id, ${EVENT_NAMES.join(', ')})
    SELECT $1::uuid, x.* FROM jsonb_to_recordset($2::text::jsonb) AS x(${EVENT_FIELDS})
    ON CONFLICT (install_id, event_id) DO NOTHING`,
};

/** This PC's install id, created on first use (kept in the store, so it survives restarts and upgrades). */
export function installId(db: Database.Database): string {
  const row = db.prepare<[], { id: string }>('SELECT install_id AS id FROM install_identity').get();
  if (row) return row.id;
  const id = randomUUID();
  db.prepare('INSERT OR IGNORE INTO install_identity (only_row, install_id) VALUES (1, ?)').run(id);
  return (db.prepare<[], { id: string }>('SELECT install_id AS id FROM install_identity').get() as { id: string }).id;
}

interface Cursor {
  eventsAfter: number;
  callsAfter: number;
  lastSyncAt: number | null;
}

export class CentralSync {
  private readonly options: CentralSyncOptions;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly batchRows: number;
  private readonly stmts;
  private sql: Sql | null = null;
  private centralId: string | null = null;
  /** The central database this run registered its install with. */
  private registered: string | null = null;
  private readonly install: string;
  private stopped = false;
  private running = true;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopWait: (() => void) | null = null;
  private failures = 0;
  private lastError: string | null = null;
  private failingSince: number | null = null;
  private lastSyncAt: number | null = null;
  private readonly idleWaiters = new Set<() => void>();
  private waitingCache: { at: number; n: number } | null = null;

  constructor(options: CentralSyncOptions) {
    this.options = options;
    this.db = options.db;
    this.now = options.now ?? Date.now;
    this.batchRows = options.batchRows ?? 1_000;
    this.install = installId(this.db);
    const db = this.db;
    this.stmts = {
      cursor: db.prepare<[string], Cursor>('SELECT events_after AS eventsAfter, calls_after AS callsAfter, last_sync_at AS lastSyncAt FROM central_sync WHERE central_id = ?'),
      saveCursor: db.prepare(
        `INSERT INTO central_sync (central_id, events_after, calls_after, last_sync_at) VALUES (@id, @events, @calls, @at)
         ON CONFLICT (central_id) DO UPDATE SET events_after = max(events_after, @events), calls_after = max(calls_after, @calls), last_sync_at = @at`,
      ),
      portals: db.prepare<[], { member_id: string; domain: string; first_seen_at: number }>('SELECT member_id, domain, first_seen_at FROM portals'),
      operators: db.prepare<[], { member_id: string; user_id: string; name: string | null }>(
        'SELECT p.member_id, o.user_id, o.name FROM operators o JOIN portals p ON p.id = o.portal_id',
      ),
      calls: db.prepare<[number, number], CallOut>(
        `SELECT c.id AS local_id, c.changed_seq, p.member_id, c.call_id, o.user_id, c.phone_number, c.direction, c.line_number,
                c.crm_entity_type, c.crm_entity_id, c.started_at, c.ended_at, c.end_reason, c.duration_ms, c.muted_ms, c.mute_count,
                c.longest_mute_ms, c.held_ms, c.hold_count, c.gap_ms, c.mic_muted_ms
         FROM calls c JOIN portals p ON p.id = c.portal_id JOIN operators o ON o.id = c.operator_id
         WHERE c.changed_seq > ? ORDER BY c.changed_seq LIMIT ?`,
      ),
      events: db.prepare<[number, number], EventOut>(
        `SELECT e.id AS local_id, e.event_id, p.member_id, o.user_id, f.app_sid, c.call_id, e.seq, e.name, e.source, e.payload,
                e.client_at, e.at, e.received_at
         FROM events e JOIN frames f ON f.id = e.frame_id JOIN portals p ON p.id = f.portal_id
         JOIN operators o ON o.id = f.operator_id LEFT JOIN calls c ON c.id = e.call_id
         WHERE e.id > ? ORDER BY e.id LIMIT ?`,
      ),
      waiting: db.prepare<[number, number], { n: number }>(
        'SELECT (SELECT count(*) FROM events WHERE id > ?) + (SELECT count(*) FROM calls WHERE changed_seq > ?) AS n',
      ),
      newest: db.prepare<[], { lastSyncAt: number | null }>('SELECT max(last_sync_at) AS lastSyncAt FROM central_sync'),
    };
    this.lastSyncAt = this.stmts.newest.get()?.lastSyncAt ?? null;
  }

  get installId(): string {
    return this.install;
  }

  /** Starts the background loop. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Asks for a sync now instead of at the next check (after the store took new rows). */
  nudge(): void {
    this.wake?.();
  }

  /** Stops after the batch in flight (if any); closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWait?.();
    await this.loop;
    this.loop = null;
    await this.sql?.end();
    this.sql = null;
  }

  /** `fresh: false` (the status window, `status --json`) reuses a count up to a second old: a count over a large backlog costs a few ms. */
  status(fresh = false): CentralSyncStatus {
    const now = Date.now();
    if (fresh || this.waitingCache === null || now - this.waitingCache.at > 1_000) {
      const cursor = this.centralId ? this.stmts.cursor.get(this.centralId) : undefined;
      const n = this.db.open ? (this.stmts.waiting.get(cursor?.eventsAfter ?? 0, cursor?.callsAfter ?? 0)?.n ?? 0) : 0;
      this.waitingCache = { at: now, n };
    }
    const rowsWaiting = this.waitingCache.n;
    return {
      target: describeTarget(this.options.config),
      lastSyncAt: this.lastSyncAt,
      rowsWaiting,
      lastError: this.lastError,
      failingSince: this.failingSince,
      running: this.running,
    };
  }

  /** Resolves once everything stored so far has been sent (or rejects with the sync's error after `timeoutMs`). */
  async caughtUp(timeoutMs = 60_000): Promise<void> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const status = this.status(true);
      if (status.rowsWaiting === 0 && this.centralId !== null && status.lastError === null) return;
      if (!this.running) throw new Error(status.lastError ?? 'central sync stopped');
      if (Date.now() > deadline) throw new Error(`central sync not caught up after ${timeoutMs} ms: ${status.rowsWaiting} rows waiting; ${status.lastError ?? 'no error'}`);
      this.nudge();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => done(), 200);
        const done = (): void => {
          clearTimeout(timer);
          this.idleWaiters.delete(done);
          resolve();
        };
        this.idleWaiters.add(done);
      });
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let sent = 0;
      try {
        this.sql ??= connectCentral(this.options.config);
        if (this.centralId === null) {
          this.centralId = (await checkCentralSchema(this.sql)).centralId;
          this.options.log?.({ event: 'centralConnected', target: describeTarget(this.options.config), install: this.install });
        }
        sent = await this.pushBatch(this.sql, this.centralId);
        this.succeeded();
      } catch (error) {
        if (this.stopped) break;
        await this.failed(error);
        if (!this.running) break;
        await this.sleep(this.backoffMs());
        continue;
      }
      if (sent === 0) {
        for (const waiter of [...this.idleWaiters]) waiter();
        await this.sleep(this.options.idleMs ?? 2_000, true);
      } else {
        // Catching up: the next batch at once, after letting the event loop serve whatever waits.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Sends one batch: changed calls and new events after the cursor, with every portal and operator. */
  private async pushBatch(sql: Sql, centralId: string): Promise<number> {
    const cursor = this.stmts.cursor.get(centralId) ?? { eventsAfter: 0, callsAfter: 0, lastSyncAt: null };
    // Read and serialise in slices, letting the event loop (acks, the tray) run between them.
    const calls = this.stmts.calls.all(cursor.callsAfter, this.batchRows);
    await breathe();
    const events = this.stmts.events.all(cursor.eventsAfter, this.batchRows);
    await breathe();
    // The first batch of a run always registers the install (and finds a copied data folder's claimed id).
    const registered = this.registered === centralId;
    if (calls.length === 0 && events.length === 0 && registered) {
      // Nothing to send: a cheap round trip tells whether the server is still there.
      await sql.query('SELECT 1');
      return 0;
    }
    const portals = JSON.stringify(this.stmts.portals.all());
    const operators = JSON.stringify(this.stmts.operators.all());
    const callsJson = JSON.stringify(calls);
    await breathe();
    const eventsJson = JSON.stringify(events);
    const install = this.install;
    await sql.transaction(async (tx) => {
      await tx.query(UPSERT.install, [install, os.hostname(), this.options.appVersion]);
      await tx.query(UPSERT.portals, [install, portals]);
      await tx.query(UPSERT.operators, [install, operators]);
      if (calls.length > 0) await tx.query(UPSERT.calls, [install, callsJson]);
      if (events.length > 0) await tx.query(UPSERT.events, [install, eventsJson]);
    });
    this.registered = centralId;
    this.stmts.saveCursor.run({
      id: centralId,
      events: events.at(-1)?.local_id ?? cursor.eventsAfter,
      calls: calls.at(-1)?.changed_seq ?? cursor.callsAfter,
      at: this.now(),
    });
    return calls.length + events.length + (registered ? 0 : 1);
  }

  private succeeded(): void {
    if (this.lastError !== null) this.options.log?.({ event: 'centralRecovered', after: this.failures });
    this.failures = 0;
    this.lastError = null;
    this.failingSince = null;
    this.lastSyncAt = this.now();
  }

  private async failed(error: unknown): Promise<void> {
    this.failures += 1;
    this.failingSince ??= this.now();
    if (error instanceof CentralSchemaError) {
      this.lastError = error.message;
      this.centralId = null;
      if (error.permanent) this.running = false;
    } else {
      this.lastError = await describeCentralError(error, this.options.config);
      if (isInstallClaimed(error)) {
        this.lastError = `install ${this.install} is registered to another PostgreSQL login; each PC syncs with its own login (docs/central.md)`;
      }
    }
    if (this.failures === 1 || !this.running) this.options.log?.({ event: 'centralFailed', message: this.lastError, stopped: !this.running });
    for (const waiter of [...this.idleWaiters]) waiter();
  }

  private backoffMs(): number {
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 1_000, maxMs: 60_000 };
    const base = Math.min(maxMs, minMs * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** Waits `ms`; `stop()` ends any wait, `nudge()` only an idle one (a backoff is kept). */
  private sleep(ms: number, idle = false): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        this.stopWait = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (idle) this.wake = done;
      this.stopWait = done;
    });
  }
}

const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The installs row belongs to another login: RLS refuses the update of it. */
function isInstallClaimed(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '42501' && /row-level security/.test(e.message ?? '') && /installs/.test(e.message ?? '');
}
