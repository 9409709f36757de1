// The worker ↔ app wire protocol: JSON text frames over a WebSocket on 127.0.0.1. Documented in docs/protocol.md.
// Both directions are described here as schemas, so the server validates what workers send and tests (and the
// worker page) validate what the server sends.
import { z } from 'zod';
import { CARD_COMMAND_NAMES } from './bitrix24.ts';
import { checkCardCommand } from './card-commands.ts';
import { COMMAND_SOURCES, describeZodError } from './card-events.ts';
import { ERROR_CODES, SERVER_NAME, type ErrorCode } from './protocol-constants.ts';

export {
  CLOSE_CODES,
  COMMAND_OUTCOMES,
  DEFAULT_PORT,
  ERROR_CODES,
  MAX_CLOCK_SKEW_MS,
  MAX_EVENT_AGE_MS,
  MAX_FRAME_BYTES,
  OPERATOR_STATES,
  PORT_FALLBACK_COUNT,
  PROTOCOL_VERSION,
  SERVER_NAME,
  SUPPORTED_PROTOCOL_VERSIONS,
  closeReasonOf,
  keyIdInput,
  proofMessage,
  type CloseReason,
  type CommandOutcome,
  type ErrorCode,
  type OperatorState,
} from './protocol-constants.ts';

const shortText = z.string().min(1).max(200);
const messageId = z.string().min(1).max(64);

// ---------------------------------------------------------------- worker → app

export const identifySchema = z
  .object({
    type: z.literal('identify'),
    protocolVersions: z.array(z.number().int().positive()).min(1).max(16),
    client: z.object({ kind: z.enum(['worker', 'desktop-worker', 'test']), version: shortText }).strict(),
    portal: z.object({ domain: shortText, memberId: shortText }).strict(),
    user: z.object({ id: z.union([shortText, z.number().int().positive()]).transform(String), name: z.string().max(200).optional() }).strict(),
    /**
     * `pageId`: new at every page load. The same `appSid` with another `pageId` is a reloaded page, whose call card
     * died with the old page; the same `pageId` again is the same page reconnecting, whose card lives on.
     */
    frame: z
      .object({
        appSid: shortText,
        uri: z.string().max(2000).optional(),
        pageId: z.string().min(8).max(64).optional(),
        /** Another tab delivering what a closed tab left behind: it never takes over a frame that is connected. */
        adopted: z.boolean().optional(),
      })
      .strict(),
    pairingToken: z.string().min(16).max(200).optional(),
    lastAckedSeq: z.number().int().nonnegative(),
    /** Events the worker had to throw away unsent (its buffer is bounded). Any → the app records a gap. */
    droppedEvents: z.number().int().nonnegative().optional(),
    /** The browser's clock when it sent this, in ms since the epoch; gives the clock offset. */
    clientTime: z.number().finite().nonnegative(),
  })
  .strict();
export type IdentifyMessage = z.output<typeof identifySchema>;

export const eventMessageSchema = z
  .object({
    type: z.literal('event'),
    id: messageId,
    seq: z.number().int().positive(),
    /** When the card raised it, by the browser's clock, ms since the epoch. */
    at: z.number().finite().nonnegative(),
    name: z.string().min(1).max(100),
    payload: z.unknown(),
  })
  .strict();
export type EventMessage = z.output<typeof eventMessageSchema>;

export const commandResultSchema = z
  .object({
    type: z.literal('commandResult'),
    id: messageId,
    outcome: z.enum(['ok', 'card_refused', 'no_call', 'no_answer']),
    /** The portal's error code when the card refused, e.g. "Call card is undefined". */
    detail: z.string().max(500).optional(),
    result: z.unknown().optional(),
  })
  .strict();
export type CommandResultMessage = z.output<typeof commandResultSchema>;

export const pingSchema = z.object({ type: z.literal('ping'), id: messageId }).strict();

/** The worker reports what it knows about its own situation (e.g. the browser blocked an earlier attempt). */
export const reportSchema = z
  .object({
    type: z.literal('report'),
    browserBlocked: z.boolean().optional(),
    note: z.string().max(500).optional(),
    /** The tab as the page sees it: shown, in the background, or about to be frozen by the browser. */
    lifecycle: z.enum(['visible', 'hidden', 'frozen']).optional(),
  })
  .strict();

