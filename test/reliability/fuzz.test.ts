// Property-based fuzzing of everything a worker can send, against a real `serve` process on loopback: random
// protocol messages, random payloads for every event, random JSON, random text and bytes, truncated and
// oversized frames, deep nesting and huge strings. The server must answer each with a typed error, an ack or
// a close with a known code, never crash, and store exactly the events it acknowledged.
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_EVENT_NAMES } from '../../common/card-events.ts';
import { CLOSE_CODES, serverMessageSchema, type ServerMessage } from '../../common/protocol.ts';
import { exited, freePort, startServe, type ServeProcess } from '../helpers/cli.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { TestWorker } from '../helpers/test-worker.ts';
import { FUZZ_RUNS } from './sizes.ts';

const ORIGIN = 'https://worker.test';
/** Each input costs two round trips; allow for a slow machine. */
const TIMEOUT = 30_000 + FUZZ_RUNS * 60;
const KNOWN_CLOSE_CODES = new Set<number>(Object.values(CLOSE_CODES).map((c) => c.code));
let serve: ServeProcess;
let dataDir: string;
let token: string | undefined;
const acked = new Set<string>();
let closes = 0;

beforeAll(async () => {
  // One store for the whole file: the last test reads what all the others left.
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-fuzz-'));
  serve = await startServe(['--data-dir', dataDir, '--port', String(await freePort()), '--allow-origin', ORIGIN, '--auto-approve']);
});
afterAll(async () => {
  serve.child.kill('SIGTERM');
  await exited(serve.child);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A paired worker connection; reopened whenever the server closed the last one. */
let current: TestWorker | null = null;
async function connection(): Promise<TestWorker> {
  if (current && current.closeCode === null) return current;
  if (current) {
    expect(KNOWN_CLOSE_CODES.has(current.closeCode as number), `close code ${current.closeCode}`).toBe(true);
    closes += 1;
  }
  current = new TestWorker({ port: serve.port, origin: ORIGIN, appSid: 'fuzz', ...(token ? { pairingToken: token } : {}) });
  await current.connect();
  token = current.pairingToken;
  return current;
}

/** Waits for the answer to a probe ping; a rate-limited probe is sent again after a pause, as a worker would. */
async function probe(w: TestWorker): Promise<void> {
  for (;;) {
    const id = `probe-${Math.random().toString(36).slice(2)}`;
    const before = w.received.length;
    w.sendRaw({ type: 'ping', id });
    const answered = await Promise.race([
      w.waitFor((m): m is ServerMessage => m.type === 'pong' && m.id === id, 2_000).then(() => true, () => false),
      w.closed().then(() => true),
    ]);
    if (answered) return;
    expect(w.received.slice(before).some((m) => m.type === 'error' && m.code === 'rate_limited')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * Sends one frame, then probes twice: the first pong means the frame was read; the second comes after the
 * group commit that acknowledges events. Every reply must be a valid server message.
 */
async function send(frame: string | Buffer): Promise<ServerMessage[]> {
  const w = await connection();
  const before = w.received.length;
  w.socket!.send(frame, { binary: Buffer.isBuffer(frame) });
  await probe(w);
  if (w.closeCode === null) await probe(w);
  const replies = w.received.slice(before);
  for (const reply of replies) {
    expect(serverMessageSchema.safeParse(reply).success).toBe(true);
    if (reply.type === 'ack' && !reply.duplicate) acked.add(reply.id);
  }
  return replies;
}

const eventNames = fc.oneof(fc.constantFrom(...WORKER_EVENT_NAMES), fc.string({ maxLength: 30 }));
const anyEvent = fc.record(
  { type: fc.constant('event'), id: fc.oneof(fc.uuid(), fc.string({ maxLength: 80 }), fc.integer()), seq: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string()), at: fc.oneof(fc.nat(), fc.double(), fc.constant(-1)), name: eventNames, payload: fc.jsonValue({ maxDepth: 4 }) },
  { requiredKeys: [] },
);
const anyMessage = fc.record(
  {
    type: fc.constantFrom('event', 'identify', 'commandResult', 'ping', 'report', 'hello', 'ack', 'command', '', 'EVENT'),
    id: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null)),
    outcome: fc.string({ maxLength: 12 }),
    protocolVersions: fc.array(fc.integer(), { maxLength: 3 }),
    browserBlocked: fc.oneof(fc.boolean(), fc.string()),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: ['type'] },
);

describe('fuzzing a real serve process', () => {
  it(`random messages, ${FUZZ_RUNS} runs: only typed answers, known close codes`, async () => {
    await fc.assert(fc.asyncProperty(anyMessage, async (message) => {
      const replies = await send(JSON.stringify(message));
      for (const reply of replies) expect(['error', 'ack', 'pong']).toContain(reply.type);
    }), { numRuns: FUZZ_RUNS });
  }, TIMEOUT);

  it(`random events with random payloads, ${FUZZ_RUNS} runs: stored only when acknowledged`, async () => {
    await fc.assert(fc.asyncProperty(anyEvent, async (event) => {
      await send(JSON.stringify(event));
    }), { numRuns: FUZZ_RUNS });
  }, TIMEOUT);

  it(`well-formed events for every card event name with arbitrary payloads, ${FUZZ_RUNS} runs`, async () => {
    let seq = 1_000_000;
    await fc.assert(fc.asyncProperty(fc.constantFrom(...WORKER_EVENT_NAMES), fc.jsonValue({ maxDepth: 3 }), async (name, payload) => {
      seq += 1;
      const frame = JSON.stringify({ type: 'event', id: `e-${seq}`, seq, at: Date.now(), name, payload });
      // Each event gets its own answer: an ack or an error naming it. Refused for the rate limit (the server
      // cannot name what it did not read), it is sent again after a pause, as a worker does.
      for (let attempt = 0; ; attempt += 1) {
        const replies = await send(frame);
        const answer = replies.find((r) => (r.type === 'ack' && r.id === `e-${seq}`) || (r.type === 'error' && r.ref === `e-${seq}`));
        if (answer) break;
        expect(replies.some((r) => r.type === 'error' && r.code === 'rate_limited') && attempt < 5, JSON.stringify(replies)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }), { numRuns: FUZZ_RUNS });
  }, TIMEOUT);

  it(`random text and bytes, ${FUZZ_RUNS} runs`, async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))), async (frame) => {
      const replies = await send(frame);
      for (const reply of replies) expect(['error', 'pong']).toContain(reply.type);
    }), { numRuns: FUZZ_RUNS });
  }, TIMEOUT);

  it('truncated, oversized, deeply nested and huge frames', async () => {
    const valid = JSON.stringify({ type: 'event', id: 'trunc', seq: 1, at: Date.now(), name: 'muteButtonClick', payload: true });
    for (let cut = 1; cut < valid.length; cut += 7) expect((await send(valid.slice(0, cut)))[0]?.type).toBe('error');
    await send('['.repeat(30_000) + ']'.repeat(30_000));
    await send(`{"type":"event","id":"deep","seq":1,"at":1,"name":"entityChanged","payload":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    await send(JSON.stringify({ type: 'ping', id: 'x'.repeat(60_000) }));
    const w = await connection();
    w.socket!.send('x'.repeat(70_000));
    expect(await w.closed()).toBe(1009);
  });

  it('the server is still up, and the store holds exactly the acknowledged events, all valid', async () => {
    const fresh = new TestWorker({ port: serve.port, origin: ORIGIN, appSid: 'after-fuzz', ...(token ? { pairingToken: token } : {}) });
    await fresh.connect();
    await fresh.kill();
    const db = new Database(path.join(dataDir, 'sessions.sqlite'), { readonly: true });
    const stored = db.prepare("SELECT event_id AS id, name FROM events WHERE source != 'system'").all() as Array<{ id: string; name: string }>;
    db.close();
    expect(new Set(stored.map((e) => e.id))).toEqual(acked);
    for (const event of stored) expect(WORKER_EVENT_NAMES).toContain(event.name);
    console.log(`fuzz: ${acked.size} events acknowledged and stored, ${closes} connections closed by the server with known codes`);
  });
});
