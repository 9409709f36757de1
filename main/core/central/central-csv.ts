// The central CSV export's writer: rows arrive from `COPY (query) TO STDOUT (FORMAT binary)` as PostgreSQL's
// binary tuples, one CopyData message each, and are written as CSV straight from their bytes. The text is the
// same, byte for byte, as the shared writer's (export-log.ts `csvCell`, csv-row-writer.ts) on the same rows — a
// test compares the two on hostile cells — but no JavaScript string or row object is made for a text cell:
// - a text cell whose first character needs no formula check (csv-row-writer.ts's safe start, read from its
//   UTF-8 bytes) is copied, quoted when it holds a quote, the delimiter or a line break; a phone number
//   (`+` and digits) becomes ="+7…" from its bytes; anything else is decoded and goes through `csvCell` itself;
// - number and time columns are computed by the columns' own functions from the row's integers, and times are
//   written from a per-day date and the zone's offset (the same text as `formatInstant`).
// The plan (which field each column reads) comes from the column list itself: a text column must give one field
// as it is, number and time columns must read only integer fields. Columns that do not fit make
// `compileCopyCsv` answer null, and the export takes the cursor and the shared writer instead.
import type { Writable } from 'node:stream';
import type { Cell, Column } from '../export/columns.ts';
import { csvCell } from '../export/export-log.ts';
import { writeOrWait } from '../export/output.ts';
import { cachedOffset, isFormattableInstant } from '../export/time-zone.ts';

export interface CopyField {
  name: string;
  type: 'text' | 'int8';
}

const CHUNK_BYTES = 64 * 1024;
/** PGCOPY\n\377\r\n\0, then int32 flags and int32 header-extension length. */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** csv-row-writer.ts's safe start, on UTF-8: printable ASCII but space, `=`, `+`, `-`, `@`; or U+0400–U+052F (D0 80 – D4 AF). */
function safeStart(b0: number, b1: number): boolean {
  if (b0 < 0x80) return b0 > 0x20 && b0 < 0x7f && b0 !== 0x3d && b0 !== 0x2b && b0 !== 0x2d && b0 !== 0x40;
  return (b0 >= 0xd0 && b0 <= 0xd3) || (b0 === 0xd4 && b1 <= 0xaf);
}

type Step = { kind: 'text'; field: number } | { kind: 'number' | 'time'; value: (row: Record<string, number | null>) => Cell };

/**
 * Which field each column writes. Text columns are probed with a marker in every text field (and with all of them
 * null, and empty): the column must answer one field's value as it is. Number and time columns are run on rows
 * whose text fields cannot be read (a read throws): they must need integers only.
 */
