// One worker frame's socket: the handshake, validation of every message, rate limiting, heartbeat and commands.
// It decides nothing about calls or pairing itself; it hands validated messages to its hooks and sends what
// they answer. Nothing a worker sends can throw out of here.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { CardCommandName } from '../../../common/bitrix24.ts';
import type { CommandSource } from '../../../common/card-events.ts';
import {
  CLOSE_CODES,
  MAX_CLOCK_SKEW_MS,
  MAX_EVENT_AGE_MS,
  SERVER_NAME,
  SUPPORTED_PROTOCOL_VERSIONS,
  parseWorkerMessage,
  type CardSnapshot,
  type ChallengeMessage,
  type CloseReason,
  type CommandResultMessage,
  type ErrorCode,
  type EventMessage,
  type IdentifyMessage,
  type ServerMessage,
  type WorkerMessage,
} from '../../../common/protocol.ts';
import { TokenBucket } from './token-bucket.ts';

export interface ConnectionTimings {
  /** Time allowed between `hello` and `identify`. */
  handshakeTimeoutMs: number;
  /** How often the worker should ping, and how often the app pings it at the WebSocket level. */
  heartbeatMs: number;
  /** Silence (no message, no pong) after which the worker is taken for dead. */
  deadPeerMs: number;
  /** Time allowed for `identified` while a person decides about pairing (a little over the prompt's timeout). */
  pairingTimeoutMs: number;
}

export const DEFAULT_TIMINGS: ConnectionTimings = { handshakeTimeoutMs: 10_000, heartbeatMs: 15_000, deadPeerMs: 45_000, pairingTimeoutMs: 130_000 };

export type IdentifyOutcome =
  | { ok: true; lastStoredSeq: number; snapshot: CardSnapshot; pairingToken?: string }
  | { ok: false; close: CloseReason; message: string };

export type EventOutcome =
  | { ok: true; duplicate: boolean }
  | { ok: false; code: ErrorCode; message: string; permanent: boolean };

export interface ConnectionHooks {
  /** The HMAC that proves the app holds the pairing `keyId` names, or null when it holds no such pairing. */
  prove(conn: WorkerConnection, message: ChallengeMessage): string | null;
  /** May take long (a pairing prompt); `conn.notifyPairingPending` tells the worker meanwhile. */
  identify(conn: WorkerConnection, message: IdentifyMessage, receivedAt: number): Promise<IdentifyOutcome>;
  /** Resolves once the event is durably stored (or refused); only then is it acknowledged. */
  event(conn: WorkerConnection, message: EventMessage, receivedAt: number): EventOutcome | Promise<EventOutcome>;
  commandResult(conn: WorkerConnection, message: CommandResultMessage): void;
  report(conn: WorkerConnection, message: Extract<WorkerMessage, { type: 'report' }>): void;
  /** Called once per socket, identified or not. */
  closed(conn: WorkerConnection, code: number): void;
}

export interface ConnectionOptions {
  origin: string;
  serverVersion: string;
  timings: ConnectionTimings;
  commands: readonly CardCommandName[];
  maxFrameBytes: number;
  rate: { burst: number; perSecond: number };
  now: () => number;
}

type Phase = 'awaiting-identify' | 'identifying' | 'identified' | 'closed';

/** Messages refused for the rate limit in a row before the socket is closed. */
const RATE_LIMIT_STRIKES = 200;

export class WorkerConnection {
  readonly origin: string;
  /** Set by the hooks once the frame is known. */
  frameId: number | null = null;
  pairingId: number | null = null;
  connectionId: number | null = null;
  /** App clock minus the browser's, measured at the handshake. */
  clockOffsetMs = 0;

  private phase: Phase = 'awaiting-identify';
  private readonly socket: WebSocket;
  private readonly hooks: ConnectionHooks;
  private readonly options: ConnectionOptions;
  private readonly bucket: TokenBucket;
  private strikes = 0;
  private challenged = false;
  private lastHeard: number;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly heartbeatTimer: NodeJS.Timeout;

