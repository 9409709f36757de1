// Builds out/: the headless CLI and the Electron main process (Node, ESM), and the Bitrix24 worker pages
// (browser, each one self-contained HTML file with its script inlined: one request per page load).
// On the Node side everything is bundled except the native modules (better-sqlite3 and koffi must find their own
// prebuilt binaries beside their packages) and Electron itself: the packed app then imports no other JavaScript
// package from node_modules inside app.asar.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = path.join(import.meta.dirname, '..');
const out = path.join(root, 'out');

/** Loaded at run time from node_modules (native code, or provided by the runtime); everything else is bundled. */
const MAIN_EXTERNALS = ['better-sqlite3', 'koffi', 'electron'];
// Bundled CommonJS packages (ws) call require() for Node's built-ins and, inside try/catch, for their optional
// native helpers (bufferutil, utf-8-validate); an ES module has no `require`, so give the bundle a real one.
const REQUIRE_SHIM = "import { createRequire as __ocCreateRequire } from 'node:module'; const require = __ocCreateRequire(import.meta.url);";

async function buildMain(): Promise<void> {
  rmSync(path.join(out, 'main'), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: { cli: 'main/cli/index.ts', index: 'main/index.ts' },
    outdir: 'out/main',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: MAIN_EXTERNALS,
    // Shared code in chunks loaded when first needed: a control command (`operator-companion mute`, on a
    // hotkey) loads a few kilobytes, not the exporters, SQLite and zod.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: REQUIRE_SHIM },
    sourcemap: true,
    logLevel: 'warning',
  });
  // The CLI is the package's `bin`: executable, with the shebang of its source.
  chmodSync(path.join(out, 'main', 'cli.js'), 0o755);
}

async function buildWorker(): Promise<void> {
  const dir = path.join(out, 'worker');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pages = [
    { html: 'index.html', entry: 'worker/main.ts', marker: '/*WORKER_SCRIPT*/' },
    { html: 'install.html', entry: 'worker/install.ts', marker: '/*INSTALL_SCRIPT*/' },
  ];
  for (const page of pages) {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [page.entry],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'iife',
      target: ['chrome120', 'firefox120', 'safari17'],
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    });
    const script = (result.outputFiles[0]?.text ?? '').replaceAll('</script', '<\\/script');
    const template = readFileSync(path.join(root, 'worker', page.html), 'utf8');
    if (!template.includes(page.marker)) throw new Error(`worker/${page.html} lacks ${page.marker}`);
    const html = template.replace(page.marker, () => script);
    writeFileSync(path.join(dir, page.html), html);
    if (page.html === 'index.html') {
      console.log(`out/worker/index.html: ${(html.length / 1024).toFixed(1)} KB, ${(gzipSync(html).length / 1024).toFixed(1)} KB gzipped`);
    }
  }
  copyFileSync(path.join(root, 'worker', 'error.html'), path.join(dir, 'error.html'));
  // The administrator copies it to portals.json with the portals this host serves (none without it).
  copyFileSync(path.join(root, 'worker', 'portals.example.json'), path.join(dir, 'portals.example.json'));
}

/** The sandboxed preload must be one CommonJS file; the windows are a script and a stylesheet (a strict CSP). */
async function buildWindows(): Promise<void> {
  for (const dir of ['preload', 'renderer']) rmSync(path.join(out, dir), { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: ['preload/index.ts'],
    outfile: 'out/preload/index.cjs',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: ['electron'],
    logLevel: 'warning',
  });
  await build({
    absWorkingDir: root,
    entryPoints: ['renderer/app.ts'],
    outfile: 'out/renderer/app.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome130',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(path.join(root, 'renderer', file), path.join(out, 'renderer', file));
}

await Promise.all([buildMain(), buildWorker(), buildWindows()]);
