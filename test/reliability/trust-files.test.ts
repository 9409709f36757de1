// Issue 10, the files: what another user or a planted file can do to the exports and the data directory, tried
// against the real CLI on real files, and spreadsheets read back by LibreOffice.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { TEST_ORIGIN as ORIGIN, useServe, useWorkers } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const { serve, stop } = useServe();
const newWorker = useWorkers();

/** A data directory with one call whose phone number and comment are what the test wants to see exported. */
async function recordCall(dataDir: string, phone = '+74951234567', comment = 'ok'): Promise<void> {
  const s = await serve(dataDir);
  const w = newWorker({ port: s.port, origin: ORIGIN });
  await w.connect();
  await w.emitAndWait('initialized', { CALL_ID: 'call-1', PHONE_NUMBER: phone });
  await w.emitAndWait('addCommentButtonClick', comment);
  await w.emitAndWait('hangupButtonClick');
  await w.disconnect();
  await stop(s);
}

const exportArgs = (dataDir: string, format: string, out: string, kind = 'calls'): string[] =>
  ['export', '--data-dir', dataDir, '--format', format, '--kind', kind, '--from', '2000-01-01', '--to', '2100-01-01', '--out', out];

describe('exports do not follow planted files (8)', () => {
  it('a symlink planted at the old temporary name does not get its target overwritten', async () => {
    const dataDir = tempDir();
    await recordCall(dataDir);
    const shared = tempDir();
    const victim = path.join(tempDir(), 'victim.txt');
    writeFileSync(victim, 'precious');
    const out = path.join(shared, 'log.csv');
    symlinkSync(victim, `${out}.partial`);
    const result = await runCli(exportArgs(dataDir, 'csv', out));
    expect(result).toMatchObject({ code: 0 });
    // Before the fix: victim.txt held the export.
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(out, 'utf8')).toMatch(/call-1/);
    expect(lstatSync(out).isFile()).toBe(true);
    // No temporary file is left behind, and the planted link is untouched.
    expect(readdirSync(shared).sort()).toEqual(['log.csv', 'log.csv.partial']);
  });

  it('refuses a target that is a symlink, a FIFO or a folder, and writes nothing through it', async () => {
    const dataDir = tempDir();
    await recordCall(dataDir);
    const shared = tempDir();
    const victim = path.join(tempDir(), 'victim.txt');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, path.join(shared, 'link.csv'));
    execFileSync('mkfifo', [path.join(shared, 'pipe.csv')]);
    mkdirSync(path.join(shared, 'dir.csv'));
    for (const name of ['link.csv', 'pipe.csv', 'dir.csv']) {
      const result = await runCli(exportArgs(dataDir, 'csv', path.join(shared, name)));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/not a regular file/);
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readdirSync(shared).sort()).toEqual(['dir.csv', 'link.csv', 'pipe.csv']);
    // An existing regular file is replaced as a whole (renamed over, never written in place).
    const out = path.join(shared, 'log.csv');
    writeFileSync(out, 'old');
    const inode = statSync(out).ino;
    expect(await runCli(exportArgs(dataDir, 'csv', out))).toMatchObject({ code: 0 });
    expect(statSync(out).ino).not.toBe(inode);
    expect(readFileSync(out, 'utf8')).toMatch(/call-1/);
  });
});

describe('the data directory is private (9)', () => {
  const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8);

  it('a data folder that already existed with 0755 and a database with 0644 are tightened on start; new files are 0600', async () => {
    const dataDir = path.join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(path.join(dataDir, 'settings.json'), '{}', { mode: 0o644 });
    await recordCall(dataDir);
    const s = await serve(dataDir);
    const w = newWorker({ port: s.port, origin: ORIGIN });
    await w.connect();
    await w.emitAndWait('muteButtonClick', true);
    // Before the fix: 755 for the folder, 644 for the database and its WAL, readable by every user.
    expect(mode(dataDir)).toBe('700');
    for (const name of ['sessions.sqlite', 'sessions.sqlite-wal', 'sessions.sqlite-shm', 'settings.json', 'control.json']) {
      if (existsSync(path.join(dataDir, name))) expect([name, mode(path.join(dataDir, name))]).toEqual([name, '600']);
    }
    expect(existsSync(path.join(dataDir, 'sessions.sqlite-wal'))).toBe(true);
    await stop(s);

    // A database file someone loosened is tightened again on the next start.
    chmodSync(path.join(dataDir, 'sessions.sqlite'), 0o644);
    chmodSync(dataDir, 0o755);
    await serve(dataDir);
    expect(mode(dataDir)).toBe('700');
    expect(mode(path.join(dataDir, 'sessions.sqlite'))).toBe('600');
  });
});
