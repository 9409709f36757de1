// Builds out/: the headless CLI and the Electron main process (Node, ESM). Native and runtime packages stay
// external: better-sqlite3 must find its own prebuilt binary next to its package.
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.join(import.meta.dirname, '..');
const out = path.join(root, 'out');
rmSync(path.join(out, 'main'), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'main/cli/index.ts', index: 'main/electron/index.ts' },
  outdir: 'out/main',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
// The CLI is the package's `bin`: executable, with a shebang that finds Node on PATH.
chmodSync(path.join(out, 'main', 'cli.js'), 0o755);
