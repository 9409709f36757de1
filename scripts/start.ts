// `npm start`: runs the desktop app on Electron when its binary is present. Where it cannot be downloaded (as on
// machines without access to GitHub) it says so in one line and points to the headless `serve`.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..');
const electronDir = path.join(root, 'node_modules', 'electron');
const pathFile = path.join(electronDir, 'path.txt');
const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
const binary = override ? path.join(override, relative) : path.join(electronDir, 'dist', relative);

if (!existsSync(binary)) {
  console.error(
    'Electron\'s binary is not installed here (it downloads from GitHub on first use); run the app headless instead: ' +
      'npx operator-companion serve --data-dir ./data --allow-origin https://YOUR-WORKER-HOST --auto-approve',
  );
  process.exit(1);
}
const child = spawn(binary, [root], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
