// What a log line may hold: everything but personal data. Phone numbers (a long run of digits, or + and
// digits, with the separators people write them with) and secrets (by the name of the field that holds them)
// are replaced before a line is written, so no log file, archive or terminal ever holds them.

/** Field names whose values are secrets, compared without case, `_` or `-`: `pairingToken`, `AUTH_ID`, … */
const SECRET_KEY = /token|secret|passw|passphrase|cookie|credential|apikey|privatekey|signature|authorization|^auth$|^authid$|^refreshid$|^authcode$|^authkey$/;
/** Field names whose values are phone numbers, whatever they look like (and not `microphone`). */
const PHONE_KEY = /phonenumber|^phones?$|^(tele)?phone$|^tel$|^callerid$/;

/**
 * Seven digits or more, optionally after +, with spaces, brackets or dashes between them: `+7 (495) 123-45-67`,
 * `89161234567`. Not inside a longer word or hex string (an id like `a716-446655440000` keeps its digits).
 */
const PHONE = /(?<![\w-])\+?\d(?:[ ()-]*\d){6,}(?![\w])/g;
/** A calendar date at the start of a match is a date, not a phone number (`2026-05-01 10:00`). */
const DATE = /^\d{4}-\d{2}-\d{2}/;

export const REDACTED = '[redacted]';
export const PHONE_REDACTED = '[phone]';

/** The longest string a log line keeps (a worker's report or an error message can be anything). */
const MAX_STRING = 2_000;
const MAX_DEPTH = 6;

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(normalizeKey(key));
}

/** A string with every phone-number-like run replaced. */
export function redactText(text: string): string {
  const clipped = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…(${text.length - MAX_STRING} more)` : text;
  return clipped.replace(PHONE, (match) => (DATE.test(match) ? match : PHONE_REDACTED));
}

/**
 * A copy of `value` safe to write: secrets by key, phone numbers in any string, errors as name and message,
 * cycles and deep nesting cut. Numbers stay (times, counts, ports) unless their field names a phone.
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function' ? String(value) : value;
  }
  if (seen.has(value)) return '[cycle]';
  if (depth >= MAX_DEPTH) return '[nested]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      return { name: value.name, message: redactText(value.message), ...(value.cause === undefined ? {} : { cause: redact(value.cause, depth + 1, seen) }) };
    }
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const name = normalizeKey(key);
      if (SECRET_KEY.test(name)) out[key] = item === null || item === undefined || item === '' ? item : REDACTED;
      else if (PHONE_KEY.test(name)) out[key] = item === null || item === undefined || item === '' ? item : PHONE_REDACTED;
      else out[key] = redact(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
