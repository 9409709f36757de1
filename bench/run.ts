// `npm run bench`: how the event path compares with the bare parts it is made of, measured in the same run so
// that a noisy machine affects both sides alike. Prints ratios; asserts nothing (these are not tests).
//
// 1. Ack latency: one event at a time, from a `ws` client through relay + validation + state + SQLite commit
//    (synchronous=FULL) to the ack, against a bare `ws` echo server and one durable single-row commit on the same
//    machine, sampled in alternating rounds.
// 2. Sustained ingest: 50 concurrent workers, each keeping a window of events in flight, against a plain
//    better-sqlite3 loop inserting the same number of rows, one committed transaction each, same pragmas.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import WebSocket, { WebSocketServer } from 'ws';
import { Companion } from '../main/core/companion.ts';
import { openDatabase } from '../main/core/store/database.ts';

const ORIGIN = 'https://bench.test';
const LATENCY_EVENTS = 2_000;
const WARMUP = 200;
const CLIENTS = 50;
const EVENTS_PER_CLIENT = 200;
const WINDOW = 10;
const EVENTS_PER_CALL = 20;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opcomp-bench-'));
  tempDirs.push(dir);
  return dir;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function open(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin: ORIGIN });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, type?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (type !== undefined && message.type !== type) return;
      ws.off('message', onMessage);
      resolve(message);
    };
    ws.on('message', onMessage);
  });
}

/** Connects as a worker frame and finishes the handshake. */
async function worker(port: number, appSid: string, token?: string): Promise<{ ws: WebSocket; token: string }> {
  const ws = await open(port);
  const identified = nextMessage(ws, 'identified');
  ws.send(JSON.stringify({
    type: 'identify', protocolVersions: [1], client: { kind: 'test', version: 'bench' },
    portal: { domain: 'bench.bitrix24.com', memberId: 'bench' }, user: { id: '1' }, frame: { appSid },
    ...(token ? { pairingToken: token } : {}), lastAckedSeq: 0, clientTime: Date.now(),
  }));
  const message = await identified;
  return { ws, token: (message.pairingToken as string | undefined) ?? (token as string) };
}

function eventFrame(seq: number, name: string, payload: unknown): string {
  return JSON.stringify({ type: 'event', id: randomUUID(), seq, at: Date.now(), name, payload });
}

async function measureLatency(ws: WebSocket, frames: (i: number) => string, count: number, expectType?: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const reply = nextMessage(ws);
    const start = process.hrtime.bigint();
    ws.send(frames(i));
    const message = await reply;
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    // A refused event (rate limit, validation) would be answered fast and measure nothing.
    if (expectType !== undefined && message.type !== expectType) throw new Error(`expected ${expectType}, got ${JSON.stringify(message)}`);
  }
  return samples.sort((a, b) => a - b);
}

/** Rounds of each latency sampler, taken in turn, so that a noisy neighbour weighs on all three alike. */
const ROUNDS = 10;

interface Sampler {
  /** Takes `count` samples (ms). */
  sample(count: number): Promise<number[]>;
  close(): Promise<void>;
}

