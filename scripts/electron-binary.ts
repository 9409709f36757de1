// Where Electron's binary is for this checkout (the same lookup the `electron` package does, without its
// download-on-first-use): `npm start` and `npm run test:electron` ask here.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function electronBinary(root: string): string {
  const electronDir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(electronDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  return override ? path.join(override, relative) : path.join(electronDir, 'dist', relative);
}
