// Builds out/ once before the tests: the CLI tests run the real `operator-companion` binary.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [path.join(import.meta.dirname, '..', 'scripts', 'build.ts')], { stdio: 'inherit' });
}