async function echoSampler(): Promise<Sampler> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => socket.on('message', (data) => socket.send(String(data))));
  const ws = await open((server.address() as { port: number }).port);
  const frames = (i: number): string => eventFrame(i + 1, 'muteButtonClick', i % 2 === 0);
  return {
    sample: (count) => measureLatency(ws, frames, count),
    close: async () => {
      ws.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function companionSampler(): Promise<Sampler> {
  const companion = await Companion.start({
    dataDir: tempDir(), port: 0, allowedOrigins: [ORIGIN], autoApprove: true, rate: { burst: 100_000, perSecond: 100_000 },
  });
  const { ws } = await worker(companion.port, 'latency');
  let seq = 0;
  let call = 0;
  // Calls of ordinary size: an initialized (not timed), then clicks.
  const frames = (): string => eventFrame(++seq, 'muteButtonClick', seq % 2 === 0);
  return {
    sample: async (count) => {
      const samples: number[] = [];
      while (samples.length < count) {
        await measureLatency(ws, () => eventFrame(++seq, 'initialized', { CALL_ID: `bench-call-${++call}` }), 1, 'ack');
        samples.push(...(await measureLatency(ws, frames, Math.min(EVENTS_PER_CALL - 1, count - samples.length), 'ack')));
      }
      return samples;
    },
    close: async () => {
      ws.close();
      await companion.stop();
    },
  };
}

/** Times `commit(i)`, one durable transaction each, and closes `db` when done. */
function commitSampler(db: Database.Database, commit: (i: number) => void): Sampler {
  let i = 0;
  return {
    sample: async (count) => {
      const samples: number[] = [];
      for (let n = 0; n < count; n += 1) {
        const start = process.hrtime.bigint();
        commit((i += 1));
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return samples;
    },
    close: async () => {
      db.close();
    },
  };
}

/** One durable single-row commit (WAL, synchronous=FULL, as the store opens it): what an ack physically costs. */
function durableCommitSampler(): Sampler {
  const db = openDatabase(path.join(tempDir(), 'commit.sqlite'), { migrations: ['CREATE TABLE events (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, name TEXT, payload TEXT, at INTEGER)'] });
  const insert = db.prepare('INSERT INTO events (event_id, name, payload, at) VALUES (?, ?, ?, ?)');
  const insertOne = db.transaction((i: number) => insert.run(randomUUID(), 'muteButtonClick', JSON.stringify({ muted: i % 2 === 0 }), Date.now()));
  return commitSampler(db, (i) => insertOne.immediate(i));
}

/**
 * The same durable commit with the rows an event really writes: its row in the real schema (three indexes) and its
 * frame's sequence number, from prepared statements and nothing else. What the schema costs, apart from our code.
 */
function schemaCommitSampler(): Sampler {
  const db = openDatabase(path.join(tempDir(), 'schema.sqlite'));
  db.exec(`INSERT INTO portals (id, member_id, domain, first_seen_at) VALUES (1, 'bench', 'bench.bitrix24.com', 0);
    INSERT INTO operators (id, portal_id, user_id, name) VALUES (1, 1, '1', NULL);
    INSERT INTO frames (id, portal_id, operator_id, app_sid, origin, first_seen_at) VALUES (1, 1, 1, 'schema', '${ORIGIN}', 0);
    INSERT INTO calls (id, portal_id, operator_id, owner_frame_id, call_id, started_at) VALUES (1, 1, 1, 1, 'schema-call', 0);`);
  const insert = db.prepare(`INSERT INTO events (event_id, frame_id, call_id, seq, name, source, payload, client_at, at, received_at)
    VALUES (?, 1, 1, ?, 'muteButtonClick', 'card', ?, ?, ?, ?)`);
  const seq = db.prepare('UPDATE frames SET last_seq = max(last_seq, ?) WHERE id = 1');
  const store = db.transaction((i: number) => {
    const now = Date.now();
    insert.run(randomUUID(), i, JSON.stringify(i % 2 === 0), now, now, now);
    seq.run(i);
  });
  return commitSampler(db, (i) => store.immediate(i));
}

/** Warms each sampler up, then takes LATENCY_EVENTS samples from each, ROUNDS blocks in turn. */
async function interleavedLatency(samplers: Sampler[]): Promise<number[][]> {
  for (const sampler of samplers) await sampler.sample(WARMUP);
  const all = samplers.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, sampler] of samplers.entries()) (all[i] as number[]).push(...(await sampler.sample(LATENCY_EVENTS / ROUNDS)));
  }
  for (const sampler of samplers) await sampler.close();
  return all.map((samples) => samples.sort((a, b) => a - b));
}

