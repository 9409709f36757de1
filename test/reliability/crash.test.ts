import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.ts';
import { exited, freePort } from '../helpers/cli.ts';
import { TEST_ORIGIN as ORIGIN, useServe } from '../helpers/lifecycle.ts';
import { TestWorker } from '../helpers/test-worker.ts';
import { summarizeCall } from '../../main/core/calls/timeline.ts';
import { CRASH_ROUNDS } from './sizes.ts';

const tempDir = useTempDirs();
const { serve: startServing } = useServe();
const serve = (dataDir: string, port: number) => startServing(dataDir, { port });

describe('a crash loses no acknowledged event', () => {
  it(`SIGKILL in the middle of a flood, ${CRASH_ROUNDS} times: every acked event is there after each restart`, async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const acked = new Set<string>();
    let pairingToken: string | undefined;

    for (let round = 0; round < CRASH_ROUNDS; round += 1) {
      const s = await serve(dataDir, port);
      const w = new TestWorker({ port: s.port, origin: ORIGIN, appSid: `tab-${round}`, ...(pairingToken ? { pairingToken } : {}) });
      await w.connect();
      pairingToken = w.pairingToken;
      w.emit('initialized', { CALL_ID: `call-${round}` });
      // A steady flood: keep 50 events in flight; kill the server once 300 are acknowledged.
      let sent = 1;
      const done = new Promise<void>((resolve) => {
        w.socket?.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; id: string; duplicate?: boolean };
          if (message.type !== 'ack') return;
          acked.add(message.id);
          if (acked.size >= 300 * (round + 1)) {
            s.child.kill('SIGKILL');
            resolve();
          } else if (sent < 5_000) {
            sent += 1;
            w.emit('muteButtonClick', sent % 2 === 0);
          }
        });
      });
      for (let i = 0; i < 50; i += 1) {
        sent += 1;
        w.emit('muteButtonClick', sent % 2 === 0);
      }
      await done;
      expect(await exited(s.child)).toMatchObject({ signal: 'SIGKILL' });
      await w.kill();
    }

    // Restart once more so the store is opened (and its WAL recovered) by the app itself, then read it.
    const last = await serve(dataDir, port);
    last.child.kill('SIGTERM');
    await exited(last.child);
    const db = new Database(path.join(dataDir, 'sessions.sqlite'), { readonly: true });
    const stored = new Set((db.prepare('SELECT event_id FROM events').pluck().all() as string[]));
    // Each call's figures were written after its acks, without an fsync of their own; the kill came in between.
    // The restart recomputed them from the events: the row says what the events say.
    const calls = db.prepare('SELECT id, duration_ms AS durationMs, muted_ms AS mutedMs, mute_count AS muteCount FROM calls').all() as Array<{ id: number }>;
    const fromEvents = (id: number) => {
      const events = (db.prepare('SELECT name, at, payload FROM events WHERE call_id = ? ORDER BY at, id').all(id) as Array<{ name: string; at: number; payload: string | null }>)
        .map((e) => ({ name: e.name, at: e.at, payload: e.payload === null ? null : (JSON.parse(e.payload) as unknown) }));
      const s = summarizeCall(events);
      return { id, durationMs: s.durationMs, mutedMs: s.mutedMs, muteCount: s.muteCount };
    };
    expect(calls).toHaveLength(CRASH_ROUNDS);
    expect(calls).toEqual(calls.map((c) => fromEvents(c.id)));
    db.close();
    const missing = [...acked].filter((id) => !stored.has(id));
    expect(acked.size).toBeGreaterThanOrEqual(300 * CRASH_ROUNDS);
    expect(missing).toEqual([]);
    console.log(`crash: ${CRASH_ROUNDS} SIGKILLs mid-flood, ${acked.size} acknowledged events, ${missing.length} missing`);
  }, 600_000);
});