  constructor(socket: WebSocket, hooks: ConnectionHooks, options: ConnectionOptions) {
    this.socket = socket;
    this.hooks = hooks;
    this.options = options;
    this.origin = options.origin;
    this.bucket = new TokenBucket(options.rate.burst, options.rate.perSecond, options.now);
    this.lastHeard = options.now();

    socket.on('error', () => {
      // A broken frame or a reset; 'close' follows and does the cleanup.
    });
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    // The browser's network stack answers WebSocket pings itself, without running the page's JavaScript: a tab
    // whose timers the browser throttles (hidden for minutes) or a frozen page still proves it is there.
    socket.on('pong', () => {
      this.lastHeard = this.options.now();
    });
    socket.on('close', (code) => this.onClose(code));

    const { timings } = options;
    this.handshakeTimer = setTimeout(() => this.close('handshakeTimeout', 'no identify in time'), timings.handshakeTimeoutMs);
    let lastPing = options.now();
    this.heartbeatTimer = setInterval(() => {
      const now = this.options.now();
      if (now - this.lastHeard > timings.deadPeerMs) {
        this.close('deadPeer', 'no message and no answer to pings within the dead-peer timeout');
        return;
      }
      if (now - lastPing >= timings.heartbeatMs && this.socket.readyState === this.socket.OPEN) {
        lastPing = now;
        this.socket.ping();
      }
    }, Math.max(50, Math.min(timings.heartbeatMs, timings.deadPeerMs) / 2));

    this.send({
      type: 'hello',
      server: { name: SERVER_NAME, version: options.serverVersion },
      protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
      serverTime: options.now(),
    });
  }

  get identified(): boolean {
    return this.phase === 'identified';
  }

  get isOpen(): boolean {
    return this.phase !== 'closed';
  }

