// Writing an export to its output stream with back-pressure: a full stream is waited for, but never past a cancel.
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Writes `chunk`; null when the stream takes more at once, else a promise that settles when it drains. It rejects
 * on the stream's error and on `signal`: a stalled output (a hung network share, a reader that stopped reading)
 * must not keep a cancelled export waiting for ever.
 */
export function writeOrWait(stream: Writable, chunk: string | Buffer, signal?: AbortSignal): Promise<void> | null {
  if (stream.write(chunk)) return null;
  return drained(stream, signal);
}

/** Waits for `emitter`'s next 'drain'. Its 'error' rejects, and `signal` with the cancel's reason (as `throwIfAborted`). */
export async function drained(emitter: EventEmitter, signal?: AbortSignal): Promise<void> {
  await untilAborted(once(emitter, 'drain', signal ? { signal } : {}), signal);
}

/** `events.once` rejects with its own AbortError; the export's callers tell a cancel by the signal's reason. */
export async function untilAborted<T>(waiting: Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
}
