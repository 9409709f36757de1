// The daily export: at the chosen local time, the previous day's log goes into the chosen folder (a shared
// network folder, say) as one file per day. Every attempt is recorded in `scheduled-exports.json` in the data
// directory, so there is a clear record of what was written and what failed (and why).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ScheduledRunView } from '../../../common/ipc.ts';
import type { Settings } from '../../../common/settings.ts';
import { fileFormat, type ExportOptions } from '../export/export-log.ts';
import { localDayOf } from '../export/time-zone.ts';

export const SCHEDULE_FILE = 'scheduled-exports.json';
const KEEP = 60;
/** After a failure, the next attempt waits this long (the folder may be back by then). */
const RETRY_AFTER_MS = 15 * 60_000;

/** One attempt of the daily export, as the settings window shows it. */
export type ScheduledRun = ScheduledRunView;

export interface ScheduledExportDeps {
  dataDir: string;
  timeZone: string;
  now: () => number;
  /** Runs one export into a file; resolves with the rows written. */
  run(file: string, options: ExportOptions): Promise<number>;
}


export class ScheduledExports {
  private readonly deps: ScheduledExportDeps;
  private running = false;
  private lastFailureAt = 0;
  /** Read once from the file, then kept current here (the status asks every second). */
  private runs: ScheduledRun[] | null = null;

  constructor(deps: ScheduledExportDeps) {
    this.deps = deps;
  }

  history(): ScheduledRun[] {
    this.runs ??= this.load();
    return this.runs;
  }

  private load(): ScheduledRun[] {
    const file = path.join(this.deps.dataDir, SCHEDULE_FILE);
    if (!existsSync(file)) return [];
    try {
      const runs = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return Array.isArray(runs) ? (runs as ScheduledRun[]) : [];
    } catch {
      return [];
    }
  }

  /** The last attempt, when it failed: the status window shows it. */
  lastFailure(): ScheduledRun | null {
    const last = this.history().at(-1);
    return last && !last.ok ? last : null;
  }

  /** Call now and then; exports yesterday once it is past the set time and yesterday was not exported yet. */
  async tick(settings: Omit<Settings['scheduledExport'], 'source'> & { source?: Settings['scheduledExport']['source'] }): Promise<ScheduledRun | null> {
    if (!settings.enabled || this.running) return null;
    const now = this.deps.now();
    if (now - this.lastFailureAt < RETRY_AFTER_MS) return null;
    const today = localDayOf(now, this.deps.timeZone);
    const [hours, minutes] = settings.time.split(':').map(Number) as [number, number];
    if (today.minutes < hours * 60 + minutes) return null;
    const yesterday = localDayOf(today.start - 1, this.deps.timeZone);
    if (this.history().some((run) => run.ok && run.day === yesterday.day)) return null;

    this.running = true;
    const { extension, ...engineFormat } = fileFormat(settings.format);
    // The whole team's file is named apart, so a shared folder can hold both kinds without mixing them up.
    const file = path.join(settings.folder, `operator-companion-${settings.source === 'central' ? 'team-' : ''}${yesterday.day}.${extension}`);
    let result: ScheduledRun;
    try {
      const rows = await this.deps.run(file, {
        kind: 'calls',
        ...engineFormat,
        timeZone: this.deps.timeZone,
        from: yesterday.start,
        to: today.start,
      });
      result = { day: yesterday.day, at: now, ok: true, path: file, rows };
    } catch (error) {
      this.lastFailureAt = now;
      result = { day: yesterday.day, at: now, ok: false, path: file, error: error instanceof Error ? error.message : String(error) };
    } finally {
      this.running = false;
    }
    this.record(result);
    return result;
  }

  private record(run: ScheduledRun): void {
    const file = path.join(this.deps.dataDir, SCHEDULE_FILE);
    const runs = [...this.history(), run].slice(-KEEP);
    this.runs = runs;
    writeFileSync(`${file}.tmp`, `${JSON.stringify(runs, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
}
