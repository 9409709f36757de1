// Packaging, checked offline: electron-builder's own schema accepts the configuration, and a `--dir` build (with
// a stand-in for the Electron binary, which cannot be downloaded here; for the layout only) puts every part
// where the packed app looks for it.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listPackage } from '@electron/asar';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { build, Platform, type Configuration } from 'electron-builder';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.ts';

const root = path.join(import.meta.dirname, '..', '..');
const tempDir = useTempDirs();
const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Configuration;

describe('electron-builder configuration', () => {
  it('passes electron-builder\'s own schema', async () => {
    const logger = { isEnabled: false, add() {} } as never;
    await expect(validateConfiguration(config, logger)).resolves.toBeUndefined();
    // The check is real: a misspelt key is refused.
    await expect(validateConfiguration({ ...config, asarUnpak: [] } as Configuration, logger)).rejects.toThrow(/asarUnpak/);
  });

  it('has the targets, the native module handling and the runtime images the app needs', () => {
    expect(config).toMatchObject({
      appId: 'com.operatorcompanion.app',
      productName: 'Operator Companion',
      npmRebuild: false,
      asarUnpack: ['node_modules/better-sqlite3/**/*.node'],
      extraResources: [{ from: 'build/tray', to: 'tray' }],
      linux: { target: ['AppImage', 'deb'] },
      deb: { depends: ['libayatana-appindicator3-1'] },
      win: { target: ['nsis'] },
      mac: { target: ['dmg'] },
    });
  });
});

describe('packed layout (--dir, Linux)', () => {
  it('holds main, preload, renderer, the unpacked native module for this system only, and the tray images', async () => {
    const electronDist = tempDir();
    writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(path.join(electronDist, 'version'), '45.5.0');
    const output = tempDir();
    mkdirSync(output, { recursive: true });
    await build({
      projectDir: root,
      targets: Platform.LINUX.createTarget('dir'),
      // The project's file, with only the stand-in binary and the output folder set here.
      config: { extends: path.join(root, 'electron-builder.yml'), electronDist, directories: { output }, publish: null },
      publish: 'never',
    });
    const resources = path.join(output, 'linux-unpacked', 'resources');
    const files = listPackage(path.join(resources, 'app.asar'), { isPack: false }).map((f) => f.replaceAll('\\', '/'));
    for (const needed of ['/package.json', '/out/main/index.js', '/out/main/cli.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/out/renderer/app.js', '/out/renderer/app.css', '/node_modules/better-sqlite3/lib/index.js', '/node_modules/ws/package.json', '/node_modules/zod/package.json']) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((f) => f.startsWith('/out/worker') || f.startsWith('/out/screenshots') || f.endsWith('.map'))).toEqual([]);
    const natives = readdirSync(path.join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'prebuilds')).sort();
    expect(natives).toEqual(['linux-arm64.node', 'linux-x64.node', 'linuxmusl-arm64.node', 'linuxmusl-x64.node']);
    const tray = readdirSync(path.join(resources, 'tray'));
    for (const state of ['not_connected', 'waiting', 'live', 'muted', 'on_hold', 'pending', 'problem']) {
      expect(tray).toEqual(expect.arrayContaining([`${state}.png`, `${state}@2x.png`, `${state}Template.png`, `${state}.ico`]));
    }
    expect(existsSync(path.join(output, 'linux-unpacked', 'operator-companion'))).toBe(true);
  }, 120_000);
});
