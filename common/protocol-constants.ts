// The protocol's plain constants, without schemas: the worker page imports these and stays free of zod.
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
export const SERVER_NAME = 'operator-companion';

/** The relay listens on the first free port of this range; the worker scans it when no `?port=` is given. */
export const DEFAULT_PORT = 17345;
export const PORT_FALLBACK_COUNT = 5;

/** Largest text frame the relay accepts; a comment of 10 000 characters with escapes fits easily. */
export const MAX_FRAME_BYTES = 64 * 1024;

/**
 * How far a browser's clock may be from the app's (the `identify` `clientTime`): beyond it the handshake is
 * refused with `invalid_time`. It bounds the clock offset the app applies to event times.
 */
export const MAX_CLOCK_SKEW_MS = 24 * 3_600_000;
/**
 * How old an event may be (its time corrected by the clock offset) when it arrives: the worker keeps unsent
 * events for up to 30 days. Events later than the app's clock by more than the skew are refused too.
 */
export const MAX_EVENT_AGE_MS = 31 * 24 * 3_600_000;

/**
 * Close codes and what a client should do after each. `never` means: do not reconnect until something changes
 * (the page is reloaded, the app is updated, the operator pairs again).
 */
export const CLOSE_CODES = {
  normal: { code: 1000, retry: 'backoff' },
  serverShutdown: { code: 1001, retry: 'backoff' },
  frameTooLarge: { code: 1009, retry: 'backoff' },
  protocolError: { code: 4000, retry: 'backoff' },
  versionUnsupported: { code: 4001, retry: 'never' },
  handshakeTimeout: { code: 4002, retry: 'backoff' },
  pairingRevoked: { code: 4003, retry: 'never' },
  pairingRejected: { code: 4004, retry: 'never' },
  replaced: { code: 4005, retry: 'never' },
  rateLimited: { code: 4006, retry: 'backoff' },
  deadPeer: { code: 4007, retry: 'backoff' },
  storeUnavailable: { code: 4008, retry: 'backoff' },
} as const satisfies Record<string, { code: number; retry: 'backoff' | 'never' }>;
export type CloseReason = keyof typeof CLOSE_CODES;

export function closeReasonOf(code: number): CloseReason | undefined {
  return (Object.keys(CLOSE_CODES) as CloseReason[]).find((k) => CLOSE_CODES[k].code === code);
}

/** Error codes carried by `error` messages. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_message',
  'invalid_event',
  'unexpected_message',
  'rate_limited',
  'store_failed',
  'unknown_command',
  'invalid_time',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Outcomes of a command the app sent to the card. */
export const COMMAND_OUTCOMES = [
  'ok',
  'no_call',
  'not_connected',
  'card_refused',
  'no_answer',
  'timed_out',
] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

/** The operator's state as the tray shows it. */
export const OPERATOR_STATES = ['not_connected', 'waiting', 'live', 'muted', 'on_hold', 'pending'] as const;
export type OperatorState = (typeof OPERATOR_STATES)[number];


/**
 * Proving the app (docs/protocol.md): before a paired worker says who it is, the app shows it holds that
 * pairing's secret. The worker names the pairing by `keyId` = hex SHA-256 of `keyIdInput(tokenHash)` and sends a
 * fresh nonce; the app answers HMAC-SHA256 keyed with the UTF-8 of `tokenHash` (hex SHA-256 of the token, all the
 * app keeps) over `proofMessage(workerOrigin, appPort, nonce)`. The port binds the proof to the socket the worker
 * opened, so a program on another port cannot pass on the real app's answer.
 */
export const KEY_ID_CONTEXT = 'operator-companion/key-id/v1';
export const PROOF_CONTEXT = 'operator-companion/pairing-proof/v1';

export function keyIdInput(tokenHash: string): string {
  return `${KEY_ID_CONTEXT}\n${tokenHash}`;
}

export function proofMessage(workerOrigin: string, appPort: number, nonce: string): string {
  return `${PROOF_CONTEXT}\n${workerOrigin}\n${appPort}\n${nonce}`;
}
