// A worker frame as the relay sees it, over a real `ws` client: handshake, an outbox of unacknowledged events
// that is replayed after a reconnect, and command handling. It validates everything the server sends.
import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { serverMessageSchema, type ServerMessage, type ServerMessageOf } from '../../common/protocol.ts';
import { hashToken, keyIdOf, pairingProof } from '../../main/core/pairing.ts';

export interface TestWorkerOptions {
  port: number;
  origin?: string;
  host?: string;
  appSid?: string;
  memberId?: string;
  domain?: string;
  userId?: string;
  userName?: string;
  pairingToken?: string;
  /** Browser clock minus real clock, to test offset correction. */
  clockSkewMs?: number;
  /** Default true: with a pairing token, the app must prove it holds it before the worker identifies. */
  verifyApp?: boolean;
  /** Whether the socket answers WebSocket pings (a live browser always does); default true. */
  answersPings?: boolean;
  /** How the card answers commands; default: applies them and reports ok. */
  onCommand?: (command: ServerMessageOf<'command'>, worker: TestWorker) => void;
}

export interface OutboxEntry {
  id: string;
  seq: number;
  at: number;
  name: string;
  payload: unknown;
}

export class TestWorker {
  readonly options: TestWorkerOptions;
  readonly appSid: string;
  /** The page load this worker is; `reload()` makes a new one (same APP_SID, outbox kept, card gone). */
  pageId = randomUUID();
  readonly received: ServerMessage[] = [];
  readonly outbox: OutboxEntry[] = [];
  pairingToken: string | undefined;
  lastAckedSeq = 0;
  nextSeq = 1;
  droppedEvents = 0;
  socket: WebSocket | null = null;
  closeCode: number | null = null;
  private waiters: Array<{ test: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }> = [];
  private closeWaiters: Array<(code: number) => void> = [];

  constructor(options: TestWorkerOptions) {
    this.options = options;
    this.appSid = options.appSid ?? `sid-${randomUUID().slice(0, 8)}`;
    this.pairingToken = options.pairingToken;
  }

  get clock(): number {
    return Date.now() + (this.options.clockSkewMs ?? 0);
  }

  /** Opens the socket and finishes the handshake; resolves with `identified`. */
  async connect(): Promise<ServerMessageOf<'identified'>> {
    await this.open();
    if (this.pairingToken && this.options.verifyApp !== false) {
      if (!(await this.challenge())) throw new Error('the app did not prove it holds the pairing secret');
    }
    this.identify();
    const identified = await this.next('identified');
    this.afterIdentified(identified);
    return identified;
  }

  /** As the browser reloads the page: the socket is gone, the next connection comes from a new page load. */
  async reload(): Promise<void> {
    await this.kill();
    this.pageId = randomUUID();
  }

  /** Opens the socket and waits for hello; nothing else. */
  open(): Promise<ServerMessageOf<'hello'>> {
    this.closeCode = null;
    const socket = new WebSocket(`ws://127.0.0.1:${this.options.port}/`, {
      origin: this.options.origin ?? 'https://worker.test',
      headers: this.options.host ? { host: this.options.host } : {},
      // A browser's network stack answers pings by itself; a dead or wedged peer does not.
      autoPong: this.options.answersPings ?? true,
    });
    this.socket = socket;
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('close', (code) => {
      this.closeCode = code;
      for (const waiter of this.closeWaiters.splice(0)) waiter(code);
    });
    return new Promise((resolve, reject) => {
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.once('error', reject);
      this.next('hello').then(resolve, reject);
    });
  }

  /** Asks the app to prove it holds this worker's pairing secret, as the worker page does; true when it did. */
  async challenge(): Promise<boolean> {
    const token = this.pairingToken as string;
    const nonce = randomBytes(32).toString('base64url');
    const keyId = keyIdOf(hashToken(token));
    this.sendRaw({ type: 'challenge', keyId, nonce });
    const proof = await this.next('proof');
    return proof.keyId === keyId && proof.mac === pairingProof(hashToken(token), this.options.origin ?? 'https://worker.test', this.options.port, nonce);
  }

  identify(overrides: Record<string, unknown> = {}): void {
    this.sendRaw({
      type: 'identify',
      protocolVersions: [1],
      client: { kind: 'test', version: '1' },
      portal: { domain: this.options.domain ?? 'acme.bitrix24.com', memberId: this.options.memberId ?? 'member-1' },
      user: { id: this.options.userId ?? '7', name: this.options.userName ?? 'Olga Operator' },
      frame: { appSid: this.appSid, uri: '/crm/deal/', pageId: this.pageId },
      ...(this.pairingToken ? { pairingToken: this.pairingToken } : {}),
      lastAckedSeq: this.lastAckedSeq,
      ...(this.droppedEvents > 0 ? { droppedEvents: this.droppedEvents } : {}),
      clientTime: this.clock,
      ...overrides,
    });
  }

