// The headless core put together: store, pairing, call state and relay. The desktop app and `serve` both run
// one of these; neither knows anything the other does not.
import { normalizeEventPayload } from '../../common/card-events.ts';
import { CARD_COMMAND_NAMES } from '../../common/bitrix24.ts';
import { CLOSE_CODES, DEFAULT_PORT, MAX_FRAME_BYTES, PORT_FALLBACK_COUNT } from '../../common/protocol.ts';
import type { CommandSource } from '../../common/card-events.ts';
import { CallState, type CardAction, type CommandResponse, type OperatorView } from './calls/call-state.ts';
import { IngestQueue } from './ingest-queue.ts';
import { PairingService, type ApprovePairing, type PairingRequest } from './pairing.ts';
import { startRelayServer, type RelayServer } from './relay/relay-server.ts';
import { normalizeOrigin, type UpgradePolicy } from './relay/upgrade-policy.ts';
import { DEFAULT_TIMINGS, WorkerConnection, type ConnectionHooks, type ConnectionTimings, type IdentifyOutcome } from './relay/worker-connection.ts';
import type { DeviceChoice, MicrophonePort } from './microphone/microphone-port.ts';
import { MicrophoneSync, type EndOfCallRule, type MicrophoneStatus } from './microphone/microphone-sync.ts';
import type { MovedAside } from './store/database.ts';
import { SessionStore } from './store/session-store.ts';

export const APP_VERSION = '0.1.0';

/** Clock offsets that moved less than this are measurement noise; keeping the old one keeps intervals exact. */
const CLOCK_OFFSET_TOLERANCE_MS = 1_000;

export type LogEntry = { event: string } & Record<string, unknown>;

export interface CompanionOptions {
  dataDir: string;
  port?: number;
  portFallbackCount?: number;
  /** HTTPS origins where the worker page is hosted. */
  allowedOrigins: readonly string[];
  /** Accept workers served from 127.0.0.1/localhost (development, the portal emulator). Pairing still applies. */
  allowLoopbackOrigins?: boolean;
  /** Approve every new worker from an allow-listed origin without asking. */
  autoApprove?: boolean;
  /** Asked for anything not auto-approved. Without it such workers are refused. */
  approvePairing?: ApprovePairing;
  graceMs?: number;
  commandTimeoutMs?: number;
  timings?: Partial<ConnectionTimings>;
  rate?: { burst: number; perSecond: number };
  now?: () => number;
  log?: (entry: LogEntry) => void;
  /** The operator's real microphone, kept in step with the card; without it the app mirrors the card only. */
  microphone?: { port: MicrophonePort; choice: DeviceChoice; endOfCall: EndOfCallRule };
}

export interface CompanionStatus {
  port: number;
  view: OperatorView;
  pendingPairings: number;
  /** Sockets open right now, identified or not. */
  openSockets: number;
  /** When the last event from any tab was stored. */
  lastEventAt: number | null;
  /** null in mirror-only mode. */
  microphone: MicrophoneStatus | null;
}

export class Companion {
  readonly store: SessionStore;
  readonly state: CallState;
  readonly pairing: PairingService;
  private readonly ingest: IngestQueue;
  private relay: RelayServer | null = null;
  readonly microphone: MicrophoneSync | null;
  private readonly connections = new Set<WorkerConnection>();
  private readonly options: CompanionOptions;
  private readonly now: () => number;
  private readonly log: (entry: LogEntry) => void;
  /** Read by the upgrade checks on every connection, so a change applies to the next socket. */
  private readonly policy: UpgradePolicy;
  private pendingPairings = 0;
  private lastEventAt: number | null = null;
  /** Set when a damaged database was moved aside at start: the operator must be told. */
  storeRecovered: MovedAside | null = null;

  static async start(options: CompanionOptions): Promise<Companion> {
    const companion = new Companion(options);
    try {
      await companion.listen();
      await companion.microphone?.start();
    } catch (error) {
      await companion.relay?.close(CLOSE_CODES.serverShutdown.code, 'Operator Companion could not start');
      await companion.microphone?.stop();
      companion.state.dispose();
      companion.store.close();
      throw error;
    }
    return companion;
  }

  private constructor(options: CompanionOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
    this.policy = { allowedOrigins: normalizeOrigins(options.allowedOrigins), allowLoopbackOrigins: options.allowLoopbackOrigins ?? false };
    this.store = SessionStore.openInDir(options.dataDir, (moved) => {
      this.storeRecovered = moved;
      this.log({ event: 'databaseMovedAside', ...moved });
    });
    this.state = new CallState(this.store, {
      graceMs: options.graceMs ?? 60_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 4_000,
      now: this.now,
      onError: (error) => this.log({ event: 'storeFailed', message: error instanceof Error ? error.message : String(error) }),
    });
    const approve = options.approvePairing;
    this.pairing = new PairingService(this.store, {
      trusted: (request) => (options.autoApprove ?? false) && this.policy.allowedOrigins.includes(request.origin),
      now: this.now,
      approve: (request) => this.approve(request, approve),
    });
    this.ingest = new IngestQueue(
      this.store,
      (changed) => this.state.apply(changed),
      (error) => this.log({ event: 'storeFailed', message: `writing call figures: ${error instanceof Error ? error.message : String(error)}` }),
    );
    this.state.restore();
    const microphone = options.microphone;
    this.microphone = microphone
      ? new MicrophoneSync({
          ...microphone,
          dataDir: options.dataDir,
          now: this.now,
          view: () => this.state.view(),
          onViewChange: (listener) => this.state.onChange(listener),
          record: (callRowId, at, payload, source) => this.store.recordMicrophoneEvent(callRowId, at, payload, source, this.now()),
          apply: (updates) => this.state.apply(updates),
          commandCard: (action, source) => this.state.command(action, source),
          log: this.log,
        })
      : null;
  }