async function companionIngest(): Promise<number> {
  const companion = await Companion.start({
    dataDir: tempDir(), port: 0, allowedOrigins: [ORIGIN], autoApprove: true, rate: { burst: 10_000, perSecond: 10_000 },
  });
  const first = await worker(companion.port, 'tab-0');
  const clients = [first.ws];
  for (let i = 1; i < CLIENTS; i += 1) clients.push((await worker(companion.port, `tab-${i}`, first.token)).ws);
  const start = process.hrtime.bigint();
  await Promise.all(
    clients.map(
      (ws, index) =>
        new Promise<void>((resolve) => {
          let sent = 0;
          let acked = 0;
          const send = (): void => {
            sent += 1;
            ws.send(sent === 1 ? eventFrame(1, 'initialized', { CALL_ID: `call-${index}` }) : eventFrame(sent, 'muteButtonClick', sent % 2 === 0));
          };
          ws.on('message', (data) => {
            const type = (JSON.parse(String(data)) as { type: string }).type;
            if (type === 'error') throw new Error(`an event was refused: ${String(data)}`);
            if (type !== 'ack') return;
            acked += 1;
            if (acked === EVENTS_PER_CLIENT) resolve();
            else if (sent < EVENTS_PER_CLIENT) send();
          });
          for (let i = 0; i < WINDOW; i += 1) send();
        }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const ws of clients) ws.close();
  await companion.stop();
  return (CLIENTS * EVENTS_PER_CLIENT) / seconds;
}

function plainInsertLoop(): number {
  const db = openDatabase(path.join(tempDir(), 'plain.sqlite'), { migrations: ['CREATE TABLE events (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, name TEXT, payload TEXT, at INTEGER)'] });
  const insert = db.prepare('INSERT INTO events (event_id, name, payload, at) VALUES (?, ?, ?, ?)');
  const insertOne = db.transaction((i: number) => insert.run(randomUUID(), 'muteButtonClick', JSON.stringify({ muted: i % 2 === 0 }), Date.now()));
  const total = CLIENTS * EVENTS_PER_CLIENT;
  const start = process.hrtime.bigint();
  for (let i = 0; i < total; i += 1) insertOne.immediate(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  db.close();
  return total / seconds;
}

const fmt = (n: number, digits = 3): string => n.toFixed(digits);

try {
  console.log(`Operator Companion benchmarks (Node ${process.versions.node}, ${os.cpus().length} cores)\n`);

  const [echo, commit, schema, ours] = (await interleavedLatency([await echoSampler(), durableCommitSampler(), schemaCommitSampler(), await companionSampler()])) as [number[], number[], number[], number[]];
  const [e50, e99, o50, o99] = [percentile(echo, 50), percentile(echo, 99), percentile(ours, 50), percentile(ours, 99)];
  const [c50, c99] = [percentile(commit, 50), percentile(commit, 99)];
  // What an ack cannot go below: the message's round trip plus one durable commit.
  const [l50, l99] = [e50 + c50, e99 + c99];
  console.log(`ack latency, ${LATENCY_EVENTS} events one at a time, ${ROUNDS} rounds of each in turn (ms)`);
  console.log(`  bare ws echo                     p50 ${fmt(e50)}  p99 ${fmt(e99)}`);
  console.log(`  one durable commit (FULL)        p50 ${fmt(c50)}  p99 ${fmt(c99)}`);
  console.log(`  limit (echo + one commit)        p50 ${fmt(l50)}  p99 ${fmt(l99)}`);
  console.log(`  relay + state + store (FULL)     p50 ${fmt(o50)}  p99 ${fmt(o99)}`);
  console.log(`  ratio to the echo                p50 ${fmt(o50 / e50, 1)}x  p99 ${fmt(o99 / e99, 1)}x`);
  console.log(`  ratio to limit                   p50 ${fmt(o50 / l50, 1)}x  p99 ${fmt(o99 / l99, 1)}x   (target 1.5x / 2x)`);
  // Where the rest goes: the event's own rows, committed by bare statements, against the one-row commit.
  const [s50, s99] = [percentile(schema, 50), percentile(schema, 99)];
  console.log(`  an event's rows alone (FULL)     p50 ${fmt(s50)}  p99 ${fmt(s99)}   (${fmt(s50 / c50, 2)}x / ${fmt(s99 / c99, 2)}x the one-row commit)`);
  console.log(`  ratio to echo + those rows       p50 ${fmt(o50 / (e50 + s50), 1)}x  p99 ${fmt(o99 / (e99 + s99), 1)}x\n`);

  const plain = plainInsertLoop();
  const ingest = await companionIngest();
  console.log(`sustained ingest, ${CLIENTS} clients x ${EVENTS_PER_CLIENT} events, window ${WINDOW} (events/s)`);
  console.log(`  plain better-sqlite3 insert loop ${fmt(plain, 0)}`);
  console.log(`  relay + state + store            ${fmt(ingest, 0)}`);
  console.log(`  ratio                            ${fmt(ingest / plain, 2)}x of the plain loop`);
} finally {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
