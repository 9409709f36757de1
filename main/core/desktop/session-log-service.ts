// The supervisor's session log in the desktop app: queries for the window and the export it runs in the
// background, on a read-only connection of its own so they never hold up the writer.
import type Database from 'better-sqlite3';
import type { ExportProgress, LogExportFormat, LogFilterInput } from '../../../common/ipc.ts';
import { exportToFile, fileFormat, openForExport, type ExportOptions } from '../export/export-log.ts';
import { isValidTimeZone } from '../export/time-zone.ts';
import { callTimeline, dailyTotals, queryCalls } from '../log/session-log.ts';
import type { Logger } from '../logging/logger.ts';

export interface SessionLogDeps {
  dataDir: string;
  /** Shows a save dialog; null when cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | null>;
  log(): Logger | undefined;
}

export class SessionLogService {
  private readonly deps: SessionLogDeps;
  private readDb: Database.Database | null = null;
  private running: AbortController | null = null;
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

  calls(filter: Parameters<typeof queryCalls>[1], sort: Parameters<typeof queryCalls>[2], page: Parameters<typeof queryCalls>[3]): ReturnType<typeof queryCalls> {
    return queryCalls(this.reader(), filter, sort, page);
  }

  timeline(id: number): ReturnType<typeof callTimeline> {
    return callTimeline(this.reader(), id);
  }

  totals(filter: LogFilterInput, timeZone: string): ReturnType<typeof dailyTotals> {
    return dailyTotals(this.reader(), filter, zone(timeZone));
  }

  /** Asks where, then exports in the background: listeners hear progress and the result; one at a time. */
  async startExport(format: LogExportFormat, filter: LogFilterInput, timeZone: string): Promise<{ started: boolean }> {
    zone(timeZone);
    if (this.running) throw new Error('an export is already running');
    const { extension, ...engineFormat } = fileFormat(format);
    const file = await this.deps.chooseSavePath(`operator-companion-calls.${extension}`);
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
    void exportToFile(this.reader(), options, file)
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
  }

  private progress(progress: ExportProgress): void {
    for (const listener of this.listeners) listener(progress);
  }
}

function zone(timeZone: string): string {
  if (!isValidTimeZone(timeZone)) throw new Error(`"${timeZone}" is not a time zone`);
  return timeZone;
}
