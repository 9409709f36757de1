// Start at login on Linux. Electron's app.setLoginItemSettings does nothing there; desktops start what the XDG
// Autostart specification lists instead: a Desktop Entry file in $XDG_CONFIG_HOME/autostart (default
// ~/.config/autostart). Plain Node, no Electron: the desktop app's platform adapter calls it.
// Specifications: https://specifications.freedesktop.org/autostart-spec/latest/ and
// https://specifications.freedesktop.org/desktop-entry-spec/latest/ (the Exec key and string escapes).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PRODUCT_NAME } from '../paths.ts';

export const AUTOSTART_FILE_NAME = 'operator-companion.desktop';

export interface AutostartTarget {
  /** Environment: XDG_CONFIG_HOME, and APPIMAGE when running from an AppImage. */
  env?: NodeJS.ProcessEnv;
  /** The user's home folder (default: os.homedir()). */
  home?: string;
  /** The running executable (default: process.execPath), used when not running from an AppImage. */
  execPath?: string;
  /** Arguments after the executable: the app's folder when Electron runs an unpacked app (development). */
  args?: string[];
}

/** Where the entry lives. A relative XDG_CONFIG_HOME is invalid by the Base Directory spec and is ignored. */
export function autostartFile(target: AutostartTarget = {}): string {
  const env = target.env ?? process.env;
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(target.home ?? os.homedir(), '.config');
  return path.join(configHome, 'autostart', AUTOSTART_FILE_NAME);
}

/**
 * The program the desktop should start: the AppImage file itself when running from one (process.execPath is then
 * a path inside its temporary mount, gone after a reboot), else the executable.
 */
export function autostartProgram(target: AutostartTarget = {}): string {
  const env = target.env ?? process.env;
  return env.APPIMAGE || (target.execPath ?? process.execPath);
}

// Characters that make an Exec argument need double quotes (Desktop Entry spec, "The Exec key").
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/**
 * One argument of an Exec value, as the file must hold it. Two layers, undone in this order by a reader: the
 * string escapes of every value (`\\` `\n` `\t` `\r` `\s`), then the Exec quoting (inside double quotes `"` `` ` ``
 * `$` `\` take a backslash). Hence a backslash in a quoted path is written as four. A literal `%` is `%%`.
 */
export function execArgument(arg: string): string {
  if (arg.length === 0) return '""';
  let quoted = arg.replaceAll('%', '%%');
  if (RESERVED.test(arg)) quoted = `"${quoted.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
  return quoted.replace(/[\\\n\t\r]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c] as string);
}

/** The Desktop Entry that starts the app at login. */
export function autostartEntry(target: AutostartTarget = {}): string {
  const program = autostartProgram(target);
  // GLib (GNOME, Xfce, …) looks the program up before undoing `%%`, so a program path with a `%` would not be
  // found; `env` runs it instead, and `%%` in an argument is undone as the spec says.
  const argv = program.includes('%') ? ['env', program] : [program];
  const exec = [...argv, ...(target.args ?? [])].map(execArgument).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    `Name=${PRODUCT_NAME}`,
    'Comment=Shows the Bitrix24 call card\'s microphone state in the tray',
    `Exec=${exec}`,
    'Icon=operator-companion',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Writes or removes the entry. Throws what the file system throws (the caller reports it). */
export function setLinuxAutostart(enabled: boolean, target: AutostartTarget = {}): void {
  const file = autostartFile(target);
  if (!enabled) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  // Written whole under a temporary name and renamed over, so a desktop session never reads half a file.
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, autostartEntry(target), { mode: 0o644 });
    renameSync(temp, file);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Whether our entry is there and not switched off by the desktop's own settings (Hidden=true). */
export function isLinuxAutostartEnabled(target: AutostartTarget = {}): boolean {
  let text: string;
  try {
    text = readFileSync(autostartFile(target), 'utf8');
  } catch {
    return false;
  }
  return !/^Hidden\s*=\s*true\s*$/m.test(text) && !/^X-GNOME-Autostart-enabled\s*=\s*false\s*$/m.test(text);
}
