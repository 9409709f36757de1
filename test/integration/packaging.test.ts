// Packaging, checked offline: electron-builder's own schema accepts the configuration, its own defaults and icon
// resolution agree with it, and a `--dir` build (with a stand-in for the Electron binary, which cannot be
// downloaded here; for the layout and the fuses only) puts every part where the packed app looks for it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { extractAll, listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { FuseState } from '@electron/fuses/dist/constants.js';
import FpmTarget from 'app-builder-lib/out/targets/FpmTarget.js';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { convertIcon } from 'app-builder-lib/out/util/iconConverter.js';
import { build, Platform, type Configuration } from 'electron-builder';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { appIconFiles, ICNS_TYPES, ICO_SIZES } from '../../scripts/app-icon.ts';
import { seedStore } from '../helpers/seed.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const root = path.join(import.meta.dirname, '..', '..');
const tempDir = useTempDirs();
const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Configuration;

/** What electron-builder itself would give a .deb without a `depends` of ours: Electron's own libraries. */
const defaultDebDepends = (FpmTarget as unknown as { prototype: { getDefaultDepends(target: string): string[] } }).prototype.getDefaultDepends('deb');

/** The newest `GLIBC_x.y` symbol version a shared object asks for (the names sit in its dynamic string table). */
function newestGlibc(file: string): string {
  const versions = [...readFileSync(file).toString('latin1').matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const [major, minor] = versions.reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a));
  return `${major}.${minor}`;
}

describe('electron-builder configuration', () => {
  it('passes electron-builder\'s own schema', async () => {
    const logger = { isEnabled: false, add() {} } as never;
    await expect(validateConfiguration(config, logger)).resolves.toBeUndefined();
    // The check is real: a misspelt key is refused, also inside the fuses.
    await expect(validateConfiguration({ ...config, asarUnpak: [] } as Configuration, logger)).rejects.toThrow(/asarUnpak/);
    await expect(validateConfiguration({ ...config, electronFuses: { runAsNod: false } } as unknown as Configuration, logger)).rejects.toThrow(/electronFuses/);
  });

  it('has the targets, the native module handling and the runtime images the app needs', () => {
    expect(config).toMatchObject({
      appId: 'com.operatorcompanion.app',
      productName: 'Operator Companion',
      npmRebuild: false,
      extraResources: [{ from: 'build/tray', to: 'tray' }],
      linux: { target: ['AppImage', 'deb'] },
      win: { target: ['nsis'] },
      mac: { target: ['dmg'] },
    });
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['node_modules/better-sqlite3/**/*.node', 'node_modules/koffi/**/*.node']));
  });

  it('each platform lists the common files in full, then only exclusions of its own', () => {
    for (const platform of [config.linux, config.win, config.mac]) {
      const files = platform?.files as string[];
      expect(files.slice(0, (config.files as string[]).length)).toEqual(config.files);
      expect(files.slice((config.files as string[]).length).every((pattern) => pattern.startsWith('!'))).toBe(true);
    }
  });

  it('the .deb depends on everything electron-builder would list for Electron, plus the tray and C/C++ runtimes', () => {
    // A `depends` replaces electron-builder's list; ours must still hold every entry of it.
    expect(defaultDebDepends).toContain('libgtk-3-0');
    expect(config.deb?.depends).toEqual(expect.arrayContaining([...defaultDebDepends, 'libayatana-appindicator3-1', 'libc6 (>= 2.34)']));
  });

  it('flips the fuses that turn the packed app into something else', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('signs only from the environment: no certificate, password or identity is written in the file', () => {
    const text = JSON.stringify(config);
    for (const key of ['cscLink', 'cscKeyPassword', 'certificateFile', 'certificatePassword', 'identity', 'notarize']) expect(text).not.toContain(`"${key}"`);
  });
});

