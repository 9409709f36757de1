// A purpose-built client of the Bitrix24 frame ↔ portal postMessage protocol (shared BITRIX24.md §5), about what
// the classic BX24 library does for a placement frame, and nothing more. Why not the library: it loads from a
// CDN on every page (the worker must load fast), and `b24jssdk` loses the first event after a bind.
//
// Frame → parent: `cmd:params:callbackId:APP_SID` (string form), or `{method, params, callback, appSid}` when
// the command name itself contains a colon. Parent → frame: `callbackId:JSON` (empty payload → no JSON).
// A bind keeps its callback for ever: the portal answers it once per event.

export interface FrameContext {
  /** The portal's host (and port), from the iframe's name. */
  domain: string;
  https: boolean;
  appSid: string;
  /** Origin the parent posts from and to. */
  parentOrigin: string;
}

export interface InitData {
  LANG?: string;
  DOMAIN?: string;
  PROTOCOL?: number | string;
  PATH?: string;
  AUTH_ID?: string;
  AUTH_EXPIRES?: number;
  REFRESH_ID?: string;
  MEMBER_ID?: string;
  IS_ADMIN?: boolean;
  PLACEMENT?: string;
  PLACEMENT_OPTIONS?: Record<string, unknown> | string;
}

/** `answered: false` when the portal stayed silent (timer commands, unknown commands, a card that is gone). */
export type CallReply = { answered: true; value: unknown } | { answered: false };

/** Reads the context Bitrix24 puts in the iframe's name: `host[:port]|0 or 1|APP_SID`. */
export function parseFrameName(name: string): FrameContext | null {
  const [rawDomain, protocol, appSid] = name.split('|');
  if (!rawDomain || !appSid || (protocol !== '0' && protocol !== '1')) return null;
  const https = protocol === '1';
  const domain = rawDomain.replace(https ? /:443$/ : /:80$/, '');
  return { domain, https, appSid, parentOrigin: `${https ? 'https' : 'http'}://${domain}` };
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join('') + Date.now().toString(36);
}

export class Bx24Frame {
  readonly context: FrameContext;
  private readonly callbacks = new Map<string, (payload: unknown) => void>();
  private readonly target: Window;

  constructor(context: FrameContext, target: Window = window.parent) {
    this.context = context;
    this.target = target;
    window.addEventListener('message', (event: MessageEvent) => this.receive(event));
  }

  /** Sends a command; `onReply` runs for every reply that refers to it (once for most, each time for binds). */
  send(command: string, params: unknown, onReply?: (payload: unknown) => void): string {
    const callbackId = randomId();
    if (onReply) this.callbacks.set(callbackId, onReply);
    const paramsText = params === null || params === undefined ? '' : JSON.stringify(params);
    const message = command.includes(':')
      ? { method: command, params: paramsText, callback: callbackId, appSid: this.context.appSid }
      : `${command}:${paramsText}:${callbackId}:${this.context.appSid}`;
    this.target.postMessage(message, this.context.parentOrigin);
    return callbackId;
  }

  /** One request, one reply; resolves `{answered: false}` if the portal stays silent for `timeoutMs`. */
  call(command: string, params: unknown, timeoutMs: number): Promise<CallReply> {
    return new Promise((resolve) => {
      let id = '';
      const timer = setTimeout(() => {
        this.callbacks.delete(id);
        resolve({ answered: false });
      }, timeoutMs);
      id = this.send(command, params, (value) => {
        clearTimeout(timer);
        this.callbacks.delete(id);
        resolve({ answered: true, value });
      });
    });
  }

  getInitData(timeoutMs = 5_000): Promise<InitData | null> {
    return this.call('getInitData', null, timeoutMs).then((r) => (r.answered && typeof r.value === 'object' && r.value !== null ? (r.value as InitData) : null));
  }

  /** The placement's commands and events; an empty event list means the phone module has not registered yet. */
  getInterface(timeoutMs = 5_000): Promise<{ command: string[]; event: string[] } | null> {
    return this.call('getInterface', null, timeoutMs).then((r) => {
      if (!r.answered || typeof r.value !== 'object' || r.value === null) return null;
      const value = r.value as { command?: unknown; event?: unknown };
      const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      return { command: list(value.command), event: list(value.event) };
    });
  }

  /**
   * Binds a placement event. The callback is registered before the bind is posted, so an event the portal raises
   * right after the bind (an `initialized` during a call, just after the page loaded) is never missed.
   */
  bindEvent(event: string, onEvent: (payload: unknown) => void): void {
    this.send('placementBindEvent', { event }, onEvent);
  }

  refreshAuth(timeoutMs = 10_000): Promise<{ AUTH_ID?: string; AUTH_EXPIRES?: number; REFRESH_ID?: string } | null> {
    return this.call('refreshAuth', {}, timeoutMs).then((r) => (r.answered && typeof r.value === 'object' && r.value !== null ? r.value : null));
  }

  private receive(event: MessageEvent): void {
    if (event.origin !== this.context.parentOrigin || typeof event.data !== 'string') return;
    const colon = event.data.indexOf(':');
    const id = colon < 0 ? event.data : event.data.slice(0, colon);
    const callback = this.callbacks.get(id);
    if (!callback) return;
    const text = colon < 0 ? '' : event.data.slice(colon + 1);
    let payload: unknown = '';
    if (text !== '') {
      try {
        payload = JSON.parse(text);
      } catch {
        return;
      }
    }
    callback(payload);
  }
}
