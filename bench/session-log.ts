// `npm run bench` (session log): the supervisor window's queries on a generated store of 1M calls and 5M events
// (generation not timed): the first page and a page at offset 900 000 in every sort, either direction, and a month
// of per-day totals. Median of three runs each after one warm-up; targets from issue 14: any page ≤ 200 ms,
// a month of totals ≤ 500 ms. Asserts nothing (benchmarks are not tests).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openForExport } from '../main/core/export/export-log.ts';
import { dailyTotals, LOG_SORT_COLUMNS, queryCalls } from '../main/core/log/session-log.ts';
import { seedStore } from '../test/helpers/seed.ts';

const CALLS = Number(process.env.BENCH_LOG_CALLS ?? 1_000_000);
const EVENTS = CALLS * 5;
const PAGE = 200;
const DEEP = Math.floor(CALLS * 0.9);

function median(run: () => unknown): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[1] as number;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-bench-log-'));
try {
  const generated = performance.now();
  // Calls a minute apart from 2025-12-01: a month is about 44 640 calls.
  seedStore(dir, { calls: CALLS, events: EVENTS });
  console.log(`\nSession log (${CALLS} calls, ${EVENTS} events; generated in ${((performance.now() - generated) / 1000).toFixed(0)} s, not counted)`);
  const db = openForExport(dir);
  let worst = 0;
  console.log('  sort              first page ms (asc/desc)   page at ' + DEEP + ' ms (asc/desc)');
  for (const column of LOG_SORT_COLUMNS) {
    const times = [false, true].flatMap((descending) => [
      median(() => queryCalls(db, {}, { column, descending }, { offset: 0, limit: PAGE })),
      median(() => queryCalls(db, {}, { column, descending }, { offset: DEEP, limit: PAGE })),
    ]);
    worst = Math.max(worst, ...times);
    const [firstAsc, deepAsc, firstDesc, deepDesc] = times.map((t) => t.toFixed(1).padStart(7)) as [string, string, string, string];
    console.log(`  ${column.padEnd(16)}  ${firstAsc} / ${firstDesc}             ${deepAsc} / ${deepDesc}`);
  }
  const from = Date.UTC(2026, 0, 1);
  const to = Date.UTC(2026, 1, 1);
  const month = median(() => dailyTotals(db, { from, to }, 'Europe/Moscow'));
  const calls = queryCalls(db, { from, to }, { column: 'startedAt', descending: false }, { offset: 0, limit: 1 }).total;
  console.log(`  per-day totals, January 2026 (${calls} calls, Europe/Moscow)   ${month.toFixed(0)} ms`);
  console.log(`  targets: slowest page ${worst.toFixed(1)} ms (≤ 200: ${worst <= 200 ? 'met' : 'MISSED'}, ${(worst / 200).toFixed(2)}x of it); ` +
    `month of totals ${month.toFixed(0)} ms (≤ 500: ${month <= 500 ? 'met' : 'MISSED'}, ${(month / 500).toFixed(2)}x of it)`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