describe('app icon', () => {
  it('the committed files are what scripts/app-icon.ts draws', () => {
    for (const [name, data] of appIconFiles()) expect(readFileSync(path.join(root, 'build', name)).equals(data), name).toBe(true);
  });

  it('has the sizes each system asks for: a 1024 px master, a Linux set to 512, an .ico to 256, an .icns to 1024', () => {
    const png = readFileSync(path.join(root, 'build', 'icon.png'));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1024, 1024]);
    const ico = readFileSync(path.join(root, 'build', 'icon.ico'));
    expect(ico.readUInt16LE(4)).toBe(ICO_SIZES.length);
    expect(ico[6 + 16 * (ICO_SIZES.length - 1)]).toBe(0); // 0 = 256 px in an .ico directory entry
    // .icns: a header, then typed entries whose lengths add up to the file; each holds a PNG of its size.
    const icns = readFileSync(path.join(root, 'build', 'icon.icns'));
    expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const entries: Array<[string, number]> = [];
    for (let offset = 8; offset < icns.length; offset += icns.readUInt32BE(offset + 4)) {
      const data = icns.subarray(offset + 8, offset + icns.readUInt32BE(offset + 4));
      expect(data.subarray(1, 4).toString('ascii')).toBe('PNG');
      expect(data.readUInt32BE(20)).toBe(data.readUInt32BE(16));
      entries.push([icns.subarray(offset, offset + 4).toString('ascii'), data.readUInt32BE(16)]);
    }
    expect(entries).toEqual(ICNS_TYPES.map(([type, size]) => [type, size]));
  });

  it('electron-builder takes each system\'s icon as it is, converting nothing and falling back to no default', async () => {
    // Its converter would fetch a tool from GitHub; an empty tool folder makes any conversion fail here at once.
    const previous = process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR;
    process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR = tempDir();
    try {
      const roots = [path.join(root, 'build'), root];
      const resolve = (icon: string | null | undefined, format: 'set' | 'ico' | 'icns') =>
        convertIcon({ sources: [icon as string], fallbackSources: [], roots, format, outDir: tempDir() });
      const linux = await resolve(config.linux?.icon, 'set');
      expect(linux.isFallback).toBe(false);
      expect(linux.icons.map((i) => i.size)).toEqual([16, 24, 32, 48, 64, 128, 256, 512]);
      expect(linux.icons.every((i) => i.file.startsWith(path.join(root, 'build', 'icons')))).toBe(true);
      expect(await resolve(config.win?.icon, 'ico')).toMatchObject({ isFallback: false, icons: [{ file: path.join(root, 'build', 'icon.ico'), size: 256 }] });
      expect(await resolve(config.mac?.icon, 'icns')).toMatchObject({ isFallback: false, icons: [{ file: path.join(root, 'build', 'icon.icns') }] });
    } finally {
      if (previous === undefined) delete process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR;
      else process.env.ELECTRON_BUILDER_ICONS_TOOLSET_DIR = previous;
    }
  });
});

describe('minimum Linux', () => {
  it('is what better-sqlite3\'s prebuilt binaries ask of glibc, and the README and the .deb say so', () => {
    const prebuilds = path.join(root, 'node_modules', 'better-sqlite3', 'prebuilds');
    expect(newestGlibc(path.join(prebuilds, 'linux-x64.node'))).toBe('2.34');
    expect(newestGlibc(path.join(prebuilds, 'linux-arm64.node'))).toBe('2.34');
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toMatch(/glibc 2\.34/);
    expect(config.deb?.depends).toContain('libc6 (>= 2.34)');
  });
});

