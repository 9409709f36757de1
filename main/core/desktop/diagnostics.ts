// "Save diagnostics…": one ZIP file an operator can send to IT. It holds what support asks for first (the logs,
// what the app shows right now, which versions run where, the settings, how much the store holds) and nothing
// they must not see: settings and status pass through the same redaction as log lines, so phone numbers and
// secrets stay out; the logs were redacted when written. The call log itself is not included.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { StatusView } from '../../../common/ipc.ts';
import type { Settings } from '../../../common/settings.ts';
import { APP_VERSION } from '../companion.ts';
import { ZipWriter } from '../export/zip-writer.ts';
import { redact } from '../logging/redact.ts';
import { logDir, logFiles } from '../logging/rotating-file.ts';
import type { StoreCounts } from '../store/session-store.ts';

export interface Versions {
  app: string;
  node: string;
  /** null under plain Node (tests, `serve`). */
  electron: string | null;
  chromium: string | null;
  v8: string;
  os: { platform: string; type: string; release: string; version: string; arch: string };
  locale: string;
}

export interface DiagnosticsInput {
  dataDir: string;
  status: StatusView;
  settings: Settings;
  /** What `storeCounts` read, or why it could not (a damaged or locked database is a reason to send this). */
  counts: StoreCounts | { error: string };
  versions: Versions;
  createdAt: number;
}

export function runtimeVersions(locale: string): Versions {
  return {
    app: APP_VERSION,
    node: process.versions.node,
    electron: process.versions.electron ?? null,
    chromium: process.versions.chrome ?? null,
    v8: process.versions.v8,
    os: { platform: process.platform, type: os.type(), release: os.release(), version: os.version(), arch: process.arch },
    locale,
  };
}

/** `operator-companion-diagnostics-2026-05-01-0930.zip`, in local time as the operator reads it. */
export function diagnosticsFileName(now: number): string {
  const d = new Date(now);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `operator-companion-diagnostics-${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}.zip`;
}

const README = `Operator Companion diagnostics

Made for support. Phone numbers and secrets are removed; the call log itself is not included.

status.json    what the app showed when this was saved (state, call, tabs, hotkeys, microphone, problems)
versions.json  the app, Node, Electron and Chromium versions, and the operating system
settings.json  the app's settings
store.json     how many portals, operators, calls and events the local database holds
logs/          the app's log files, newest first (companion.log, companion.log.1, ...)
`;

const json = (value: unknown): string => `${JSON.stringify(redact(value), null, 2)}\n`;

/**
 * Writes the archive to `file`: into `file.part` first, renamed when complete, so a failure leaves no file
 * that looks whole. Returns the names of the entries written.
 */
export async function writeDiagnostics(file: string, input: DiagnosticsInput): Promise<string[]> {
  const part = `${file}.part`;
  const out = createWriteStream(part, { mode: 0o600 });
  const zip = new ZipWriter(out);
  const names: string[] = [];
  const add = async (name: string, content: string): Promise<void> => {
    await zip.add(name, content);
    names.push(name);
  };
  try {
    await once(out, 'open');
    await add('README.txt', README);
    await add('status.json', json({ savedAt: new Date(input.createdAt).toISOString(), ...input.status }));
    await add('versions.json', json(input.versions));
    await add('settings.json', json(input.settings));
    await add('store.json', json(input.counts));
    for (const log of logFiles(logDir(input.dataDir))) {
      // The oldest file may be rotated away between listing and opening it.
      const handle = await open(log, 'r').catch(() => null);
      if (!handle) continue;
      const name = `logs/${path.basename(log)}`;
      const entry = await zip.open(name);
      for await (const chunk of handle.createReadStream()) await entry.write(chunk as Buffer);
      await entry.close();
      names.push(name);
    }
    await zip.finish();
    out.end();
    await finished(out);
    renameSync(part, file);
    return names;
  } catch (error) {
    out.destroy();
    rmSync(part, { force: true });
    throw error;
  }
}
