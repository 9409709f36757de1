import { existsSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { exited, freePort, runCli } from '../helpers/cli.ts';
import { TEST_ORIGIN as ORIGIN, useServe, useServeProcesses, useWorkers } from '../helpers/lifecycle.ts';
import { seedStore } from '../helpers/seed.ts';

const tempDir = useTempDirs();
const { serve: startServing } = useServe();
const bareServes = useServeProcesses();
const newWorker = useWorkers();
const serve = (dataDir: string) => startServing(dataDir);

describe('bad arguments: one line naming the argument, exit 2', () => {
  it.each([
    [[], /Usage/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['serve'], /--data-dir is required/],
    [['serve', '--data-dir', 'x', '--port', 'abc'], /--port must be a port number/],
    [['serve', '--data-dir', 'x', '--port', '70000'], /--port must be a port number/],
    [['serve', '--data-dir', 'x', '--allow-origin', 'worker.test'], /--allow-origin must be an origin/],
    [['serve', '--data-dir', 'x', '--allow-origin', 'https://w.test/path'], /--allow-origin must be an origin/],
    [['serve', '--data-dir', 'x', '--allow-origin', 'http://w.test'], /--allow-origin must be an https:\/\/ origin: Bitrix24 embeds application pages over HTTPS only/],
    [['serve', '--data-dir', 'x', '--auto-approve'], /--auto-approve needs at least one --allow-origin/],
    [['serve', '--data-dir', 'x', '--verbose'], /unknown option '--verbose'/],
    [['export', '--data-dir', 'x', '--out', 'f'], /--format is required/],
    [['export', '--data-dir', 'x', '--format', 'pdf', '--out', 'f'], /--format must be one of csv, xlsx, jsonl/],
    [['export', '--data-dir', 'x', '--format', 'xlsx', '--out', '-'], /an xlsx export needs a file/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--kind', 'people', '--out', 'f'], /--kind must be one of calls, events/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--tz', 'Mars/Olympus', '--out', 'f'], /--tz must be an IANA time zone/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--from', '2026-13-01', '--out', 'f'], /--from must be a date/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--from', 'yesterday', '--out', 'f'], /--from must be a date/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--from', '2026-11-02', '--to', '2026-11-01', '--out', 'f'], /--from must be before --to/],
    [['export', '--data-dir', 'x', '--format', 'csv'], /--out is required/],
    [['export', '--data-dir', 'x', '--format', 'jsonl', '--delimiter', ';', '--out', 'f'], /--delimiter applies to --format csv only/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--delimiter', '|', '--out', 'f'], /--delimiter must be "," or ";" \(got "\|"\)/],
    [['export', '--data-dir', 'x', '--format', 'csv', '--out', '/nonexistent-folder/calls.csv'], /--out: the folder \/nonexistent-folder does not exist/],
    [['status', '--json', 'yes'], /Unexpected argument 'yes'|unexpected argument/i],
    [['mute', '--now'], /unknown option '--now'/],
  ])('%j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    const output = args.length === 0 ? result.stdout : result.stderr;
    expect(output).toMatch(message);
    if (args.length > 0) expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('failures: exit 1 with a clear message', () => {
  it('export without a database', async () => {
    const result = await runCli(['export', '--data-dir', tempDir(), '--format', 'csv', '--out', '-']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no session log in .* \(expected sessions\.sqlite\)/);
  });

  it('control commands without a running instance', async () => {
    const result = await runCli(['mute', '--data-dir', tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no running instance/);
  });

  it('status on an empty directory says so and succeeds', async () => {
    const result = await runCli(['status', '--data-dir', tempDir()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/store: none yet/);
    expect(result.stdout).toMatch(/running: no instance/);
  });

  it('status counts in words and gives times in the computer\'s zone, like the export', async () => {
    const dir = tempDir();
    seedStore(dir, { calls: 5, events: 20, operators: 1 });
    const result = await runCli(['status', '--data-dir', dir], { env: { ...process.env, TZ: 'Europe/Moscow' } });
    expect(result.stdout).toMatch(/^store: 5 calls \(0 open\), 20 events, 1 operator$/m);
    expect(result.stdout).toMatch(/^calls from 2025-12-01T09:01:00\+03:00 to 2025-12-01T09:05:00\+03:00$/m);
  });

  it('serve says when no worker page may connect, and when it took another port than asked', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const s = await startServing(tempDir(), { port, autoApprove: false });
      expect(s.port).not.toBe(port);
      await expect.poll(() => s.stderr()).toMatch(new RegExp(`"event":"portInUse".*port ${port} is taken by another program; listening on ${s.port}`));
      const bare = await bareServes.start(['--data-dir', tempDir(), '--port', String(await freePort())]);
      await expect.poll(() => bare.stderr()).toMatch(/"event":"noWorkerOrigin".*no Bitrix24 worker page can connect; add --allow-origin/);
    } finally {
      blocker.close();
    }
  });

  it('a second serve on the same data directory is refused', async () => {
    const dir = tempDir();
    await serve(dir);
    const second = await runCli(['serve', '--data-dir', dir, '--port', String(await freePort())]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already running on/);
  });
});

describe('serve, control and export end to end', () => {
  it('drives a call from the command line and exports what happened', async () => {
    const dir = tempDir();
    const s = await serve(dir);
    const control = JSON.parse(readFileSync(path.join(dir, 'control.json'), 'utf8')) as { secret: string };
    expect(control.secret.length).toBeGreaterThan(30);
    if (process.platform !== 'win32') expect(statSync(path.join(dir, 'control.json')).mode & 0o777).toBe(0o600);

    expect((await runCli(['toggle', '--data-dir', dir])).stderr).toMatch(/toggle failed: no_call/);

    const w = newWorker({ port: s.port, origin: ORIGIN, userName: '=1+2 Ольга' });
    await w.connect();
    const t = Date.UTC(2026, 10, 28, 9, 0, 0);
    await w.emitAndWait('initialized', { CALL_ID: 'c1', PHONE_NUMBER: '+74951234567', CALL_DIRECTION: 'incoming' }, t);
    await w.emitAndWait('muteButtonClick', true, t + 10_000);
    await w.emitAndWait('muteButtonClick', false, t + 40_000);

    const unmute = await runCli(['unmute', '--data-dir', dir]);
    expect(unmute).toMatchObject({ code: 0, stdout: 'unmute: done\n' });

    const status = await runCli(['status', '--data-dir', dir, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ store: { calls: 1, openCalls: 1 }, running: { port: s.port, view: { state: 'live' } } });

    await w.emitAndWait('holdButtonClick', true, t + 50_000);
    await w.emitAndWait('holdButtonClick', false, t + 65_000);
    await w.emitAndWait('hangupButtonClick', [], t + 90_000);

    const csvFile = path.join(dir, 'calls.csv');
    const exported = await runCli(['export', '--data-dir', dir, '--format', 'csv', '--tz', 'Europe/Moscow', '--out', csvFile]);
    expect(exported.code).toBe(0);
    const csv = readFileSync(csvFile, 'utf8');
    expect(csv.startsWith('\uFEFFcall_id,portal,operator_id,operator_name,phone_number')).toBe(true);
    const [, row] = csv.split('\r\n');
    // Text that a spreadsheet would run as a formula is neutralised with an apostrophe; a phone number is a string
    // literal that a spreadsheet shows as +74951234567; numbers are left alone.
    expect(row).toBe(
      `c1,acme.bitrix24.com,7,'=1+2 Ольга,"=""+74951234567""",incoming,,,,2026-11-28T12:00:00+03:00,2026-11-28T12:01:30+03:00,hangup,90,30,33.3,,1,30,15,1,0`,
    );
    expect(existsSync(`${csvFile}.partial`)).toBe(false);

    // An independent reader: the sqlite3 command-line tool imports the CSV and sums the columns.
    const sums = execFileSync('sqlite3', [':memory:', '.mode csv', `.import ${csvFile} calls`, 'SELECT sum(muted_s), sum(held_s), count(*) FROM calls;'], { encoding: 'utf8' });
    expect(sums.trim()).toBe('30,15,1');

    const jsonl = await runCli(['export', '--data-dir', dir, '--format', 'jsonl', '--kind', 'events', '--tz', 'UTC', '--out', '-']);
    const events = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // In time order: the scripted clicks are stamped 09:00-09:01:30, the CLI's unmute was applied at the real now.
    expect(events.map((e) => e.event)).toEqual(['initialized', 'muteButtonClick', 'muteButtonClick', 'holdButtonClick', 'holdButtonClick', 'hangupButtonClick', 'CallCardSetMute']);
    expect(events[0]).toMatchObject({ at: '2026-11-28T09:00:00+00:00', call_id: 'c1', operator_id: '7', source: 'card' });
    expect(events[6]).toMatchObject({ source: 'cli', payload: expect.stringMatching(/"muted":false/) });

    const filtered = await runCli(['export', '--data-dir', dir, '--format', 'csv', '--operator', '99', '--out', '-']);
    expect(filtered.stdout.trim().split('\r\n')).toHaveLength(1);
    const otherDay = await runCli(['export', '--data-dir', dir, '--format', 'csv', '--from', '2026-11-29', '--tz', 'Europe/Moscow', '--out', '-']);
    expect(otherDay.stdout.trim().split('\r\n')).toHaveLength(1);
    const thatDay = await runCli(['export', '--data-dir', dir, '--format', 'csv', '--from', '2026-11-28', '--to', '2026-11-28', '--tz', 'Europe/Moscow', '--delimiter', ';', '--out', '-']);
    expect(thatDay.stdout.split('\r\n')[1]).toMatch(/^c1;acme\.bitrix24\.com;7;/);

    s.child.kill('SIGTERM');
    expect(await exited(s.child)).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(dir, 'control.json'))).toBe(false);
  });
});
