// The worker's side of docs/protocol.md: finds the app on 127.0.0.1, shakes hands, sends the outbox, keeps
// the connection alive and reconnects with backoff. It tells "the browser blocks this page from reaching the
// app" (Local Network Access, shared BITRIX24.md §7.2a) apart from "the app is not running", and does not retry
// in a tight loop when blocked: it waits for the permission to change, the page to become visible, or a slow timer.
import type { CardSnapshot, ServerMessage, ServerMessageOf } from '../common/protocol.ts';
import { CLOSE_CODES, DEFAULT_PORT, PORT_FALLBACK_COUNT, SERVER_NAME, closeReasonOf } from '../common/protocol-constants.ts';
import { makeChallenge } from './app-proof.ts';
import type { Identity, Outbox } from './outbox.ts';
import { persistence } from './persistence.ts';

export type ConnectionState =
  | 'starting'
  | 'connecting'
  | 'pairing'
  | 'connected'
  | 'app_not_running'
  | 'blocked_by_browser'
  /** The page embedding the worker is not a portal this deployment serves (portals.json). */
  | 'refused'
  /** Something answers on the port but cannot prove it is the app this browser paired with. */
  | 'unproven'
  | 'stopped';

export interface ClientStatus {
  state: ConnectionState;
  detail: string;
  port: number | null;
  attempts: number;
}

export interface RelayClientOptions {
  outbox: Outbox;
  identity: Identity;
  /** `?port=` of the worker's URL; otherwise the default range is scanned. */
  port: number | null;
  clientVersion: string;
  clientKind: 'worker' | 'desktop-worker';
  /** Delivers the outbox of a closed tab (an adopted orphan) rather than this page's own. */
  adopted?: boolean;
  loadToken(): string | null;
  saveToken(token: string | null): void;
  onCommand(command: ServerMessageOf<'command'>): void;
  onStatus(status: ClientStatus): void;
  onSnapshot?(snapshot: CardSnapshot): void;
}

const BACKOFF_FIRST_MS = 1_000;
/** This page load: a reload gets a new one, so the app can tell a reloaded page from a reconnecting one. */
const PAGE_ID = crypto.randomUUID();
const BACKOFF_CAP_MS = 30_000;
/** While the browser blocks us, try again this rarely unless something changes. */
const BLOCKED_RETRY_MS = 5 * 60_000;
const OPEN_TIMEOUT_MS = 3_000;
/** Well under the app's flood limit (a burst of 500, then 200 a second). */
const REPLAY_PER_SECOND = 150;
const PERMISSION_NAMES = ['loopback-network', 'local-network-access', 'local-network'];

const REACHED_WITHOUT_GRANT_KEY = 'oc_reached_without_grant';

function reachedWithoutGrant(): boolean {
  return persistence().get(REACHED_WITHOUT_GRANT_KEY) === '1';
}

/** Without storage the next failure is reported as blocked, which is the cautious reading. */
function rememberReachedWithoutGrant(): void {
  persistence().set(REACHED_WITHOUT_GRANT_KEY, '1');
}

/** What the browser says about reaching loopback from this frame: granted, denied, prompt, or unknown. */
export async function loopbackPermission(): Promise<{ state: PermissionState | 'unknown'; status: PermissionStatus | null }> {
  // Firefox (ESR 153, measured) answers "denied" for loopback-network while its socket to 127.0.0.1 works: the
  // answer is no evidence there, and taking it as a block would hold off the retries for minutes.
  if (navigator.userAgent.includes('Firefox/')) return { state: 'unknown', status: null };
  for (const name of PERMISSION_NAMES) {
    try {
      const status = await navigator.permissions.query({ name } as unknown as PermissionDescriptor);
      return { state: status.state, status };
    } catch {
      // This browser does not know the name (older Chromium, Firefox, Safari): try the next.
    }
  }
  return { state: 'unknown', status: null };
}