/** A paired worker asks the app to prove it holds the pairing's secret, before it identifies. */
export const challengeSchema = z
  .object({
    type: z.literal('challenge'),
    keyId: z.string().regex(/^[0-9a-f]{64}$/),
    nonce: z.string().regex(/^[A-Za-z0-9_-]{22,128}$/),
  })
  .strict();
export type ChallengeMessage = z.output<typeof challengeSchema>;

export const workerMessageSchema = z.discriminatedUnion('type', [
  challengeSchema,
  identifySchema,
  eventMessageSchema,
  commandResultSchema,
  pingSchema,
  reportSchema,
]);
export type WorkerMessage = z.output<typeof workerMessageSchema>;

// ---------------------------------------------------------------- app → worker

export const cardSnapshotSchema = z.object({
  callId: z.string().nullable(),
  active: z.boolean(),
  muted: z.boolean(),
  held: z.boolean(),
});
export type CardSnapshot = z.output<typeof cardSnapshotSchema>;

export const helloSchema = z.object({
  type: z.literal('hello'),
  server: z.object({ name: z.literal(SERVER_NAME), version: z.string() }),
  protocolVersions: z.array(z.number().int()),
  serverTime: z.number(),
});

export const identifiedSchema = z.object({
  type: z.literal('identified'),
  protocolVersion: z.number().int(),
  capabilities: z.object({
    commands: z.array(z.enum(CARD_COMMAND_NAMES)),
    heartbeatMs: z.number().int().positive(),
    deadPeerMs: z.number().int().positive(),
    maxFrameBytes: z.number().int().positive(),
  }),
  /** Highest sequence number of this frame that is durably stored: drop everything up to it. */
  lastStoredSeq: z.number().int().nonnegative(),
  /** Issued once, on first approval: keep it and send it in every later `identify`. */
  pairingToken: z.string().optional(),
  snapshot: cardSnapshotSchema,
});

export const pairingPendingSchema = z.object({ type: z.literal('pairingPending'), message: z.string() });

export const ackSchema = z.object({ type: z.literal('ack'), id: messageId, seq: z.number().int(), duplicate: z.boolean() });

export const errorMessageSchema = z.object({
  type: z.literal('error'),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** Id of the message that caused it, when it had one. */
  ref: z.string().optional(),
  /** True when resending the same message can never succeed: drop it. */
  permanent: z.boolean(),
});

export const commandSchema = z
  .object({
    type: z.literal('command'),
    id: messageId,
    command: z.enum(CARD_COMMAND_NAMES),
    params: z.record(z.string(), z.unknown()),
    source: z.enum(COMMAND_SOURCES),
    timeoutMs: z.number().int().positive(),
  })
  // The same allow-list the worker applies: only card commands, only with their own parameters.
  .refine((m) => checkCardCommand(m.command, m.params).ok, { message: 'not a card command with its parameters', path: ['params'] });

/** The app's answer to a `challenge`: the HMAC, or null when it holds no such pairing. */
export const proofSchema = z.object({
  type: z.literal('proof'),
  keyId: z.string(),
  mac: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
});

export const pongSchema = z.object({ type: z.literal('pong'), id: messageId, serverTime: z.number() });

export const serverMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  identifiedSchema,
  pairingPendingSchema,
  ackSchema,
  errorMessageSchema,
  commandSchema,
  pongSchema,
  proofSchema,
]);
export type ServerMessage = z.output<typeof serverMessageSchema>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; ref?: string };

/** Parses one text frame from a worker. Never throws. */
export function parseWorkerMessage(text: string): ParseResult<WorkerMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'the frame is not valid JSON' };
  }
  const parsed = workerMessageSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const ref = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
    ? ((raw as { id: string }).id).slice(0, 64)
    : undefined;
  return { ok: false, code: 'invalid_message', message: describeZodError(parsed.error), ...(ref ? { ref } : {}) };
}
