// Opens the session database with explicit pragmas and brings its schema up to date.
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';
import { ensurePrivateFile, tightenDataDir } from './private-files.ts';

// Loaded on first use, not at import: the CLI checks the Node version before the native module can crash an
// older Node (better-sqlite3 13 segfaults on Node 20).
let DatabaseClass: typeof Database | undefined;
function loadDatabaseClass(): typeof Database {
  DatabaseClass ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return DatabaseClass;
}

export const DATABASE_FILE = 'sessions.sqlite';

export class NewerSchemaError extends Error {
  constructor(found: number, known: number, file: string) {
    super(
      `${file} was written by a newer Operator Companion (schema version ${found}; this version knows up to ${known}). ` +
        'Update the app, or point --data-dir at another folder.',
    );
    this.name = 'NewerSchemaError';
  }
}

/** SQLite's words for "this file is not a database I can read". */
const CORRUPT_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

export function isCorruptionError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && CORRUPT_CODES.has(String((error as { code?: unknown }).code));
}

export interface MovedAside {
  from: string;
  to: string;
  reason: string;
}

/**
 * A damaged database is not a reason to stop recording calls: it is moved aside (kept for whoever wants to
 * look at it or recover from it) and a fresh one is started. The caller tells the operator.
 */
export function moveAside(file: string, reason: string, now = new Date()): MovedAside {
  const to = `${file}.corrupt-${now.toISOString().replaceAll(':', '-')}`;
  renameSync(file, to);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, to + suffix);
  }
  return { from: file, to, reason };
}

export interface OpenOptions {
  readonly?: boolean;
  migrations?: readonly string[];
}

export function openDatabase(file: string, options: OpenOptions = {}): Database.Database {
  const migrations = options.migrations ?? MIGRATIONS;
  if (!options.readonly && file !== ':memory:') {
    // The folder and the database (hence its -wal and -shm) are private to the user before anything is written.
    tightenDataDir(path.dirname(file));
    ensurePrivateFile(file);
  }
  const db = new (loadDatabaseClass())(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: an event is acknowledged to the worker only after its commit, and must survive a power cut.
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) throw new NewerSchemaError(version, migrations.length, file);
    if (version < migrations.length && !options.readonly) migrate(db, version, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database, from: number, migrations: readonly string[]): void {
  db.transaction(() => {
    for (let i = from; i < migrations.length; i += 1) db.exec(migrations[i] as string);
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}
