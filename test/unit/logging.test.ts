// The logger on a real temporary folder: files and their modes, rotation by size with a bounded number of
// files, and no phone number or secret in any line written.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogging, fileLogging, formatLine } from '../../main/core/logging/logger.ts';
import { redact, redactText } from '../../main/core/logging/redact.ts';
import { LOG_FILE_NAME, logDir, logFiles, RotatingFile } from '../../main/core/logging/rotating-file.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const posix = process.platform !== 'win32';

function lines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('redaction', () => {
  it('replaces phone numbers however they are written', () => {
    for (const phone of ['+74951234567', '89161234567', '+7 (495) 123-45-67', '8 800 555-35-35', '4951234567', '+1 212 555 0100']) {
      expect(redactText(`call from ${phone}, ringing`)).toBe('call from [phone], ringing');
    }
  });

  it('keeps what only looks like digits: times, dates, ids, ports, versions, short numbers', () => {
    const keep = [
      '2026-05-01T10:00:00.000Z',
      '2026-05-01 10:00',
      'sessions.sqlite.corrupt-2026-05-01T10-00-00.000Z',
      'frame 550e8400-e29b-41d4-a716-446655440000',
      'ws://127.0.0.1:17345',
      'Electron 45.5.0, Chromium 140.0.7339.41',
      'extension 1234',
      'a1b2c3d4e5f60718293',
    ];
    for (const text of keep) expect(redactText(text)).toBe(text);
  });

  it('removes secrets by the name of their field, at any depth, and phones by field name too', () => {
    const entry = {
      event: 'pairingRequested',
      pairingToken: 'pt-abc',
      nested: { AUTH_ID: 'a1', refresh_id: 'r1', password: 'hunter2', 'x-api-key': 'k', list: [{ secret: 's', ok: 1 }] },
      Authorization: 'Bearer x',
      phoneNumber: '+74951234567',
      PHONE_NUMBER: 74951234567,
      userName: 'Anna',
      port: 17345,
      at: 1_777_000_000_000,
      emptyToken: '',
      microphone: { device: 'default', muted: true },
    };
    expect(redact(entry)).toEqual({
      event: 'pairingRequested',
      pairingToken: '[redacted]',
      nested: { AUTH_ID: '[redacted]', refresh_id: '[redacted]', password: '[redacted]', 'x-api-key': '[redacted]', list: [{ secret: '[redacted]', ok: 1 }] },
      Authorization: '[redacted]',
      phoneNumber: '[phone]',
      PHONE_NUMBER: '[phone]',
      userName: 'Anna',
      port: 17345,
      at: 1_777_000_000_000,
      emptyToken: '',
      microphone: { device: 'default', muted: true },
    });
  });

  it('writes errors as name and message, and survives cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact({ error: new TypeError('no call for +74951234567'), cyclic })).toEqual({
      error: { name: 'TypeError', message: 'no call for [phone]' },
      cyclic: { a: 1, self: '[cycle]' },
    });
  });

  it('puts time, level, module and event first, and fields cannot overwrite them', () => {
    const line = formatLine(Date.UTC(2026, 4, 1, 10), 'warn', 'Relay', 'upgradeRejected', { level: 'debug', module: 'x', reason: 'origin' });
    expect(line).toBe('{"time":"2026-05-01T10:00:00.000Z","level":"warn","module":"Relay","event":"upgradeRejected","reason":"origin"}');
  });
});

