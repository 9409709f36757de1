// The data directory holds who called whom and when, and the pairing secrets' hashes: it is private to the OS
// user. On POSIX the folder is made 0700 and the app's files in it 0600 at every start, whatever mode the folder
// already had (for example 0755 when someone created it by hand). On Windows the per-user profile folder
// (%APPDATA%) is already private to the user; modes mean little there and are left alone.
import { chmodSync, closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const posix = process.platform !== 'win32';

/** Creates the folder if needed and makes it and the regular files directly in it private to the user. */
export function tightenDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!posix) return;
  // A shared sticky folder such as /tmp given as the data directory is not the app's to lock: only its own
  // database is made private there.
  if ((statSync(dir).mode & 0o1000) !== 0) return;
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Links are not followed: a link planted in the folder must not make the app change another file's mode.
    if (entry.isFile()) chmodSync(path.join(dir, entry.name), 0o600);
  }
}

/**
 * Makes sure `file` exists with mode 0600 before SQLite opens it: SQLite creates the `-wal` and `-shm` files
 * with the mode of the database file, so they are private too.
 */
export function ensurePrivateFile(file: string): void {
  if (!posix) return;
  const fd = openSync(file, constants.O_RDWR | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
  closeSync(fd);
  if (lstatSync(file).isFile()) chmodSync(file, 0o600);
}
