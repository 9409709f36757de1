// A log file that never grows past a size: when the next line would take `companion.log` over `maxBytes`, it
// becomes `companion.log.1` (the older ones shift up, the oldest is deleted) and a new file starts. Lines are
// appended synchronously: there are few of them, and a line written just before a crash is the one that matters.
// Files are created readable by their owner only (0600), in a folder only the owner can list (0700).
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface RotatingFileOptions {
  /** Default 1 MiB. */
  maxBytes?: number;
  /** How many files in all, the live one included. Default 5. */
  maxFiles?: number;
}

export const LOG_FILE_NAME = 'companion.log';
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;

/** The logs folder inside a data directory. */
export function logDir(dataDir: string): string {
  return path.join(dataDir, 'logs');
}

/** The log files that exist, newest first: companion.log, companion.log.1, … */
export function logFiles(dir: string, maxFiles = DEFAULT_MAX_FILES): string[] {
  const files: string[] = [];
  for (let i = 0; i < maxFiles; i += 1) {
    const file = path.join(dir, i === 0 ? LOG_FILE_NAME : `${LOG_FILE_NAME}.${i}`);
    if (existsSync(file)) files.push(file);
  }
  return files;
}

export class RotatingFile {
  readonly file: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private fd: number | null = null;
  private size = 0;

  constructor(dir: string, options: RotatingFileOptions = {}) {
    this.dir = dir;
    this.file = path.join(dir, LOG_FILE_NAME);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxFiles = Math.max(1, options.maxFiles ?? DEFAULT_MAX_FILES);
  }

  /** Appends one line (a newline is added). A line longer than the limit still gets a file of its own. */
  write(line: string): void {
    const data = Buffer.from(`${line}\n`, 'utf8');
    if (this.fd === null) this.open();
    if (this.size > 0 && this.size + data.length > this.maxBytes) {
      this.rotate();
      this.open();
    }
    writeSync(this.fd as number, data);
    this.size += data.length;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // A link planted where the log goes is not followed (as for the data directory's other files).
    this.fd = openSync(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
    // A folder or file left by an older version, or made by hand, may be wider open: modes apply only on creation.
    if (process.platform !== 'win32') {
      chmodSync(this.dir, 0o700);
      fchmodSync(this.fd, 0o600);
    }
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    const numbered = (i: number): string => `${this.file}.${i}`;
    rmSync(this.maxFiles === 1 ? this.file : numbered(this.maxFiles - 1), { force: true });
    for (let i = this.maxFiles - 2; i >= 1; i -= 1) {
      if (existsSync(numbered(i))) renameSync(numbered(i), numbered(i + 1));
    }
    if (this.maxFiles > 1 && existsSync(this.file)) renameSync(this.file, numbered(1));
  }
}