describe('file logging', () => {
  it('writes leveled JSON lines per module to DATA_DIR/logs/companion.log, owner-only', () => {
    const dataDir = tempDir();
    const logging = fileLogging(dataDir, { now: () => Date.UTC(2026, 4, 1, 9, 30) });
    logging.logger('Tray').info('shown', { icon: 'waiting' });
    logging.logger('Tray').debug('hidden detail');
    logging.logger('Diagnostics').error('saveFailed', { message: 'EACCES' });
    logging.close();

    const file = path.join(dataDir, 'logs', LOG_FILE_NAME);
    expect(lines(file)).toEqual([
      { time: '2026-05-01T09:30:00.000Z', level: 'info', module: 'Tray', event: 'shown', icon: 'waiting' },
      { time: '2026-05-01T09:30:00.000Z', level: 'error', module: 'Diagnostics', event: 'saveFailed', message: 'EACCES' },
    ]);
    if (posix) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(logDir(dataDir)).mode & 0o777).toBe(0o700);
    }
  });

  it("routes the core's events to their module and level, without the phone or the token", () => {
    const dataDir = tempDir();
    const logging = fileLogging(dataDir);
    logging.core({ event: 'storeFailed', message: 'SQLITE_FULL: database or disk is full' });
    logging.core({ event: 'pairingRefused', origin: 'https://w.test', domain: 'acme.bitrix24.ru', memberId: 'm1', userId: '7', userName: null, reason: 'nobody to ask' });
    logging.core({ event: 'upgradeRejected', reason: 'origin https://evil.test is not allowed' });
    logging.core({ event: 'workerReport', frameId: 3, detail: 'card says +7 916 123-45-67', token: 'abc' });
    logging.close();
    const written = readFileSync(path.join(logDir(dataDir), LOG_FILE_NAME), 'utf8');
    expect(written).not.toMatch(/916|abc"/);
    expect(lines(path.join(logDir(dataDir), LOG_FILE_NAME)).map((l) => [l.level, l.module, l.event])).toEqual([
      ['error', 'Store', 'storeFailed'],
      ['warn', 'Pairing', 'pairingRefused'],
      ['warn', 'Relay', 'upgradeRejected'],
      ['info', 'Relay', 'workerReport'],
    ]);
  });

  it('rotates by size and keeps at most maxFiles files, the newest lines in companion.log', () => {
    const dir = tempDir();
    const file = new RotatingFile(dir, { maxBytes: 1_000, maxFiles: 3 });
    // 100 lines of 100 bytes: 10 per file, so 10 files' worth passes through 3.
    for (let i = 0; i < 100; i += 1) file.write(`${String(i).padStart(3, '0')} ${'x'.repeat(95)}`);
    file.close();

    expect(readdirSync(dir).sort()).toEqual([LOG_FILE_NAME, `${LOG_FILE_NAME}.1`, `${LOG_FILE_NAME}.2`]);
    expect(logFiles(dir, 3).map((f) => path.basename(f))).toEqual([LOG_FILE_NAME, `${LOG_FILE_NAME}.1`, `${LOG_FILE_NAME}.2`]);
    const firstOf = (name: string): string => readFileSync(path.join(dir, name), 'utf8').slice(0, 3);
    expect([firstOf(`${LOG_FILE_NAME}.2`), firstOf(`${LOG_FILE_NAME}.1`), firstOf(LOG_FILE_NAME)]).toEqual(['070', '080', '090']);
    for (const name of readdirSync(dir)) {
      expect(statSync(path.join(dir, name)).size).toBeLessThanOrEqual(1_000);
      if (posix) expect(statSync(path.join(dir, name)).mode & 0o777).toBe(0o600);
    }
  });

  it('continues an existing file after a restart, counting its size, and narrows its mode', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, LOG_FILE_NAME), `${'y'.repeat(899)}\n`);
    if (posix) chmodSync(path.join(dir, LOG_FILE_NAME), 0o644);
    const file = new RotatingFile(dir, { maxBytes: 1_000, maxFiles: 2 });
    file.write('z'.repeat(99)); // 900 + 100 = 1000: still fits
    file.write('next');
    file.close();
    expect(readFileSync(path.join(dir, `${LOG_FILE_NAME}.1`), 'utf8')).toBe(`${'y'.repeat(899)}\n${'z'.repeat(99)}\n`);
    expect(readFileSync(path.join(dir, LOG_FILE_NAME), 'utf8')).toBe('next\n');
    if (posix) expect(statSync(path.join(dir, `${LOG_FILE_NAME}.1`)).mode & 0o777).toBe(0o600);
  });

  it('does not follow a link planted where the log goes', () => {
    if (!posix) return;
    const dir = tempDir();
    const target = path.join(dir, 'elsewhere.txt');
    writeFileSync(target, 'untouched\n');
    chmodSync(target, 0o644);
    mkdirSync(path.join(dir, 'logs'));
    symlinkSync(target, path.join(dir, 'logs', LOG_FILE_NAME));
    const logging = fileLogging(dir);
    logging.logger('Core').error('anything');
    logging.close();
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(statSync(target).mode & 0o777).toBe(0o644);
  });

  it('keeps the app running when the log cannot be written', () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    const logging = createLogging({ sink: new RotatingFile(path.join(blocker, 'logs')) });
    expect(() => logging.logger('Core').error('anything')).not.toThrow();
  });
});
