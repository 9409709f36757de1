// Export benchmark: a generated store exported by `operator-companion export` (CSV of events and of calls, and
// XLSX with both), against the sqlite3 command-line tool writing the same event rows as CSV, in the same run:
// once as raw values (times as integers) and once as the same text as ours (ISO times made by strftime in SQL).
// Time and peak memory (the child's VmHWM) at two sizes, to show that memory stays bounded as the store grows.
// Targets (issue 14): events CSV ≤ 2× raw sqlite3 and ≤ 1.5× sqlite3 writing the same text, peak < 150 MB at
// 1M events; XLSX (calls + events) ≤ 4× raw sqlite3, with flat memory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedStore } from '../test/helpers/seed.ts';

const CLI = path.join(import.meta.dirname, '..', 'out', 'main', 'cli.js');
const SIZES = [
  { calls: 10_000, events: 100_000 },
  { calls: 100_000, events: 1_000_000 },
];

interface Run {
  seconds: number;
  peakMb: number;
  bytes: number;
}

/** Runs a command, sampling its peak resident memory from /proc until it exits. */
function measure(command: string, args: string[], outFile: string, stdoutToFile = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', stdoutToFile ? 'pipe' : 'ignore', 'pipe'] });
    let peakKb = 0;
    let stderr = '';
    const sample = (): void => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // Gone already.
      }
    };
    const timer = setInterval(sample, 10);
    if (stdoutToFile && child.stdout) {
      import('node:fs').then(({ createWriteStream }) => child.stdout!.pipe(createWriteStream(outFile)), reject);
    }
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${stderr}`));
      setTimeout(() => {
        resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, peakMb: peakKb / 1024, bytes: statSync(outFile).size });
      }, 50);
    });
  });
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits).padStart(8);

const EVENTS_SQL = `SELECT e.event_id, e.at, c.call_id, p.domain, o.user_id, o.name, f.app_sid, e.seq, e.name, e.source, e.payload, e.client_at, e.received_at
  FROM events e JOIN frames f ON f.id = e.frame_id JOIN operators o ON o.id = f.operator_id JOIN portals p ON p.id = f.portal_id
  LEFT JOIN calls c ON c.id = e.call_id ORDER BY e.at, e.id`;

/** The same rows as EVENTS_SQL, written as our export writes them with --tz UTC: ISO times, our column names. */
const ISO = (column: string): string => `strftime('%Y-%m-%dT%H:%M:%S+00:00', ${column} / 1000, 'unixepoch')`;
const EVENTS_TEXT_SQL = `SELECT e.event_id, ${ISO('e.at')} AS at, c.call_id, p.domain AS portal, o.user_id AS operator_id, o.name AS operator_name,
  f.app_sid AS tab, e.seq, e.name AS event, e.source, e.payload, ${ISO('e.client_at')} AS browser_time, ${ISO('e.received_at')} AS received_at
  FROM events e JOIN frames f ON f.id = e.frame_id JOIN operators o ON o.id = f.operator_id JOIN portals p ON p.id = f.portal_id
  LEFT JOIN calls c ON c.id = e.call_id ORDER BY e.at, e.id`;

console.log('Export benchmark: operator-companion export against the sqlite3 tool, same rows, same run\n');
for (const size of SIZES) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-export-bench-'));
  try {
    const seeded = seedStore(dir, size);
    const db = path.join(dir, 'sessions.sqlite');
    const baseline = await measure('sqlite3', ['-csv', '-header', db, EVENTS_SQL], path.join(dir, 'baseline.csv'), true);
    const sameText = await measure('sqlite3', ['-csv', '-header', db, EVENTS_TEXT_SQL], path.join(dir, 'same-text.csv'), true);
    const eventsCsv = await measure(process.execPath, [CLI, 'export', '--data-dir', dir, '--format', 'csv', '--kind', 'events', '--tz', 'UTC', '--out', path.join(dir, 'events.csv')], path.join(dir, 'events.csv'));
    const callsCsv = await measure(process.execPath, [CLI, 'export', '--data-dir', dir, '--format', 'csv', '--kind', 'calls', '--tz', 'UTC', '--out', path.join(dir, 'calls.csv')], path.join(dir, 'calls.csv'));
    const xlsx = await measure(process.execPath, [CLI, 'export', '--data-dir', dir, '--format', 'xlsx', '--tz', 'UTC', '--out', path.join(dir, 'log.xlsx')], path.join(dir, 'log.xlsx'));
    console.log(`${seeded.calls} calls, ${seeded.events} events`);
    console.log('                                       seconds  peak MB  file MB   time vs sqlite3  vs same text');
    const line = (label: string, run: Run): void =>
      console.log(`  ${label.padEnd(35)}${fmt(run.seconds)} ${fmt(run.peakMb, 0)} ${fmt(run.bytes / 1048576, 1)}   ${fmt(run.seconds / baseline.seconds, 1)}x   ${fmt(run.seconds / sameText.seconds, 2)}x`);
    line('sqlite3 -csv (events, baseline)', baseline);
    line('sqlite3 -csv (events, same text)', sameText);
    line('export csv --kind events', eventsCsv);
    line('export csv --kind calls', callsCsv);
    line('export xlsx (calls + events)', xlsx);
    const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
    console.log(`  targets: events csv ${fmt(eventsCsv.seconds / baseline.seconds, 2)}x raw (≤ 2x: ${met(eventsCsv.seconds <= 2 * baseline.seconds)}), ` +
      `${fmt(eventsCsv.seconds / sameText.seconds, 2)}x same text (≤ 1.5x: ${met(eventsCsv.seconds <= 1.5 * sameText.seconds)}), ` +
      `peak ${eventsCsv.peakMb.toFixed(0)} MB (< 150: ${met(eventsCsv.peakMb < 150)}); xlsx ${fmt(xlsx.seconds / baseline.seconds, 2)}x raw (≤ 4x: ${met(xlsx.seconds <= 4 * baseline.seconds)}), peak ${xlsx.peakMb.toFixed(0)} MB`);
    console.log('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
