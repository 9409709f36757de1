// Start at login on Linux: the XDG autostart entry, written and removed for real under a temporary home, and
// its Exec line read back by GLib (`gio launch`, what GNOME and Xfce sessions use) where GLib's tools exist.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autostartEntry, autostartFile, execArgument, isLinuxAutostartEnabled, setLinuxAutostart } from '../../main/core/desktop/autostart.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const GIO = '/usr/bin/gio';

function execLine(entry: string): string {
  return (entry.split('\n').find((line) => line.startsWith('Exec=')) as string).slice('Exec='.length);
}

describe('Linux autostart entry', () => {
  it('is written to ~/.config/autostart and removed again, leaving the rest of the folder alone', () => {
    const home = tempDir();
    const target = { home, env: {}, execPath: '/opt/Operator Companion/operator-companion' };
    const file = path.join(home, '.config', 'autostart', 'operator-companion.desktop');
    expect(autostartFile(target)).toBe(file);
    expect(isLinuxAutostartEnabled(target)).toBe(false);

    setLinuxAutostart(true, target);
    expect(isLinuxAutostartEnabled(target)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')).toEqual(expect.arrayContaining(['[Desktop Entry]', 'Type=Application', 'Name=Operator Companion', 'Exec="/opt/Operator Companion/operator-companion"']));
    writeFileSync(path.join(home, '.config', 'autostart', 'other.desktop'), '[Desktop Entry]\n');

    // Written again (idempotent), then off twice (removing what is not there is fine).
    setLinuxAutostart(true, target);
    setLinuxAutostart(false, target);
    setLinuxAutostart(false, target);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(path.join(home, '.config', 'autostart'))).toEqual(['other.desktop']);
  });

  it('honours an absolute XDG_CONFIG_HOME and ignores a relative one (XDG Base Directory spec)', () => {
    const home = tempDir();
    const config = path.join(tempDir(), 'conf');
    setLinuxAutostart(true, { home, env: { XDG_CONFIG_HOME: config }, execPath: '/usr/bin/x' });
    expect(existsSync(path.join(config, 'autostart', 'operator-companion.desktop'))).toBe(true);
    expect(autostartFile({ home, env: { XDG_CONFIG_HOME: 'relative/conf' } })).toBe(path.join(home, '.config', 'autostart', 'operator-companion.desktop'));
  });

  it('starts the AppImage file itself when running from one, not the path inside its temporary mount', () => {
    const entry = autostartEntry({ env: { APPIMAGE: '/home/olga/Apps/Operator Companion-0.1.0.AppImage' }, execPath: '/tmp/.mount_OperatXYZ/operator-companion' });
    expect(execLine(entry)).toBe('"/home/olga/Apps/Operator Companion-0.1.0.AppImage"');
  });

  it('runs an unpacked app through its Electron binary with the app folder as argument', () => {
    expect(execLine(autostartEntry({ env: {}, execPath: '/src/node_modules/electron/dist/electron', args: ['/src/operator companion'] }))).toBe('/src/node_modules/electron/dist/electron "/src/operator companion"');
  });

  it('escapes arguments as the Desktop Entry spec says: quoting, then the string escapes, and %%', () => {
    expect(execArgument('/usr/bin/operator-companion')).toBe('/usr/bin/operator-companion');
    expect(execArgument('/a b/c')).toBe('"/a b/c"');
    // The spec's own examples: a literal $ in a quoted argument is \\$, a literal backslash is four.
    expect(execArgument('/a$b')).toBe('"/a\\\\$b"');
    expect(execArgument('/a\\b')).toBe('"/a\\\\\\\\b"');
    expect(execArgument('/a"b')).toBe('"/a\\\\"b"');
    expect(execArgument('/a`b')).toBe('"/a\\\\`b"');
    expect(execArgument("/it's")).toBe('"/it\'s"');
    expect(execArgument('/100%')).toBe('/100%%');
    expect(execArgument('')).toBe('""');
    expect(execArgument('/a\tb')).toBe('"/a\\tb"');
  });

  // An independent reader: GLib parses the file and starts the program. A script at a path with every awkward
  // character records the arguments it was started with.
  it.skipIf(!existsSync(GIO))('is read back by GLib (gio launch) into exactly the program and arguments written', async () => {
    const names = ['plain', 'with space', "quote's", 'dollar$HOME', 'double"quote', 'back\\slash', 'tick`x', 'percent%u', 'semi;colon&amp'];
    for (const name of names) {
      const dir = path.join(tempDir(), name);
      mkdirSync(dir, { recursive: true });
      const program = path.join(dir, 'operator-companion');
      const record = path.join(tempDir(), 'argv.json');
      writeFileSync(program, `#!/bin/sh\nexec "${process.execPath}" -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))' "${record}" "$0" "$@"\n`);
      chmodSync(program, 0o755);
      const home = tempDir();
      setLinuxAutostart(true, { home, env: {}, execPath: program, args: ['--from', 'a b', '50%'] });
      const launched = spawnSync(GIO, ['launch', autostartFile({ home, env: {} })], { encoding: 'utf8', timeout: 10_000 });
      expect(launched.status, `${name}: ${launched.stderr}`).toBe(0);
      await expect.poll(() => existsSync(record), { message: name }).toBe(true);
      await expect.poll(() => readFileSync(record, 'utf8'), { message: name }).not.toBe('');
      expect(JSON.parse(readFileSync(record, 'utf8')), name).toEqual([program, '--from', 'a b', '50%']);
    }
  });
});