export class RelayClient {
  private readonly options: RelayClientOptions;
  private socket: WebSocket | null = null;
  private status: ClientStatus = { state: 'starting', detail: '', port: null, attempts: 0 };
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private backoffMs = BACKOFF_FIRST_MS;
  private lastHeard = 0;
  /** When the page last came back from being frozen (Chromium closes a frozen page's sockets as it resumes). */
  private resumedAt = 0;
  /** When the oldest ping still without any answer was sent; null when the app has answered since. */
  private unansweredSince: number | null = null;
  private heartbeatMs = 15_000;
  private deadPeerMs = 45_000;
  private wasBlocked = false;
  private watchedPermission: PermissionStatus | null = null;
  private identified = false;
  /** Events sent on the current connection and not yet answered: not sent twice on it. */
  private readonly sent = new Set<string>();
  private stopped = false;
  private attemptRunning = false;

  constructor(options: RelayClientOptions) {
    this.options = options;
  }

  get state(): ConnectionState {
    return this.status.state;
  }

  start(): void {
    document.addEventListener('visibilitychange', () => {
      this.reportLifecycle(document.visibilityState === 'visible' ? 'visible' : 'hidden');
      if (document.visibilityState === 'visible') this.retryNow();
    });
    // Page Lifecycle: the browser may freeze a background page (no JavaScript runs, the socket stays) and resume
    // it later; on resume, say so and send whatever waited.
    document.addEventListener('freeze', () => this.reportLifecycle('frozen'));
    document.addEventListener('resume', () => {
      this.resumedAt = Date.now();
      this.reportLifecycle(document.visibilityState === 'visible' ? 'visible' : 'hidden');
      if (this.identified) this.flush();
      else this.retryNow();
    });
    window.addEventListener('online', () => this.retryNow());
    void this.attempt();
  }

  /**
   * Sends what the outbox holds and this connection has not sent yet, if connected. A long backlog (after an
   * outage) goes at a pace the app accepts, instead of tripping its flood limit.
   */
  flush(): void {
    if (!this.identified) return;
    let budget = REPLAY_PER_SECOND;
    for (const event of this.options.outbox.pending) {
      if (this.sent.has(event.id)) continue;
      if (budget === 0) {
        this.resendLater(1_000);
        return;
      }
      this.sendEvent(event);
      budget -= 1;
    }
  }

  sendEventNow(id: string): void {
    const event = this.options.outbox.pending.find((e) => e.id === id);
    if (event && this.identified && !this.sent.has(id)) this.sendEvent(event);
  }