describe('main bundle', () => {
  it('imports nothing at run time but Node\'s built-ins, the native modules, electron and its own chunks (ws\'s optional helpers stay optional)', () => {
    const dir = path.join(root, 'out', 'main');
    // The entry points and the chunks they load on demand (the build splits shared code so a control command loads little).
    const files = [...readdirSync(dir).filter((f) => f.endsWith('.js')), ...readdirSync(path.join(dir, 'chunks')).filter((f) => f.endsWith('.js')).map((f) => `chunks/${f}`)];
    expect(files).toEqual(expect.arrayContaining(['index.js', 'cli.js']));
    const everywhere = new Set<string>();
    for (const file of files) {
      const code = readFileSync(path.join(dir, file), 'utf8');
      const specifiers = new Set([
        // static imports at the top of a line, and calls: require("x"), __require("x"), import("x"), createRequire(import.meta.url)("x")
        ...[...code.matchAll(/^import\s(?:[^;]*?\sfrom\s*)?"([^"]+)"/gm)].map((m) => m[1] as string),
        ...[...code.matchAll(/(?:require|\bimport|\(import\.meta\.url\))\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] as string),
      ]);
      const external = [...specifiers].filter((s) => !s.startsWith('node:') && !builtinModules.includes(s));
      // bufferutil and utf-8-validate (ws), pg-native (node-postgres): optional, required inside try/catch.
      const allowed = ['better-sqlite3', 'koffi', 'electron', 'bufferutil', 'utf-8-validate', 'pg-native'];
      // Relative imports must stay inside out/main (chunks of this build).
      expect(external.filter((s) => !allowed.includes(s) && !/^\.\.?\//.test(s)), file).toEqual([]);
      for (const s of external.filter((x) => /^\.\.?\//.test(x))) expect(existsSync(path.join(dir, path.dirname(file), s)), `${file} → ${s}`).toBe(true);
      for (const s of external) everywhere.add(s);
      // The require shim in the banner is plain text to esbuild: the module must still parse.
      execFileSync(process.execPath, ['--check', path.join(dir, file)]);
    }
    expect([...everywhere]).toContain('better-sqlite3');
  });
});

/** A stand-in Electron binary: not runnable, but it carries a fuse wire (sentinel, version 1, 8 fuses, all unset) for @electron/fuses to flip. */
function standInElectron(dir: string): void {
  const wire = Buffer.concat([Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX', 'ascii'), Buffer.from([1, 8]), Buffer.alloc(8, FuseState.INHERIT)]);
  writeFileSync(path.join(dir, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\n# stand-in\n'), wire, Buffer.from('\n')]), { mode: 0o755 });
  writeFileSync(path.join(dir, 'version'), '45.5.0');
}

function sizeOf(target: string): number {
  const stat = statSync(target);
  return stat.isDirectory() ? readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0) : stat.size;
}

describe('packed layout (--dir, Linux)', () => {
  it('holds main, preload, renderer, the unpacked native module for this system only, the tray images, and flipped fuses', async () => {
    const electronDist = tempDir();
    standInElectron(electronDist);
    const output = tempDir();
    mkdirSync(output, { recursive: true });
    await build({
      projectDir: root,
      targets: Platform.LINUX.createTarget('dir'),
      // The project's file, with only the stand-in binary and the output folder set here.
      config: { extends: path.join(root, 'electron-builder.yml'), electronDist, directories: { output }, publish: null },
      publish: 'never',
    });
    const unpacked = path.join(output, 'linux-unpacked');
    const resources = path.join(unpacked, 'resources');
    const asar = path.join(resources, 'app.asar');
    const files = listPackage(asar, { isPack: false }).map((f) => f.replaceAll('\\', '/'));
    for (const needed of ['/package.json', '/out/main/index.js', '/out/main/cli.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/out/renderer/app.js', '/out/renderer/app.css', '/node_modules/better-sqlite3/lib/index.js']) {
      expect(files, needed).toContain(needed);
    }
    // Bundled into out/main, so not packed again; nothing of the worker, the screenshots or the source maps.
    expect(files.filter((f) => /^\/node_modules\/(ws|zod|pg|pg-[a-z-]+|pgpass|postgres-[a-z]+)\//.test(f) || f.startsWith('/out/worker') || f.startsWith('/out/screenshots') || f.endsWith('.map'))).toEqual([]);
    const natives = readdirSync(path.join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'prebuilds')).sort();
    expect(natives).toEqual(['linux-arm64.node', 'linux-x64.node']);
    const koffi = path.join(resources, 'app.asar.unpacked', 'node_modules', 'koffi', 'build', 'koffi');
    if (existsSync(path.join(root, 'node_modules', 'koffi'))) {
      expect(readdirSync(koffi).sort()).toEqual(['linux_arm64', 'linux_armhf', 'linux_x64']);
      expect(files.filter((f) => /^\/node_modules\/koffi\/(src|vendor|doc)\//.test(f))).toEqual([]);
    }
    const tray = readdirSync(path.join(resources, 'tray'));
    for (const state of ['not_connected', 'waiting', 'live', 'muted', 'on_hold', 'pending', 'problem']) {
      expect(tray).toEqual(expect.arrayContaining([`${state}.png`, `${state}@2x.png`, `${state}Template.png`, `${state}.ico`]));
    }
    const executable = path.join(unpacked, 'operator-companion');
    expect(existsSync(executable)).toBe(true);

    // electron-builder flipped the fuses in the binary it packed, as configured.
    const fuses = await getCurrentFuseWire(executable);
    expect({
      runAsNode: fuses[FuseV1Options.RunAsNode],
      nodeOptions: fuses[FuseV1Options.EnableNodeOptionsEnvironmentVariable],
      inspect: fuses[FuseV1Options.EnableNodeCliInspectArguments],
      cookieEncryption: fuses[FuseV1Options.EnableCookieEncryption],
      asarIntegrity: fuses[FuseV1Options.EnableEmbeddedAsarIntegrityValidation],
      onlyAsar: fuses[FuseV1Options.OnlyLoadAppFromAsar],
    }).toEqual({
      runAsNode: FuseState.DISABLE,
      nodeOptions: FuseState.DISABLE,
      inspect: FuseState.DISABLE,
      cookieEncryption: FuseState.ENABLE,
      asarIntegrity: FuseState.ENABLE,
      onlyAsar: FuseState.ENABLE,
    });

    // The packed tree is complete on its own: taken out of the archive (with the unpacked binary), the CLI
    // bundle runs and opens a database through the packed better-sqlite3, with no project node_modules near.
    const extracted = tempDir();
    extractAll(asar, extracted);
    const dataDir = tempDir();
    seedStore(dataDir, { calls: 3, events: 6, operators: 1 });
    const status = execFileSync(process.execPath, [path.join(extracted, 'out', 'main', 'cli.js'), 'status', '--data-dir', dataDir, '--json'], { encoding: 'utf8', cwd: extracted });
    expect(JSON.parse(status)).toMatchObject({ store: { calls: 3 } });

    console.log(`packed (linux-unpacked, stand-in Electron): app.asar ${(statSync(asar).size / 1e6).toFixed(2)} MB, app.asar.unpacked ${(sizeOf(path.join(resources, 'app.asar.unpacked')) / 1e6).toFixed(2)} MB, tray ${(sizeOf(path.join(resources, 'tray')) / 1e3).toFixed(0)} KB`);
  }, 120_000);
});