  afterIdentified(identified: ServerMessageOf<'identified'>): void {
    if (identified.pairingToken) this.pairingToken = identified.pairingToken;
    this.dropAcked(identified.lastStoredSeq);
    for (const entry of this.outbox) this.sendEntry(entry);
  }

  /** Queues an event as the worker would, and sends it if connected. Returns the entry. */
  emit(name: string, payload: unknown = [], at: number = this.clock): OutboxEntry {
    const entry = { id: randomUUID(), seq: this.nextSeq, at, name, payload };
    this.nextSeq += 1;
    this.outbox.push(entry);
    if (this.socket?.readyState === WebSocket.OPEN) this.sendEntry(entry);
    return entry;
  }

  /** Emits and waits for the ack (or the error) of that event. */
  async emitAndWait(name: string, payload: unknown = [], at?: number): Promise<ServerMessageOf<'ack'> | ServerMessageOf<'error'>> {
    const entry = this.emit(name, payload, at);
    return this.waitFor(
      (m): m is ServerMessageOf<'ack'> | ServerMessageOf<'error'> =>
        (m.type === 'ack' || m.type === 'error') && (m.type === 'ack' ? m.id === entry.id : m.ref === entry.id),
    );
  }

  /** Resolves when every queued event is acknowledged. */
  async drain(): Promise<void> {
    while (this.outbox.length > 0) await this.next('ack');
  }

  sendRaw(message: unknown): void {
    this.socket?.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  next<T extends ServerMessage['type']>(type: T): Promise<ServerMessageOf<T>> {
    return this.waitFor((m): m is ServerMessageOf<T> => m.type === type);
  }

  waitFor<T extends ServerMessage>(test: (m: ServerMessage) => m is T, timeoutMs = 5_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a message; got ${JSON.stringify(this.received.slice(-3))}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      });
    });
  }

  closed(): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  async disconnect(): Promise<void> {
    if (!this.socket || this.closeCode !== null) return;
    const done = this.closed();
    this.socket.close(1000);
    await done;
  }

  /** Cuts the TCP connection without a closing handshake, as a crashed tab would. */
  async kill(): Promise<void> {
    if (!this.socket || this.closeCode !== null) return;
    const done = this.closed();
    this.socket.terminate();
    await done;
  }

  private sendEntry(entry: OutboxEntry): void {
    this.sendRaw({ type: 'event', ...entry });
  }

  private dropAcked(seq: number): void {
    this.lastAckedSeq = Math.max(this.lastAckedSeq, seq);
    for (let i = this.outbox.length - 1; i >= 0; i -= 1) {
      if ((this.outbox[i] as OutboxEntry).seq <= seq) this.outbox.splice(i, 1);
    }
  }

  private onMessage(text: string): void {
    const message = serverMessageSchema.parse(JSON.parse(text));
    this.received.push(message);
    if (message.type === 'ack') {
      const index = this.outbox.findIndex((e) => e.id === message.id);
      if (index >= 0) this.outbox.splice(index, 1);
      if (this.outbox.every((e) => e.seq > message.seq)) this.lastAckedSeq = Math.max(this.lastAckedSeq, message.seq);
    }
    if (message.type === 'error' && message.permanent && message.ref) {
      const index = this.outbox.findIndex((e) => e.id === message.ref);
      if (index >= 0) this.outbox.splice(index, 1);
    }
    if (message.type === 'command') {
      if (this.options.onCommand) this.options.onCommand(message, this);
      else this.applyCommand(message);
    }
    const waiter = this.waiters.find((w) => w.test(message));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  }

  /** What the real worker does after the card answered `[]`: a durable event, then the result. */
  applyCommand(command: ServerMessageOf<'command'>): void {
    const source = command.source;
    if (command.command === 'CallCardSetMute') {
      this.emit('CallCardSetMute', { muted: command.params.muted, commandId: command.id, source });
    } else if (command.command === 'CallCardSetHold') {
      this.emit('CallCardSetHold', { held: command.params.held, commandId: command.id, source });
    }
    this.sendRaw({ type: 'commandResult', id: command.id, outcome: 'ok', result: [] });
  }
}