  send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Stops for good (an adopted orphan that delivered everything, or a do-not-reconnect close). */
  stop(detail: string): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    this.socket?.close(1000);
    this.setStatus({ state: 'stopped', detail });
  }

  private retryNow(): void {
    if (this.stopped || this.socket || this.attemptRunning) return;
    if (this.status.state !== 'app_not_running' && this.status.state !== 'blocked_by_browser' && this.status.state !== 'unproven') return;
    clearTimeout(this.retryTimer);
    void this.attempt();
  }

  private setStatus(patch: Partial<ClientStatus>): void {
    this.status = { ...this.status, ...patch };
    this.options.onStatus(this.status);
  }

  private ports(): number[] {
    if (this.options.port !== null) return [this.options.port];
    return Array.from({ length: PORT_FALLBACK_COUNT }, (_, i) => DEFAULT_PORT + i);
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.attemptRunning) return;
    this.attemptRunning = true;
    this.setStatus({ state: 'connecting', detail: '', attempts: this.status.attempts + 1 });
    try {
      const unproven: number[] = [];
      for (const port of this.ports()) {
        const opened = await this.open(port);
        if (opened === 'unproven') unproven.push(port);
        else if (opened) {
          this.adopt(opened, port);
          return;
        }
        if (this.stopped) return;
      }
      if (unproven.length > 0) {
        // Something answers as the app but does not hold this browser's pairing: it gets nothing, and the
        // operator hears of it (the real app may start later, on this port or the next).
        this.setStatus({
          state: 'unproven',
          port: null,
          detail:
            `the program on 127.0.0.1:${unproven.join(', ')} is not the Operator Companion this browser paired with; nothing was sent to it. ` +
            'If the app was reinstalled or its data reset, use "Pair this browser again" on the application\'s page in Bitrix24.',
        });
        console.warn(`[Operator Companion] ${this.status.detail}`);
        this.schedule(this.nextBackoff());
        return;
      }
      await this.failed();
    } finally {
      this.attemptRunning = false;
    }
  }

  /**
   * Opens a socket and waits for the app's hello and, when this browser is paired, for the app's proof that it
   * holds the pairing secret; null when nothing (or something else) answers, 'unproven' when no proof came.
   */
  private open(port: number): Promise<WebSocket | null | 'unproven'> {
    const token = this.options.loadToken();
    return new Promise((resolve) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(`ws://127.0.0.1:${port}/`);
      } catch {
        resolve(null);
        return;
      }
      let challenged = false;
      const timer = setTimeout(() => finish(challenged ? 'unproven' : null), OPEN_TIMEOUT_MS);
      const finish = (result: WebSocket | null | 'unproven'): void => {
        clearTimeout(timer);
        socket.onmessage = null;
        socket.onclose = null;
        socket.onerror = null;
        if (result === null || result === 'unproven') socket.close();
        resolve(result);
      };
      const challenge = token ? makeChallenge(token) : null;
      socket.onmessage = (event) => {
        const message = parse(event.data);
        if (!challenged) {
          if (message?.type !== 'hello' || message.server?.name !== SERVER_NAME) return finish(null);
          if (!challenge) return finish(socket);
          challenged = true;
          void challenge.then((c) => socket.send(JSON.stringify(c.message)), () => finish('unproven'));
          return;
        }
        if (message?.type !== 'proof') return finish('unproven');
        void challenge!.then((c) => c.verify(message, port)).then((ok) => finish(ok ? socket : 'unproven'), () => finish('unproven'));
      };
      socket.onerror = () => finish(challenged ? 'unproven' : null);
      socket.onclose = () => finish(challenged ? 'unproven' : null);
    });
  }

  private async failed(): Promise<void> {
    const permission = await loopbackPermission();
    // A portal served from this computer (development, the emulator) reaches the app whatever the permission
    // says; once that has been seen, a refused socket means the app is not running.
    if ((permission.state === 'denied' || permission.state === 'prompt') && !reachedWithoutGrant()) {
      this.wasBlocked = true;
      this.watchPermission(permission.status);
      this.setStatus({
        state: 'blocked_by_browser',
        port: null,
        detail:
          'The browser blocks this Bitrix24 page from reaching Operator Companion on this computer. ' +
          'Allow "Apps on device" (local network access) for the Bitrix24 site in the browser\'s site settings, or ask IT for the browser policy.',
      });
      console.warn(`[Operator Companion] ${this.status.detail}`);
      this.schedule(BLOCKED_RETRY_MS);
      return;
    }
    this.setStatus({ state: 'app_not_running', port: null, detail: 'Operator Companion is not running on this computer (nothing answered on 127.0.0.1).' });
    this.schedule(this.nextBackoff());
  }

  private watchPermission(status: PermissionStatus | null): void {
    if (!status || this.watchedPermission === status) return;
    this.watchedPermission = status;
    status.addEventListener('change', () => this.retryNow());
  }

  /** Exponential backoff with jitter: each wait is 50–100 % of a value that doubles up to 30 s. */
  private nextBackoff(): number {
    const wait = this.backoffMs * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(BACKOFF_CAP_MS, this.backoffMs * 2);
    return wait;
  }

  private schedule(ms: number): void {
    clearTimeout(this.retryTimer);
    if (!this.stopped) this.retryTimer = setTimeout(() => void this.attempt(), ms);
  }

  private adopt(socket: WebSocket, port: number): void {
    this.socket = socket;
    this.lastHeard = Date.now();
    this.setStatus({ state: 'connecting', port, detail: 'handshake' });
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(event.code, event.reason);
    socket.onerror = () => {
      // 'close' follows.
    };
    const { identity, outbox } = this.options;
    const token = this.options.loadToken();
    this.send({
      type: 'identify',
      protocolVersions: [1],
      client: { kind: this.options.clientKind, version: this.options.clientVersion },
      portal: { domain: identity.domain, memberId: identity.memberId },
      user: { id: identity.userId, ...(identity.userName ? { name: identity.userName } : {}) },
      frame: { appSid: outbox.appSid, pageId: PAGE_ID, ...(identity.uri ? { uri: identity.uri } : {}), ...(this.options.adopted ? { adopted: true } : {}) },
      ...(token ? { pairingToken: token } : {}),
      lastAckedSeq: outbox.lastAckedSeq,
      ...(outbox.droppedEvents > 0 ? { droppedEvents: outbox.droppedEvents } : {}),
      clientTime: Date.now(),
    });
  }

  private receive(data: unknown): void {
    const message = parse(data);
    if (!message) return;
    this.lastHeard = Date.now();
    this.unansweredSince = null;
    const { outbox } = this.options;
    switch (message.type) {
      case 'pairingPending':
        this.setStatus({ state: 'pairing', detail: message.message });
        return;
      case 'identified':
        this.identified = true;
        this.backoffMs = BACKOFF_FIRST_MS;
        this.heartbeatMs = Number(message.capabilities?.heartbeatMs) || this.heartbeatMs;
        this.deadPeerMs = Number(message.capabilities?.deadPeerMs) || this.deadPeerMs;
        if (message.pairingToken) this.options.saveToken(message.pairingToken);
        if (outbox.droppedEvents > 0) outbox.droppedReported();
        outbox.storedUpTo(message.lastStoredSeq);
        this.startHeartbeat();
        this.setStatus({ state: 'connected', detail: '' });
        void loopbackPermission().then((p) => {
          if (p.state !== 'granted' && p.state !== 'unknown') rememberReachedWithoutGrant();
        });
        this.options.onSnapshot?.(message.snapshot);
        this.reportLifecycle(document.visibilityState === 'visible' ? 'visible' : 'hidden');
        if (this.wasBlocked) {
          this.send({ type: 'report', browserBlocked: true, note: 'connected after the browser had blocked earlier attempts' });
          this.wasBlocked = false;
        }
        this.flush();
        return;
      case 'ack':
        this.sent.delete(message.id);
        outbox.acked(message.id, message.seq);
        return;
      case 'error':
        if (message.ref) this.sent.delete(message.ref);
        if (message.permanent && message.ref) outbox.drop(message.ref);
        if (message.code === 'rate_limited' || message.code === 'store_failed') this.resendLater(2_000);
        return;
      case 'command':
        this.options.onCommand(message);
        return;
      default:
        return;
    }
  }

  private resendTimer: ReturnType<typeof setTimeout> | undefined;
  private resendLater(ms: number): void {
    if (this.resendTimer) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      this.flush();
    }, ms);
  }

  private sendEvent(event: { id: string; seq: number; at: number; name: string; payload: unknown }): void {
    this.sent.add(event.id);
    this.send({ type: 'event', ...event });
  }

  /**
   * The app is taken for gone only when a ping of ours went unanswered for the dead-peer time. Measured from the
   * ping, not from the last message: a hidden tab's timers run once a minute, and the gap between two ticks says
   * nothing about the app.
   */
  private startHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.unansweredSince = null;
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (this.unansweredSince !== null && now - this.unansweredSince > this.deadPeerMs) {
        this.socket?.close(4007, 'no answer from the app');
        return;
      }
      this.unansweredSince ??= now;
      this.send({ type: 'ping', id: crypto.randomUUID() });
      this.options.outbox.touch();
    }, this.heartbeatMs);
  }

  /** Tells the app whether the tab is visible, hidden or about to be frozen, so it can allow for it. */
  reportLifecycle(lifecycle: 'visible' | 'hidden' | 'frozen'): void {
    if (this.identified) this.send({ type: 'report', lifecycle });
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    this.identified = false;
    this.sent.clear();
    clearInterval(this.heartbeatTimer);
    if (this.stopped) return;
    const name = closeReasonOf(code);
    if (name && CLOSE_CODES[name].retry === 'never') {
      if (name === 'pairingRevoked') this.options.saveToken(null);
      this.stop(`the app closed the connection for good (${name}${reason ? `: ${reason}` : ''})`);
      return;
    }
    this.setStatus({ state: 'app_not_running', detail: `connection closed (${code}${reason ? `: ${reason}` : ''}); reconnecting` });
    // Measured on Chromium 156: a page frozen by the browser keeps its socket (the network stack even answers the
    // app's pings), and the socket is closed as the page resumes. That is no outage: reconnect at once.
    this.schedule(Date.now() - this.resumedAt < 5_000 ? 0 : this.nextBackoff());
  }
}

/** The server's messages, checked just enough to be used safely. */
function parse(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const value = JSON.parse(data) as unknown;
    if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string') return null;
    return value as ServerMessage;
  } catch {
    return null;
  }
}