  get port(): number {
    return this.relay?.port ?? 0;
  }

  status(): CompanionStatus {
    return {
      port: this.port,
      view: withMicrophoneTruth(this.state.view(), this.microphone?.muted ?? null),
      pendingPairings: this.pendingPairings,
      openSockets: this.connections.size,
      lastEventAt: this.lastEventAt,
      microphone: this.microphone?.status() ?? null,
    };
  }

  /** Changes which worker origins may connect from now on (open sockets stay). */
  setAllowedOrigins(origins: readonly string[]): void {
    this.policy.allowedOrigins = normalizeOrigins(origins);
  }

  /** A mute from the app changes the microphone at once (what the customer hears), then asks the card. */
  async command(action: CardAction, source: CommandSource): Promise<CommandResponse> {
    if (this.microphone && (action === 'mute' || action === 'unmute' || action === 'toggle')) {
      const call = this.state.view().call;
      if (call) {
        // Toggle what the operator sees: the microphone when it can be read, else the card.
        const shown = call.requested.muted ?? this.microphone.muted ?? call.muted;
        const muted = action === 'toggle' ? !shown : action === 'mute';
        await this.microphone.setFromCommand(muted, source);
        return this.state.command(muted ? 'mute' : 'unmute', source);
      }
    }
    return this.state.command(action, source);
  }

  /** Revokes a pairing and closes its open sockets with the do-not-reconnect code. */
  revokePairing(pairingId: number): boolean {
    const revoked = this.pairing.revoke(pairingId);
    for (const conn of this.connections) {
      if (conn.pairingId === pairingId) conn.close('pairingRevoked', 'pairing revoked by the operator');
    }
    return revoked;
  }

  async stop(): Promise<void> {
    // Sockets first, so nothing reaches the state or the store once they are being shut down.
    await this.relay?.close(CLOSE_CODES.serverShutdown.code, 'Operator Companion is shutting down');
    this.relay = null;
    await this.microphone?.stop();
    await this.options.microphone?.port.close();
    this.ingest.close();
    this.state.dispose();
    this.store.close();
  }

  private async approve(request: PairingRequest, ask: ApprovePairing | undefined): Promise<boolean | null> {
    if (!ask) {
      this.log({ event: 'pairingRefused', ...request, reason: 'origin not allow-listed for auto-approval and nobody to ask' });
      return null;
    }
    this.pendingPairings += 1;
    this.log({ event: 'pairingRequested', ...request });
    try {
      return await ask(request);
    } finally {
      this.pendingPairings -= 1;
    }
  }

  private async listen(): Promise<void> {
    const timings = { ...DEFAULT_TIMINGS, ...this.options.timings };
    const hooks = this.hooks();
    this.relay = await startRelayServer({
      port: this.options.port ?? DEFAULT_PORT,
      fallbackCount: this.options.portFallbackCount ?? PORT_FALLBACK_COUNT - 1,
      policy: this.policy,
      onRejected: (reason) => this.log({ event: 'upgradeRejected', reason }),
      onConnection: (socket, origin) => {
        const conn = new WorkerConnection(socket, hooks, {
          origin,
          serverVersion: APP_VERSION,
          timings,
          commands: CARD_COMMAND_NAMES,
          maxFrameBytes: MAX_FRAME_BYTES,
          rate: this.options.rate ?? { burst: 500, perSecond: 200 },
          now: this.now,
        });
        this.connections.add(conn);
      },
    });
  }

