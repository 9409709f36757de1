// `npm start`: runs the desktop app on Electron when its binary is present. Where it cannot be downloaded (as on
// machines without access to GitHub) it says so in one line and points to the headless `serve`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { electronBinary } from './electron-binary.ts';

const root = path.join(import.meta.dirname, '..');
const binary = electronBinary(root);

if (!existsSync(binary)) {
  console.error(
    'Electron\'s binary is not installed here (it downloads from GitHub on first use); run the app headless instead: ' +
      'npx operator-companion serve --data-dir ./data --allow-origin https://YOUR-WORKER-HOST --auto-approve',
  );
  process.exit(1);
}
const child = spawn(binary, [root], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
