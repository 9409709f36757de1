// The operator's settings, in `settings.json` beside the session log. Validated on read and on every change:
// a hand-edited file with a mistake falls back to the defaults for what is wrong, and says which.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { settingsSchema, type Settings } from '../../common/settings.ts';

export const SETTINGS_FILE = 'settings.json';

export interface LoadedSettings {
  settings: Settings;
  /** Problems found in the file; their fields were reset to defaults. */
  problems: string[];
}

export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}

export function loadSettings(dataDir: string): LoadedSettings {
  const file = path.join(dataDir, SETTINGS_FILE);
  if (!existsSync(file)) return { settings: defaultSettings(), problems: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { settings: defaultSettings(), problems: [`${SETTINGS_FILE} is not valid JSON (${error instanceof Error ? error.message : String(error)}); using defaults`] };
  }
  const parsed = settingsSchema.safeParse(raw);
  if (parsed.success) return { settings: parsed.data, problems: [] };
  // Keep what is valid, reset what is not.
  const problems: string[] = [];
  const repaired: Record<string, unknown> = typeof raw === 'object' && raw !== null ? { ...(raw as Record<string, unknown>) } : {};
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    if (typeof key === 'string') {
      delete repaired[key];
      problems.push(`${SETTINGS_FILE}: ${issue.path.join('.')}: ${issue.message}; using the default`);
    }
  }
  const second = settingsSchema.safeParse(repaired);
  return second.success ? { settings: second.data, problems } : { settings: defaultSettings(), problems: [...problems, 'using all defaults'] };
}

export function saveSettings(dataDir: string, settings: Settings): void {
  const file = path.join(dataDir, SETTINGS_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(settingsSchema.parse(settings), null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/** Applies a partial change; returns the new settings or a message naming what was wrong. */
export function updateSettings(current: Settings, change: unknown): { ok: true; settings: Settings } | { ok: false; error: string } {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) return { ok: false, error: 'settings change must be an object' };
  const merged = { ...current, ...(change as Record<string, unknown>) };
  if ('hotkeys' in (change as object)) merged.hotkeys = { ...current.hotkeys, ...((change as { hotkeys?: object }).hotkeys ?? {}) };
  if ('scheduledExport' in (change as object)) {
    merged.scheduledExport = { ...current.scheduledExport, ...((change as { scheduledExport?: object }).scheduledExport ?? {}) };
  }
  if ('central' in (change as object)) merged.central = { ...current.central, ...((change as { central?: object }).central ?? {}) };
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: issue ? `${issue.path.join('.') || 'settings'}: ${issue.message}` : 'invalid settings' };
  }
  return { ok: true, settings: parsed.data };
}

export type { Settings };