  send(message: ServerMessage): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(message));
  }

  notifyPairingPending(message: string): void {
    // Waiting for a person: the handshake gets longer, but not unbounded (4002 when nobody answered in time).
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = setTimeout(() => this.close('handshakeTimeout', 'nobody answered the pairing request in time'), this.options.timings.pairingTimeoutMs);
    this.send({ type: 'pairingPending', message });
  }

  sendCommand(command: CardCommandName, params: Record<string, unknown>, source: CommandSource, timeoutMs: number): string {
    const id = randomUUID();
    this.send({ type: 'command', id, command, params, source, timeoutMs });
    return id;
  }

  close(reason: CloseReason, message: string): void {
    if (this.phase === 'closed') return;
    this.finish();
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    this.socket.close(CLOSE_CODES[reason].code, Buffer.from(message).subarray(0, 120).toString());
    // A peer that never answers the closing handshake is cut off.
    setTimeout(() => this.socket.terminate(), 2_000).unref();
  }

  private finish(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.handshakeTimer);
    clearInterval(this.heartbeatTimer);
  }

  /** The socket is gone, whoever closed it: the hooks hear of it exactly once. */
  private onClose(code: number): void {
    this.finish();
    this.hooks.closed(this, code);
  }

  private error(code: ErrorCode, message: string, permanent: boolean, ref?: string): void {
    this.send({ type: 'error', code, message, permanent, ...(ref === undefined ? {} : { ref }) });
  }

  private receive(data: unknown, isBinary: boolean): void {
    if (this.phase === 'closed') return;
    this.lastHeard = this.options.now();
    if (!this.bucket.take()) {
      this.strikes += 1;
      if (this.strikes >= RATE_LIMIT_STRIKES) this.close('rateLimited', 'too many messages');
      else this.error('rate_limited', 'too many messages: slow down and resend what was not acknowledged', false);
      return;
    }
    this.strikes = 0;
    if (isBinary) {
      this.error('invalid_message', 'binary frames are not part of the protocol: send JSON text', true);
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : String(data);
    const parsed = parseWorkerMessage(text);
    if (!parsed.ok) {
      this.error(parsed.code, parsed.message, true, parsed.ref);
      return;
    }
    this.dispatch(parsed.value);
  }

  private dispatch(message: WorkerMessage): void {
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong', id: message.id, serverTime: this.options.now() });
        return;
      case 'identify':
        this.identify(message);
        return;
      case 'challenge':
        // Once, before identify: a paired worker says nothing about itself until the app proved itself.
        if (this.phase !== 'awaiting-identify' || this.challenged) {
          this.error('unexpected_message', 'challenge is answered once, before identify', true);
          return;
        }
        this.challenged = true;
        this.send({ type: 'proof', keyId: message.keyId, mac: this.hooks.prove(this, message) });
        return;
      default:
        break;
    }
    if (this.phase !== 'identified') {
      const ref = 'id' in message ? message.id : undefined;
      this.error('unexpected_message', `${message.type} before the handshake finished: send identify and wait for identified`, false, ref);
      return;
    }
    switch (message.type) {
      case 'event': {
        // Times are bounded before anything sees them: one absurd time would break every export of its day.
        const at = message.at + this.clockOffsetMs;
        const now = this.options.now();
        if (at < now - MAX_EVENT_AGE_MS || at > now + MAX_CLOCK_SKEW_MS) {
          this.error('invalid_time', `event time ${message.at} is outside the accepted range (at most ${MAX_EVENT_AGE_MS / 86_400_000} days old, not in the future)`, true, message.id);
          return;
        }
        const reply = (outcome: EventOutcome): void => {
          if (outcome.ok) this.send({ type: 'ack', id: message.id, seq: message.seq, duplicate: outcome.duplicate });
          else this.error(outcome.code, outcome.message, outcome.permanent, message.id);
        };
        const outcome = this.hooks.event(this, message, this.options.now());
        if ('then' in outcome) void outcome.then(reply);
        else reply(outcome);
        return;
      }
      case 'commandResult':
        this.hooks.commandResult(this, message);
        return;
      case 'report':
        this.hooks.report(this, message);
        return;
    }
  }

  private identify(message: IdentifyMessage): void {
    if (this.phase !== 'awaiting-identify') {
      this.error('unexpected_message', 'identify was already sent on this connection', true);
      return;
    }
    const version = Math.max(...message.protocolVersions.filter((v) => SUPPORTED_PROTOCOL_VERSIONS.includes(v)));
    if (!Number.isFinite(version)) {
      this.close('versionUnsupported', `protocol versions ${message.protocolVersions.join(',')} unsupported; server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(',')}`);
      return;
    }
    if (Math.abs(message.clientTime - this.options.now()) > MAX_CLOCK_SKEW_MS) {
      this.error('invalid_time', `clientTime ${message.clientTime} is more than a day away from the app's clock: set the computer's clock`, true);
      this.close('protocolError', 'clientTime out of range');
      return;
    }
    this.phase = 'identifying';
    this.hooks
      .identify(this, message, this.options.now())
      .then((outcome) => {
        if (this.phase !== 'identifying') return;
        if (!outcome.ok) {
          this.close(outcome.close, outcome.message);
          return;
        }
        clearTimeout(this.handshakeTimer);
        this.phase = 'identified';
        this.send({
          type: 'identified',
          protocolVersion: version,
          capabilities: {
            commands: [...this.options.commands],
            heartbeatMs: this.options.timings.heartbeatMs,
            deadPeerMs: this.options.timings.deadPeerMs,
            maxFrameBytes: this.options.maxFrameBytes,
          },
          lastStoredSeq: outcome.lastStoredSeq,
          snapshot: outcome.snapshot,
          ...(outcome.pairingToken === undefined ? {} : { pairingToken: outcome.pairingToken }),
        });
      })
      .catch((error: unknown) => {
        this.close('storeUnavailable', `identify failed: ${error instanceof Error ? error.message : String(error)}`);
      });
  }
}