function plan(fields: readonly CopyField[], columns: ReadonlyArray<Column<unknown>>): Step[] | null {
  const text = new Set(fields.filter((f) => f.type === 'text').map((f) => f.name));
  const probe = (textValue: (name: string) => string | null, integer: number | null): Record<string, unknown> =>
    Object.fromEntries(fields.map((f) => [f.name, f.type === 'text' ? textValue(f.name) : integer]));
  const steps: Step[] = [];
  for (const column of columns) {
    if (column.kind === 'text') {
      const marker = (name: string): string => `\u0000${name}`;
      const marked = column.value(probe(marker, 1));
      const index = fields.findIndex((f) => f.type === 'text' && marked === marker(f.name));
      if (index < 0) return null;
      // That field as it is, also when it is null or empty and the others are not (no `a ?? b`, no `a || b`).
      const only = (fields[index] as CopyField).name;
      if (column.value(probe((name) => (name === only ? null : marker(name)), 1)) !== null) return null;
      if (column.value(probe((name) => (name === only ? '' : marker(name)), 1)) !== '') return null;
      steps.push({ kind: 'text', field: index });
      continue;
    }
    for (const integer of [0, 1_000, 123_456, null]) {
      const row = new Proxy(probe(() => null, integer), {
        get(target, key) {
          if (typeof key === 'string' && text.has(key)) throw new Error(`reads text field ${key}`);
          return target[key as string];
        },
      });
      try {
        column.value(row);
      } catch {
        return null;
      }
    }
    steps.push({ kind: column.kind, value: column.value as (row: Record<string, number | null>) => Cell });
  }
  return steps;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/**
 * `formatInstant`'s text, written as bytes: the local date (cached per local day), the local time of day, and the
 * offset (cached per offset). As `formatInstant`: the offset is `cachedOffset`'s, the local time is the instant's
 * whole second plus the offset, and the offset is shown in whole minutes (rounded).
 */
function timeFormatter(timeZone: string): (ms: number, out: Buffer, at: number) => number {
  let bucket = Number.NaN;
  let offset = 0;
  let suffix = '';
  let day = Number.NaN;
  let date = '';
  return (ms, out, at) => {
    const quarter = Math.floor(ms / 900_000);
    if (quarter !== bucket) {
      const next = cachedOffset(ms, timeZone);
      if (next !== offset || suffix === '') {
        const minutes = Math.round(next / 60_000);
        const abs = Math.abs(minutes);
        suffix = `${minutes < 0 ? '-' : '+'}${String(Math.trunc(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      }
      offset = next;
      bucket = quarter;
    }
    const local = Math.floor(ms / 1000) * 1000 + offset;
    const localDay = Math.floor(local / 86_400_000);
    if (localDay !== day) {
      const midnight = new Date(localDay * 86_400_000);
      date = `${String(midnight.getUTCFullYear()).padStart(4, '0')}-${TWO_DIGITS[midnight.getUTCMonth() + 1]}-${TWO_DIGITS[midnight.getUTCDate()]}T`;
      day = localDay;
    }
    // Offsets are whole seconds (Intl's), so the time of day is too.
    const seconds = Math.floor((local - localDay * 86_400_000) / 1000);
    let p = at;
    for (let i = 0; i < date.length; i += 1) out[p++] = date.charCodeAt(i);
    const hh = TWO_DIGITS[Math.floor(seconds / 3600)] as string;
    const mm = TWO_DIGITS[Math.floor(seconds / 60) % 60] as string;
    const ss = TWO_DIGITS[seconds % 60] as string;
    out[p++] = hh.charCodeAt(0);
    out[p++] = hh.charCodeAt(1);
    out[p++] = 0x3a;
    out[p++] = mm.charCodeAt(0);
    out[p++] = mm.charCodeAt(1);
    out[p++] = 0x3a;
    out[p++] = ss.charCodeAt(0);
    out[p++] = ss.charCodeAt(1);
    for (let i = 0; i < suffix.length; i += 1) out[p++] = suffix.charCodeAt(i);
    return p;
  };
}

export interface CopyCsvWriter {
  /** Writes one CopyData message's rows to `stream`; a promise when the stream wants the reading paused until it settles. */
  row(message: Buffer, stream: Writable, tick: () => void): Promise<void> | null;
  /** Writes what is left. */
  end(stream: Writable): Promise<void> | null;
}

/** The CSV writer for COPY rows of `fields`, writing `columns`; null where the columns do not fit (see `plan`). */
export function compileCopyCsv(fields: readonly CopyField[], columns: ReadonlyArray<Column<unknown>>, delimiter: ',' | ';', timeZone: string): CopyCsvWriter | null {
  const steps = plan(fields, columns);
  if (!steps) return null;
  const delimiterByte = delimiter.charCodeAt(0);
  const isText = fields.map((f) => f.type === 'text');
  const names = fields.map((f) => f.name);
  const starts = new Int32Array(fields.length);
  const lengths = new Int32Array(fields.length);
  // The integers of the current row, by field name, for the number and time columns.
  const integers: Record<string, number | null> = Object.fromEntries(fields.map((f) => [f.name, null]));
  const formatTime = timeFormatter(timeZone);
  /** The most a row's fixed-size cells can take: a number's or time's text (≤ 25 bytes) and a delimiter, each. */
  const fixedBound = steps.length * 32 + 2;

  let out = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  let headerRead = false;
  let ended = false;

  const flush = (stream: Writable, room: number): Promise<void> | null => {
    const full = out.subarray(0, used);
    out = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
    used = 0;
    return full.length > 0 ? writeOrWait(stream, full) : null;
  };

  const writeAscii = (text: string, p: number): number => {
    for (let i = 0; i < text.length; i += 1) out[p++] = text.charCodeAt(i);
    return p;
  };

  /** A text field's cell, from its bytes in `message` (see the file's head). */
  const textCell = (message: Buffer, start: number, length: number, p: number): number => {
    if (length <= 0) return p;
    const end = start + length;
    const b0 = message[start] as number;
    if (safeStart(b0, length > 1 ? (message[start + 1] as number) : 0)) {
      let quote = false;
      for (let i = start; i < end; i += 1) {
        const b = message[i] as number;
        if (b === QUOTE || b === delimiterByte || b === CR || b === LF) {
          quote = true;
          break;
        }
      }
      if (!quote) {
        if (length > 48) return p + message.copy(out, p, start, end);
        for (let i = start; i < end; i += 1) out[p++] = message[i] as number;
        return p;
      }
      out[p++] = QUOTE;
      for (let i = start; i < end; i += 1) {
        const b = message[i] as number;
        out[p++] = b;
        if (b === QUOTE) out[p++] = QUOTE;
      }
      out[p++] = QUOTE;
      return p;
    }
    if (b0 === 0x2b && length >= 2 && length <= 31) {
      let digits = true;
      for (let i = start + 1; i < end; i += 1) {
        const b = message[i] as number;
        if (b < 0x30 || b > 0x39) {
          digits = false;
          break;
        }
      }
      if (digits) {
        // ="+7…" quoted: "=""+7…"""
        out[p++] = QUOTE;
        out[p++] = 0x3d;
        out[p++] = QUOTE;
        out[p++] = QUOTE;
        for (let i = start; i < end; i += 1) out[p++] = message[i] as number;
        out[p++] = QUOTE;
        out[p++] = QUOTE;
        out[p++] = QUOTE;
        return p;
      }
    }
    return p + out.write(csvCell(message.toString('utf8', start, end), delimiter), p, 'utf8');
  };

  const readHeader = (message: Buffer): number => {
    if (message.length < 19 || !message.subarray(0, 11).equals(SIGNATURE)) throw new Error('COPY sent no binary header');
    return 19 + message.readInt32BE(15);
  };

  return {
    row(message, stream, tick) {
      let p = 0;
      if (!headerRead) {
        p = readHeader(message);
        headerRead = true;
        if (p === message.length) return null;
      }
      const count = message.readInt16BE(p);
      p += 2;
      if (count === -1) {
        ended = true;
        return null;
      }
      if (ended || count !== fields.length) throw new Error(`COPY sent a row of ${count} fields, expected ${fields.length}`);
      // Where each field is; the integers decoded (exactly: a high and a low half, as pg's Number(text) would round).
      let textBytes = 0;
      for (let i = 0; i < count; i += 1) {
        const length = message.readInt32BE(p);
        p += 4;
        if (isText[i]) {
          starts[i] = p;
          lengths[i] = length;
          if (length > 0) {
            p += length;
            textBytes += length;
          }
        } else if (length === -1) {
          integers[names[i] as string] = null;
        } else {
          if (length !== 8) throw new Error(`COPY sent an integer of ${length} bytes`);
          integers[names[i] as string] = message.readInt32BE(p) * 4_294_967_296 + message.readUInt32BE(p + 4);
          p += 8;
        }
      }
      if (p !== message.length) throw new Error('COPY sent a message that is not one row');
      // A quoted text cell at most doubles and gains its quotes (and ="…" adds 7 bytes).
      const room = fixedBound + 2 * textBytes + 8 * count;
      let wait: Promise<void> | null = null;
      if (used + room > out.length) wait = flush(stream, room);
      let at = used;
      for (let c = 0; c < steps.length; c += 1) {
        if (c > 0) out[at++] = delimiterByte;
        const step = steps[c] as Step;
        if (step.kind === 'text') {
          at = textCell(message, starts[step.field] as number, lengths[step.field] as number, at);
          continue;
        }
        const value = step.value(integers);
        if (step.kind === 'time' && isFormattableInstant(value)) at = formatTime(value, out, at);
        else if (typeof value === 'number') at = writeAscii(String(value), at);
        else if (value !== null) {
          // A number column that answers text (none does today): room made for it first.
          const cell = csvCell(value, delimiter);
          if (at + cell.length * 3 + fixedBound > out.length) {
            const larger = Buffer.allocUnsafe(out.length + cell.length * 3 + fixedBound);
            out.copy(larger, 0, 0, at);
            out = larger;
          }
          at += out.write(cell, at, 'utf8');
        }
      }
      out[at++] = CR;
      out[at++] = LF;
      used = at;
      tick();
      return wait;
    },
    end(stream) {
      if (!ended) throw new Error('COPY ended without its trailer');
      return flush(stream, 0);
    },
  };
}
