// Normalises what the call card hands the worker into one typed shape per event.
// The portal's payloads are loose (BITRIX24.md §2): "no payload" arrives as `[]` (classic library) or `''`
// (b24jssdk), ids may be strings or numbers, keys holding `undefined` vanish, and old portals sent a bare
// phone number for `initialized`. Everything below accepts those forms and nothing else.
import { z } from 'zod';
import { CALL_DIRECTIONS, type CardEventName } from './bitrix24.ts';

/** Names of events the worker sends after it applied one of the app's own commands to the card. */
export const APPLIED_COMMAND_EVENT_NAMES = ['CallCardSetMute', 'CallCardSetHold'] as const;

/** Where a state change came from; card clicks are `card`, the rest are the app's own commands. */
export const COMMAND_SOURCES = ['hotkey', 'tray', 'cli', 'window', 'system'] as const;
export type CommandSource = (typeof COMMAND_SOURCES)[number];

const MAX_TEXT = 10_000;

/** `[]`, `''`, `null` and a missing payload all mean "nothing". */
const emptyPayload = z
  .union([z.tuple([]), z.literal(''), z.null(), z.undefined(), z.object({}).strict()])
  .transform(() => null);

/** Bitrix24 ids arrive as strings or numbers; keep them as strings. */
const idLike = z.union([z.string().max(200), z.number().int().nonnegative()]).transform(String);
/** An optional id where `""`, `0` and a missing key all mean "not bound". */
const optionalId = z
  .union([z.string().max(200), z.number().int().nonnegative()])
  .nullable()
  .optional()
  .transform((v) => (v === '' || v === 0 || v === '0' || v === null || v === undefined ? null : String(v)));
const optionalText = z
  .string()
  .max(500)
  .nullable()
  .optional()
  .transform((v) => (v === '' || v === null || v === undefined ? null : v));
/** `"unknown"` and `"hidden"` are the portal's words for "no number". */
const phoneNumber = z
  .string()
  .max(500)
  .nullable()
  .optional()
  .transform((v) => (v === '' || v === 'unknown' || v === 'hidden' || v === null || v === undefined ? null : v));

const booleanState = z.boolean();

const initializedObject = z
  .object({
    CALL_ID: idLike.refine((v) => v.length > 0, 'CALL_ID must not be empty'),
    PHONE_NUMBER: phoneNumber,
    LINE_NUMBER: optionalText,
    LINE_NAME: optionalText,
    CRM_ENTITY_TYPE: optionalText,
    CRM_ENTITY_ID: optionalId,
    CRM_ACTIVITY_ID: optionalId,
    CALL_DIRECTION: z.enum(CALL_DIRECTIONS).optional(),
    CALL_STATE: optionalText,
    CALL_LIST_MODE: z.boolean().optional(),
  })
  .loose()
  .transform((p) => ({
    callId: p.CALL_ID,
    phoneNumber: p.PHONE_NUMBER,
    lineNumber: p.LINE_NUMBER,
    lineName: p.LINE_NAME,
    crmEntityType: p.CRM_ENTITY_TYPE,
    crmEntityId: p.CRM_ENTITY_ID,
    crmActivityId: p.CRM_ACTIVITY_ID,
    direction: p.CALL_DIRECTION ?? null,
    callListMode: p.CALL_LIST_MODE ?? false,
  }));
export type InitializedPayload = z.output<typeof initializedObject>;

/**
 * The first published docs said `initialized` passes the phone number as a string. Such a card has no
 * CALL_ID; the relay gives it one derived from the event id, so the call is still recorded.
 */
const initializedLegacy = z
  .string()
  .max(100)
  .transform(
    (phone): InitializedPayload => ({
      callId: '',
      phoneNumber: phone === '' || phone === 'unknown' || phone === 'hidden' ? null : phone,
      lineNumber: null,
      lineName: null,
      crmEntityType: null,
      crmEntityId: null,
      crmActivityId: null,
      direction: null,
      callListMode: false,
    }),
  );

const entityChanged = z.union([
  emptyPayload,
  z
    .object({ PHONE_NUMBER: phoneNumber, CRM_ENTITY_TYPE: optionalText, CRM_ENTITY_ID: optionalId })
    .loose()
    .transform((p) => ({ phoneNumber: p.PHONE_NUMBER, crmEntityType: p.CRM_ENTITY_TYPE, crmEntityId: p.CRM_ENTITY_ID })),
]);

