// Faults the app must live through: a full disk, a damaged database, a port taken by another program.
// (A SIGKILL mid-flood is crash.test.ts; an app restart in the middle of a call is covered in
// test/integration/call-state.test.ts and test/e2e/resilience.test.ts.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { freePort, runCli, type ServeProcess } from '../helpers/cli.ts';
import { TEST_ORIGIN as ORIGIN, useServe, useWorkers } from '../helpers/lifecycle.ts';
import { useTempDirs } from '../helpers/temp-dir.ts';

const tempDir = useTempDirs();
const { serve: startServing, stop } = useServe();
const newWorker = useWorkers();
const serve = (dataDir: string, port?: number) => startServing(dataDir, port === undefined ? {} : { port });

function tryMountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const mountPoint = path.join(os.tmpdir(), `opcomp-full-disk-${process.pid}`);
mkdirSync(mountPoint, { recursive: true });
const canMount = tryMountTmpfs(mountPoint, '1m') && (execFileSync('umount', [mountPoint]), true);
rmdirSync(mountPoint);

describe('faults', () => {
  it.skipIf(!canMount)('a full disk: a clear error, no crash, events kept by the worker until space is back', async () => {
    const dataDir = path.join(os.tmpdir(), `opcomp-full-${process.pid}-${Date.now()}`);
    mkdirSync(dataDir);
    expect(tryMountTmpfs(dataDir, '400k')).toBe(true);
    let s: ServeProcess | undefined;
    try {
      s = await serve(dataDir);
      const w = newWorker({ port: s.port, origin: ORIGIN });
      await w.connect();
      await w.emitAndWait('initialized', { CALL_ID: 'full-disk' });
      // Comments of 8 KB each until the disk is full.
      let failure: { code: string; message: string } | undefined;
      for (let i = 0; i < 200 && !failure; i += 1) {
        const reply = await w.emitAndWait('addCommentButtonClick', `${i} ${'x'.repeat(8_000)}`);
        if (reply.type === 'error') failure = reply;
      }
      expect(failure).toMatchObject({ code: 'store_failed', message: expect.stringMatching(/could not store the event; it will be retried/) });
      // The log line is written as the error is answered: wait for it, do not read at once.
      await expect.poll(() => s!.stderr()).toMatch(/"event":"storeFailed".*(full|disk|SQLITE_FULL)/i);
      const kept = w.outbox.length;
      expect(kept).toBeGreaterThan(0);
      expect(s.child.exitCode).toBeNull();

      // Space comes back: what the worker kept goes in, once.
      execFileSync('mount', ['-o', 'remount,size=20m', dataDir]);
      for (const entry of [...w.outbox]) w.sendRaw({ type: 'event', ...entry });
      await expect.poll(() => w.outbox.length).toBe(0);
      const db = new Database(path.join(dataDir, 'sessions.sqlite'), { readonly: true });
      const comments = (db.prepare("SELECT count(*) AS n FROM events WHERE name = 'addCommentButtonClick'").get() as { n: number }).n;
      db.close();
      const sent = w.nextSeq - 2; // all comments emitted (seq 1 was initialized)
      expect(comments).toBe(sent);
    } finally {
      // The server must let go of the files before the disk can be unmounted.
      if (s) await stop(s);
      execFileSync('umount', [dataDir]);
      rmdirSync(dataDir);
    }
  }, 60_000);

  it('a damaged database is moved aside, the operator is told, and a fresh log starts', async () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, 'sessions.sqlite'), 'this is not an SQLite database, it is a damaged file'.repeat(100));
    const s = await serve(dataDir);
    await expect.poll(() => s.stderr()).toMatch(/"event":"databaseMovedAside".*"to":".*sessions\.sqlite\.corrupt-/);
    const files = readdirSync(dataDir);
    expect(files.some((f) => f.startsWith('sessions.sqlite.corrupt-'))).toBe(true);
    const w = newWorker({ port: s.port, origin: ORIGIN });
    await w.connect();
    expect(await w.emitAndWait('initialized', { CALL_ID: 'after-recovery' })).toMatchObject({ type: 'ack' });
    const status = JSON.parse((await runCli(['status', '--data-dir', dataDir, '--json'])).stdout) as { store: { calls: number } };
    expect(status.store.calls).toBe(1);
  });

  it('a port taken by another program: the next one is used and reported', async () => {
    const blocker = http.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const s = await serve(tempDir(), port);
      expect(s.port).toBeGreaterThan(port);
      expect(s.port).toBeLessThanOrEqual(port + 4);
      const w = newWorker({ port: s.port, origin: ORIGIN });
      expect((await w.connect()).type).toBe('identified');
    } finally {
      blocker.close();
    }
  });

  it('all five ports taken: one clear line, exit 1', async () => {
    const port = await freePort();
    const blockers = await Promise.all(
      [0, 1, 2, 3, 4].map(
        (i) =>
          new Promise<http.Server | null>((resolve) => {
            const b = http.createServer();
            b.once('error', () => resolve(null));
            b.listen(port + i, '127.0.0.1', () => resolve(b));
          }),
      ),
    );
    try {
      if (blockers.some((b) => b === null)) return; // a neighbouring port was busy already: nothing to prove
      const result = await runCli(['serve', '--data-dir', tempDir(), '--port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`operator-companion: ports ${port}-${port + 4} on 127.0.0.1 are all taken by other programs; free one or choose another with --port`);
    } finally {
      for (const b of blockers) b?.close();
    }
  });
});

