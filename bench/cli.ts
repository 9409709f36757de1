// `npm run bench` (part 4): how long a control command (`operator-companion mute`, bound to a hotkey or a hardware
// button) takes to start and answer, against a bare Node start measured in the same run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUNS = 30;
const CLI = path.join(import.meta.dirname, '..', 'out', 'main', 'cli.js');
// No instance runs on this folder: the command loads, looks, and answers "nothing is running" (exit 1).
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-bench-cli-'));

function time(args: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const start = performance.now();
    try {
      execFileSync(process.execPath, args, { stdio: 'ignore' });
    } catch {
      // exit 1 is the expected answer here
    }
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

try {
  const bare = time(['-e', '0']);
  const mute = time([CLI, 'mute', '--data-dir', dataDir]);
  const median = (values: number[]): number => values[Math.floor(values.length / 2)] as number;
  console.log(`\nControl command (${RUNS} runs each)`);
  console.log(`${'bare node start'.padEnd(44)} p50 ${median(bare).toFixed(1).padStart(6)} ms`);
  console.log(`${'operator-companion mute (nothing running)'.padEnd(44)} p50 ${median(mute).toFixed(1).padStart(6)} ms`);
  console.log(`${'ratio to bare node start'.padEnd(44)} p50 ${(median(mute) / median(bare)).toFixed(1)}x`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
