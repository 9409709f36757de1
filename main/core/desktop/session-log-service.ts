// The supervisor's session log in the desktop app: queries for the window and the export it runs in the
// background, on a read-only connection of its own so they never hold up the writer. With `source: 'team'` the
// same queries and export read the whole team's log from the central PostgreSQL (the read-only login).
import type Database from 'better-sqlite3';
import type { ExportProgress, IpcResults, LogExportFormat, LogFilterInput, LogSource } from '../../../common/ipc.ts';
import { centralCallTimeline, centralDailyTotals, centralQueryCalls } from '../central/central-log.ts';
import { centralSource } from '../central/central-export.ts';
import { connectCentral, describeCentralError, type CentralConfig, type Sql } from '../central/connection.ts';
import { checkCentralSchema } from '../central/schema.ts';
import { exportToFile, fileFormat, openForExport, type ExportOptions, type ExportSource } from '../export/export-log.ts';
import { isValidTimeZone } from '../export/time-zone.ts';
import { callTimeline, dailyTotals, queryCalls } from '../log/session-log.ts';
import type { Logger } from '../logging/logger.ts';

export interface SessionLogDeps {
  dataDir: string;
  /** Shows a save dialog; null when cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | null>;
  log(): Logger | undefined;
  /** The read-only (supervisor) login of the central database; null when none is set. Throws when unusable. */
  teamConfig(): Promise<CentralConfig | null>;
}

/** The whole team's connection, kept while the settings that made it stay the same. */
interface TeamConnection {
  key: string;
  sql: Sql;
  config: CentralConfig;
  checked: boolean;
}

export class SessionLogService {
  private readonly deps: SessionLogDeps;
  private readDb: Database.Database | null = null;
  private running: AbortController | null = null;
  private team: TeamConnection | null = null;
  private readonly listeners = new Set<(progress: ExportProgress) => void>();

  constructor(deps: SessionLogDeps) {
    this.deps = deps;
  }

  /** The read-only connection, opened on first use (also for the daily export and the diagnostics' counts). */
  reader(): Database.Database {
    this.readDb ??= openForExport(this.deps.dataDir);
    return this.readDb;
  }

  onProgress(listener: (progress: ExportProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async calls(filter: Parameters<typeof queryCalls>[1], sort: Parameters<typeof queryCalls>[2], page: Parameters<typeof queryCalls>[3], source: LogSource = 'local'): Promise<IpcResults['logCalls']> {
    if (source === 'team') return this.onTeam((sql) => centralQueryCalls(sql, filter, sort, page));
    return queryCalls(this.reader(), filter, sort, page);
  }

  async timeline(id: number, source: LogSource = 'local'): Promise<IpcResults['logTimeline']> {
    if (source === 'team') return this.onTeam((sql) => centralCallTimeline(sql, id));
    return callTimeline(this.reader(), id);
  }

  async totals(filter: LogFilterInput, timeZone: string, source: LogSource = 'local'): Promise<IpcResults['logTotals']> {
    if (source === 'team') return this.onTeam((sql) => centralDailyTotals(sql, filter, zone(timeZone)));
    return dailyTotals(this.reader(), filter, zone(timeZone));
  }

  /** Asks where, then exports in the background: listeners hear progress and the result; one at a time. */
  async startExport(format: LogExportFormat, filter: LogFilterInput, timeZone: string, source: LogSource = 'local'): Promise<{ started: boolean }> {
    zone(timeZone);
    if (this.running) throw new Error('an export is already running');
    const { extension, ...engineFormat } = fileFormat(format);
    // The whole team's export needs its connection (and says why not) before the save dialog.
    const team = source === 'team' ? await this.onTeam(async (sql) => sql) : null;
    const teamConfig = team ? this.team?.config : undefined;
    const file = await this.deps.chooseSavePath(`operator-companion-${team ? 'team-' : ''}calls.${extension}`);
    if (file === null) return { started: false };
    const cancel = new AbortController();
    this.running = cancel;
    const options: ExportOptions = {
      kind: 'calls',
      ...engineFormat,
      timeZone,
      signal: cancel.signal,
      onProgress: (done, total) => this.progress({ running: true, done, total }),
      ...filter,
    };
    this.progress({ running: true, done: 0, total: 0 });
    const from: Database.Database | ExportSource = team ? centralSource(team, options) : this.reader();
    void exportToFile(from, options, file)
      .catch(async (error: unknown) => {
        throw teamConfig && !cancel.signal.aborted ? new Error(await this.oneLine(error, teamConfig)) : error;
      })
      .then((rows) => this.progress({ running: false, done: rows, total: rows, result: { ok: true, path: file, rows } }))
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!cancel.signal.aborted) this.deps.log()?.warn('exportFailed', { format, message });
        this.progress({ running: false, done: 0, total: 0, result: { ok: false, error: cancel.signal.aborted ? 'cancelled; no file was written' : message } });
      })
      .finally(() => {
        this.running = null;
      });
    return { started: true };
  }

  cancelExport(): boolean {
    if (!this.running) return false;
    this.running.abort();
    return true;
  }

  close(): void {
    this.running?.abort();
    this.readDb?.close();
    this.readDb = null;
    this.listeners.clear();
    void this.team?.sql.end();
    this.team = null;
  }

  /**
   * Runs a query on the whole team's log: the connection (made again when the settings changed), its schema
   * checked once, and any failure of the server or the network as one line (wrong password, server down, …).
   */
  private async onTeam<T>(query: (sql: Sql) => Promise<T>): Promise<T> {
    const config = await this.deps.teamConfig();
    if (config === null) throw new Error('the whole team\'s log needs the read-only URL of the team log (settings)');
    const key = JSON.stringify(config);
    if (this.team?.key !== key) {
      void this.team?.sql.end();
      this.team = { key, sql: connectCentral(config), config, checked: false };
    }
    const team = this.team;
    try {
      if (!team.checked) {
        await checkCentralSchema(team.sql);
        team.checked = true;
      }
      return await query(team.sql);
    } catch (error) {
      throw new Error(await this.oneLine(error, config));
    }
  }

  /** The server's and the network's errors (they carry a code) described in one line; others as they are. */
  private async oneLine(error: unknown, config: CentralConfig): Promise<string> {
    if (typeof (error as { code?: unknown }).code === 'string') return describeCentralError(error, config);
    return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  }

  private progress(progress: ExportProgress): void {
    for (const listener of this.listeners) listener(progress);
  }
}

function zone(timeZone: string): string {
  if (!isValidTimeZone(timeZone)) throw new Error(`"${timeZone}" is not a time zone`);
  return timeZone;
}
