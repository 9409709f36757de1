// `npm run test:electron`: launches the real desktop app where Electron's binary exists (a developer's
// machine), waits until it is up, and quits it. Where the binary cannot be downloaded it says it was skipped.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electronBinary } from './electron-binary.ts';

const root = path.join(import.meta.dirname, '..');
const binary = electronBinary(root);

if (!existsSync(binary)) {
  console.log(`test:electron skipped: Electron's binary is not installed (${binary}); the Electron layer is type-checked and its logic tested under Node.`);
  process.exit(0);
}
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-electron-'));
const child = spawn(binary, [root], { env: { ...process.env, OPERATOR_COMPANION_SMOKE_TEST: '1', OPERATOR_COMPANION_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
let output = '';
child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
child.on('exit', (code) => {
  clearTimeout(timer);
  rmSync(dataDir, { recursive: true, force: true });
  const ready = output.split('\n').find((line) => line.includes('"event":"ready"'));
  if (code === 0 && ready) {
    console.log(`test:electron passed: the app started (${ready}) and quit cleanly`);
    process.exit(0);
  }
  console.error(`test:electron failed: exit ${code}, output: ${output}`);
  process.exit(1);
});
