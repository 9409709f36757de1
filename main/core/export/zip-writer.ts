// A streaming ZIP writer: each entry is deflated as it is written and followed by a data descriptor (its CRC
// and sizes, known only at the end), so nothing is held in memory and the output is never sought back into.
// Enough for XLSX files; not ZIP64, so an entry or the whole file must stay under 4 GiB.
import { once } from 'node:events';
import type { TransformOptions, Writable } from 'node:stream';
import { createDeflateRaw, crc32, type ZlibOptions } from 'node:zlib';
import { drained, untilAborted, writeOrWait } from './output.ts';

const LIMIT = 0xffffffff;

interface Entry {
  name: Buffer;
  offset: number;
  crc: number;
  compressed: number;
  size: number;
}

/** DOS time and date fields for "now", as ZIP wants them. */
function dosTime(date: Date): { time: number; date: number } {
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

export class ZipWriter {
  private readonly out: Writable;
  private readonly entries: Entry[] = [];
  private written = 0;
  private readonly stamp = dosTime(new Date());

  private readonly signal: AbortSignal | undefined;

  /** `signal`: a cancel stops waiting for a stalled output. */
  constructor(out: Writable, signal?: AbortSignal) {
    this.out = out;
    this.signal = signal;
  }

  private async raw(data: Buffer): Promise<void> {
    this.written += data.length;
    await writeOrWait(this.out, data, this.signal);
  }

  /** Starts an entry; write its content with `write`, then `close` it. One entry at a time. */
  async open(name: string): Promise<{ write(text: string | Buffer): Promise<void>; close(): Promise<void> }> {
    const entry: Entry = { name: Buffer.from(name, 'utf8'), offset: this.written, crc: 0, compressed: 0, size: 0 };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4); // version needed
    header.writeUInt16LE(0x0808, 6); // data descriptor follows; names are UTF-8
    header.writeUInt16LE(8, 8); // deflate
    header.writeUInt16LE(this.stamp.time, 10);
    header.writeUInt16LE(this.stamp.date, 12);
    header.writeUInt16LE(entry.name.length, 26);
    await this.raw(Buffer.concat([header, entry.name]));

    // Level 1: a spreadsheet of a million rows compresses well enough and several times faster than at 6.
    // Bigger input and output chunks than zlib's 16 KB: the writer keeps formatting rows while the thread pool
    // compresses the last ones, with fewer round trips between them.
    // (zlib streams pass stream options on to their Transform; the types list only zlib's own.)
    const options: ZlibOptions & TransformOptions = { level: 1, chunkSize: 64 * 1024, writableHighWaterMark: 256 * 1024 };
    const deflate = createDeflateRaw(options);
    deflate.on('data', (chunk: Buffer) => {
      entry.compressed += chunk.length;
      this.written += chunk.length;
    });
    deflate.pipe(this.out, { end: false });
    return {
      write: async (text) => {
        const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
        entry.crc = crc32(data, entry.crc);
        entry.size += data.length;
        if (entry.size > LIMIT) throw new Error(`${name} is larger than 4 GiB, which this writer cannot store`);
        if (!deflate.write(data)) await drained(deflate, this.signal);
      },
      close: async () => {
        deflate.end();
        await untilAborted(once(deflate, 'end', this.signal ? { signal: this.signal } : {}), this.signal);
        deflate.unpipe(this.out);
        const descriptor = Buffer.alloc(16);
        descriptor.writeUInt32LE(0x08074b50, 0);
        descriptor.writeUInt32LE(entry.crc >>> 0, 4);
        descriptor.writeUInt32LE(entry.compressed, 8);
        descriptor.writeUInt32LE(entry.size, 12);
        await this.raw(descriptor);
        this.entries.push(entry);
      },
    };
  }

  async add(name: string, content: string): Promise<void> {
    const entry = await this.open(name);
    await entry.write(content);
    await entry.close();
  }

  /** Writes the central directory. The caller ends the stream. */
  async finish(): Promise<void> {
    const start = this.written;
    for (const entry of this.entries) {
      const record = Buffer.alloc(46);
      record.writeUInt32LE(0x02014b50, 0);
      record.writeUInt16LE(20, 4); // made by
      record.writeUInt16LE(20, 6); // needed
      record.writeUInt16LE(0x0808, 8);
      record.writeUInt16LE(8, 10);
      record.writeUInt16LE(this.stamp.time, 12);
      record.writeUInt16LE(this.stamp.date, 14);
      record.writeUInt32LE(entry.crc >>> 0, 16);
      record.writeUInt32LE(entry.compressed, 20);
      record.writeUInt32LE(entry.size, 24);
      record.writeUInt16LE(entry.name.length, 28);
      record.writeUInt32LE(entry.offset, 42);
      await this.raw(Buffer.concat([record, entry.name]));
    }
    const size = this.written - start;
    if (this.written > LIMIT) throw new Error('the file is larger than 4 GiB, which this writer cannot store');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    await this.raw(end);
  }
}
