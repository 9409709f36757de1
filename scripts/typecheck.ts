// Type-checks each runtime against its own configuration: Node side, browser side, and the end-to-end tests
// that are both.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const tsc = path.join(import.meta.dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');
let failed = false;
for (const project of ['tsconfig.json', 'tsconfig.web.json', 'tsconfig.e2e.json']) {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