const transfer = z
  .object({ phoneNumber: optionalText, target: idLike })
  .loose()
  .transform((p) => ({ phoneNumber: p.phoneNumber, target: p.target }));

const quality = z
  .union([z.enum(['1', '2', '3', '4', '5']), z.number().int().min(1).max(5)])
  .transform((v) => ({ rating: Number(v) }));

/**
 * Keypad presses during a call are often PINs or card numbers typed for an IVR: the store keeps that a key
 * was pressed, never which one.
 */
const dialpad = z
  .string()
  .regex(/^[0-9*#]$/, 'a single keypad key: 0-9, * or #')
  .transform(() => ({ key: 'redacted' as const }));

const commandId = z.string().min(1).max(64);
const appliedMute = z
  .object({ muted: booleanState, commandId, source: z.enum(COMMAND_SOURCES) })
  .strict();
const appliedHold = z
  .object({ held: booleanState, commandId, source: z.enum(COMMAND_SOURCES) })
  .strict();

/** One schema per event name that a worker may send. */
export const EVENT_PAYLOAD_SCHEMAS = {
  initialized: z.union([initializedObject, initializedLegacy]),
  addCommentButtonClick: z.string().max(MAX_TEXT).transform((text) => ({ text })),
  muteButtonClick: booleanState.transform((muted) => ({ muted })),
  holdButtonClick: booleanState.transform((held) => ({ held })),
  closeButtonClick: emptyPayload,
  transferButtonClick: transfer,
  cancelTransferButtonClick: emptyPayload,
  completeTransferButtonClick: emptyPayload,
  hangupButtonClick: emptyPayload,
  nextButtonClick: emptyPayload,
  skipButtonClick: emptyPayload,
  answerButtonClick: emptyPayload,
  entityChanged,
  qualityMeterClick: quality,
  dialpadButtonClick: dialpad,
  makeCallButtonClick: emptyPayload,
  notifyAdminButtonClick: emptyPayload,
  CallCardSetMute: appliedMute,
  CallCardSetHold: appliedHold,
} satisfies Record<CardEventName | (typeof APPLIED_COMMAND_EVENT_NAMES)[number], z.ZodType>;

export type WorkerEventName = keyof typeof EVENT_PAYLOAD_SCHEMAS;
export const WORKER_EVENT_NAMES = Object.keys(EVENT_PAYLOAD_SCHEMAS) as WorkerEventName[];

/** A normalised event: its name together with the payload shape that name implies. */
export type NormalizedEvent = {
  [K in WorkerEventName]: { name: K; payload: z.output<(typeof EVENT_PAYLOAD_SCHEMAS)[K]> };
}[WorkerEventName];

export type NormalizeResult = { ok: true; event: NormalizedEvent } | { ok: false; error: string };

export function normalizeEventPayload(name: string, payload: unknown): NormalizeResult {
  if (!Object.hasOwn(EVENT_PAYLOAD_SCHEMAS, name)) {
    return { ok: false, error: `unknown event name "${name.slice(0, 80)}"` };
  }
  const schema = EVENT_PAYLOAD_SCHEMAS[name as WorkerEventName];
  const parsed = schema.safeParse(payload);
  if (!parsed.success) return { ok: false, error: `payload of ${name}: ${describeZodError(parsed.error)}` };
  return { ok: true, event: { name, payload: parsed.data } as NormalizedEvent };
}

/** One line naming the first problem and where it is, e.g. `at seq: expected number, received string`. */
export function describeZodError(error: z.ZodError): string {
  const issue = deepestIssue(error.issues);
  if (!issue) return 'invalid';
  const where = issue.path.length > 0 ? `at ${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** For "none of the alternatives matched", the alternative that got furthest says most about the mistake. */
function deepestIssue(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []): z.core.$ZodIssue | undefined {
  let best: z.core.$ZodIssue | undefined;
  for (const issue of issues) {
    let candidate: z.core.$ZodIssue = { ...issue, path: [...prefix, ...issue.path] };
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      for (const branch of issue.errors) {
        const inner = deepestIssue(branch, candidate.path);
        if (inner && (candidate.code === 'invalid_union' || inner.path.length > candidate.path.length)) candidate = inner;
      }
    }
    if (!best || candidate.path.length > best.path.length) best = candidate;
  }
  return best;
}