  private hooks(): ConnectionHooks {
    return {
      prove: (conn, message) => this.pairing.prove(conn.origin, this.port, message.keyId, message.nonce),
      identify: (conn, message, receivedAt) => this.identify(conn, message, receivedAt),
      event: async (conn, message, receivedAt) => {
        const normalized = normalizeEventPayload(message.name, message.payload);
        if (!normalized.ok) return { ok: false, code: 'invalid_event', message: normalized.error, permanent: true };
        const outcome = await this.ingest.enqueue(conn.frameId as number, {
          eventId: message.id,
          seq: message.seq,
          clientAt: message.at,
          at: message.at + conn.clockOffsetMs,
          receivedAt,
          event: normalized.event,
        });
        if (outcome.ok) {
          this.lastEventAt = receivedAt;
          return { ok: true, duplicate: outcome.duplicate };
        }
        // Not acknowledged: the worker keeps the event and sends it again later.
        this.log({ event: 'storeFailed', message: outcome.error.message });
        return { ok: false, code: 'store_failed', message: 'the app could not store the event; it will be retried', permanent: false };
      },
      commandResult: (conn, message) => {
        const frameId = conn.frameId;
        if (frameId !== null) this.ingest.afterPending(() => this.state.commandResult(frameId, message));
      },
      report: (conn, message) => {
        if (message.lifecycle !== undefined && conn.frameId !== null) this.state.setLifecycle(conn.frameId, message.lifecycle);
        // Lifecycle reports come with every change of tab; the log needs the unusual ones.
        if (message.browserBlocked !== undefined || message.note !== undefined) this.log({ event: 'workerReport', frameId: conn.frameId, ...message });
      },
      closed: (conn, code) => {
        this.connections.delete(conn);
        if (conn.frameId === null) return;
        try {
          if (conn.connectionId !== null) this.store.closeConnection(conn.connectionId, this.now(), code);
        } catch {
          // The store may already be closed during shutdown; the open row is read as "closed at last event".
        }
        this.state.detach(conn.frameId, conn);
      },
    };
  }

  private async identify(conn: WorkerConnection, message: Parameters<ConnectionHooks['identify']>[1], receivedAt: number): Promise<IdentifyOutcome> {
    const identity = {
      memberId: message.portal.memberId,
      domain: message.portal.domain,
      userId: message.user.id,
      userName: message.user.name ?? null,
    };
    // Nothing is written for a worker until it is authorised: the pairing service reads, and writes only then.
    const verdict = await this.pairing.authorize({ origin: conn.origin, ...identity }, message.pairingToken, () =>
      conn.notifyPairingPending('waiting for the operator to allow this Bitrix24 tab in Operator Companion'),
    );
    if (!verdict.ok) {
      if (verdict.reason === 'revoked') return { ok: false, close: 'pairingRevoked', message: 'this pairing was revoked in Operator Companion' };
      if (verdict.reason === 'rejected') return { ok: false, close: 'pairingRejected', message: 'Operator Companion did not allow this tab' };
      if (verdict.reason === 'too_many_bad_tokens') return { ok: false, close: 'rateLimited', message: 'too many unknown pairing tokens; try again later' };
      return { ok: false, close: 'normal', message: 'nobody answered the pairing request; try again later' };
    }
    if (!conn.isOpen) return { ok: false, close: 'normal', message: 'closed while waiting' };
    const resolved = this.store.resolveFrame(
      verdict.ids,
      { appSid: message.frame.appSid, origin: conn.origin, uri: message.frame.uri ?? null },
      receivedAt,
    );
    // Frames are keyed by (portal, operator, APP_SID): one operator cannot speak for another's tab.
    if (!resolved) {
      this.log({ event: 'frameClaimRefused', origin: conn.origin, appSid: message.frame.appSid, userId: message.user.id });
      return { ok: false, close: 'protocolError', message: "this tab's APP_SID belongs to another operator" };
    }
    const { frame, created } = resolved;
    // A tab delivering a closed tab's outbox steps back when that tab is in fact still connected (hidden, its
    // timers too slow to look alive): it delivers its events itself, and its socket must not be replaced.
    if (message.frame.adopted && this.state.isConnected(frame.id)) {
      return { ok: false, close: 'replaced', message: 'the tab that owns these events is connected and delivers them itself' };
    }
    const measured = receivedAt - message.clientTime;
    let offset = frame.clockOffsetMs;
    if (created || Math.abs(measured - offset) > CLOCK_OFFSET_TOLERANCE_MS) {
      offset = Math.round(measured);
      this.store.setClockOffset(frame.id, offset);
    }
    conn.frameId = frame.id;
    conn.pairingId = verdict.pairingId;
    conn.clockOffsetMs = offset;
    conn.connectionId = this.store.openConnection(frame.id, receivedAt, offset);
    // The frame still holds everything since it was last here unless it dropped events or the app lost some.
    const continuous = !created && message.lastAckedSeq <= frame.lastSeq && (message.droppedEvents ?? 0) === 0;
    if (message.lastAckedSeq > frame.lastSeq) {
      this.log({ event: 'ackedEventsMissing', frameId: frame.id, workerLastAcked: message.lastAckedSeq, storedLastSeq: frame.lastSeq });
    }
    this.state.attach(frame.id, conn, continuous, message.frame.pageId);
    return {
      ok: true,
      lastStoredSeq: frame.lastSeq,
      snapshot: this.state.snapshotForFrame(frame.id),
      ...(verdict.newToken === undefined ? {} : { pairingToken: verdict.newToken }),
    };
  }
}

/** On a call, the tray says what the microphone says: that is what the customer hears. */
function withMicrophoneTruth(view: OperatorView, micMuted: boolean | null): OperatorView {
  if (micMuted === null || (view.state !== 'live' && view.state !== 'muted')) return view;
  return { ...view, state: micMuted ? 'muted' : 'live' };
}

function normalizeOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    const normalized = normalizeOrigin(origin);
    if (!normalized) throw new Error(`allowed origin "${origin}" is not an origin like https://host[:port]`);
    return normalized;
  });
}
