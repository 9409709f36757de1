// Issue 10, the files: what another user or a planted file can do to the exports and the data directory, tried
// against the real CLI on real files, and spreadsheets read back by LibreOffice.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
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

/** What LibreOffice makes of a file, as an office user would see it: each cell's shown text and any formula. */
async function openInLibreOffice(file: string, infilter?: string): Promise<Array<Array<{ text: string; formula?: string }>>> {
  const outDir = tempDir();
  execFileSync('soffice', [
    '--headless', `-env:UserInstallation=file://${tempDir()}`,
    ...(infilter ? [`--infilter=${infilter}`] : []),
    '--convert-to', 'xlsx', '--outdir', outDir, file,
  ], { stdio: 'pipe', timeout: 120_000 });
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path.join(outDir, `${path.basename(file, path.extname(file))}.xlsx`));
  const rows: Array<Array<{ text: string; formula?: string }>> = [];
  workbook.worksheets[0]!.eachRow((row) => {
    const cells: Array<{ text: string; formula?: string }> = [];
    row.eachCell({ includeEmpty: true }, (cell) => cells.push({ text: cell.text, ...(cell.formula ? { formula: cell.formula } : {}) }));
    rows.push(cells);
  });
  return rows;
}

describe('spreadsheets: formulas neutralised, phone numbers shown as they are (10)', () => {
  // CSV import options: comma, double quote, UTF-8, from line 1, then (token 11) "Trim spaces" on, which makes
  // LibreOffice evaluate " =1+2" as a formula.
  const TRIMMING = 'Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,true,-1,true';
  const UTF8 = 'Text - txt - csv (StarCalc):44,34,76,1';

  it('CSV: a formula after leading whitespace or a line break stays text; +7… shows as +7…', async () => {
    const dataDir = tempDir();
    await recordCall(dataDir, '+74951234567');
    // Operators' names come from the worker, that is from whoever speaks on the socket.
    for (const [i, name] of [' =1+2', '\n=2+3', '\r\n@SUM(4;5)', '\u00a0-6+7', '=HYPERLINK("http://evil.example";"x")'].entries()) {
      const s = await serve(dataDir);
      const w = newWorker({ port: s.port, origin: ORIGIN, userId: String(20 + i), userName: name, appSid: `n${i}` });
      await w.connect();
      await w.emitAndWait('initialized', { CALL_ID: `call-n${i}`, PHONE_NUMBER: '+74951234567' });
      await w.disconnect();
      await stop(s);
    }
    const out = path.join(tempDir(), 'calls.csv');
    expect(await runCli(exportArgs(dataDir, 'csv', out))).toMatchObject({ code: 0 });
    for (const infilter of [UTF8, TRIMMING]) {
      const rows = await openInLibreOffice(out, infilter);
      const header = rows[0]!.map((c) => c.text);
      const phone = header.indexOf('phone_number');
      const name = header.indexOf('operator_name');
      expect(rows).toHaveLength(7);
      for (const row of rows.slice(1)) {
        // Before the fix: shown as '+74951234567 (with the apostrophe).
        expect(row[phone]!.text).toBe('+74951234567');
        // Before the fix, with trimming: " =1+2" became the formula 1+2, shown as 3.
        for (const [i, cell] of row.entries()) {
          if (i !== phone) expect([header[i], cell.formula]).toEqual([header[i], undefined]);
        }
        // The only formula is the phone number's own string literal.
        if (row[phone]!.formula !== undefined) expect(row[phone]!.formula).toBe('"+74951234567"');
      }
      expect(rows.slice(1).map((r) => r[name]!.text)).toContain("' =1+2");
    }
  });

  it('XLSX: phone numbers and formula-like names are text cells, shown as they are', async () => {
    const dataDir = tempDir();
    await recordCall(dataDir, '+74951234567');
    const s = await serve(dataDir);
    const w = newWorker({ port: s.port, origin: ORIGIN, userId: '30', userName: ' =1+2', appSid: 'x' });
    await w.connect();
    await w.emitAndWait('initialized', { CALL_ID: 'call-x', PHONE_NUMBER: '+74951234567' });
    await w.disconnect();
    const out = path.join(tempDir(), 'log.xlsx');
    expect(await runCli(exportArgs(dataDir, 'xlsx', out))).toMatchObject({ code: 0 });
    const rows = await openInLibreOffice(out);
    const header = rows[0]!.map((c) => c.text);
    for (const row of rows.slice(1)) {
      expect(row[header.indexOf('phone_number')]).toEqual({ text: '+74951234567' });
      for (const cell of row) expect(cell.formula).toBeUndefined();
    }
    expect(rows.slice(1).map((r) => r[header.indexOf('operator_name')]!.text)).toContain(' =1+2');
  });
});
