// Draws the tray images from one description (shapes as signed distance fields), so every state is told apart
// by shape as well as colour: 1x and 2x PNGs, macOS template variants (black with alpha, the system tints them),
// and a Windows .ico per state. Run `npm run icons` after changing a shape; the results in build/tray/ are
// committed and shipped as extraResources.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';

export const TRAY_STATES = ['not_connected', 'waiting', 'live', 'muted', 'on_hold', 'pending', 'problem'] as const;
export type TrayState = (typeof TRAY_STATES)[number];

type Rgb = [number, number, number];
const COLORS: Record<TrayState, Rgb> = {
  not_connected: [140, 140, 140],
  waiting: [52, 120, 210],
  live: [30, 160, 80],
  muted: [215, 40, 40],
  on_hold: [225, 140, 0],
  pending: [140, 90, 200],
  problem: [230, 110, 0],
};

// ------------------------------------------------------------------ geometry on a 0..1 canvas

export type Sdf = (x: number, y: number) => number;

export const circle = (cx: number, cy: number, r: number): Sdf => (x, y) => Math.hypot(x - cx, y - cy) - r;
export const ring = (cx: number, cy: number, r: number, width: number): Sdf => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2;
export function segment(ax: number, ay: number, bx: number, by: number, width: number): Sdf {
  return (x, y) => {
    const [px, py, dx, dy] = [x - ax, y - ay, bx - ax, by - ay];
    const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
    return Math.hypot(px - dx * t, py - dy * t) - width / 2;
  };
}
/** The lower half of a ring: the microphone's cradle. */
export const lowerArc = (cx: number, cy: number, r: number, width: number): Sdf => (x, y) =>
  y >= cy ? Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2 : Math.min(Math.hypot(x - (cx - r), y - cy), Math.hypot(x - (cx + r), y - cy)) - width / 2;
function triangle(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): Sdf {
  const edges = [segment(ax, ay, bx, by, 0), segment(bx, by, cx, cy, 0), segment(cx, cy, ax, ay, 0)];
  const inside = (x: number, y: number): boolean => {
    const s = (px: number, py: number, qx: number, qy: number): number => (x - qx) * (py - qy) - (px - qx) * (y - qy);
    const [d1, d2, d3] = [s(ax, ay, bx, by), s(bx, by, cx, cy), s(cx, cy, ax, ay)];
    return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
  };
  return (x, y) => {
    const d = Math.min(...edges.map((e) => e(x, y)));
    return inside(x, y) ? -d : d;
  };
}
export const union = (...shapes: Sdf[]): Sdf => (x, y) => Math.min(...shapes.map((s) => s(x, y)));
export const subtract = (shape: Sdf, cut: Sdf): Sdf => (x, y) => Math.max(shape(x, y), -cut(x, y));

export const microphone = union(segment(0.5, 0.22, 0.5, 0.46, 0.24), lowerArc(0.5, 0.44, 0.22, 0.07), segment(0.5, 0.66, 0.5, 0.8, 0.07), segment(0.36, 0.82, 0.64, 0.82, 0.07));
const slash = segment(0.18, 0.14, 0.82, 0.86, 0.09);

/** The glyph of each state, drawn in its colour; the colours read on light and dark panels alike. */
const GLYPHS: Record<TrayState, Sdf> = {
  // A hollow circle crossed out: nothing connected.
  not_connected: union(ring(0.5, 0.5, 0.36, 0.09), segment(0.25, 0.75, 0.75, 0.25, 0.09)),
  // A hollow circle with a dot: connected, idle.
  waiting: union(ring(0.5, 0.5, 0.34, 0.1), circle(0.5, 0.5, 0.1)),
  live: microphone,
  // The microphone struck through, with a gap around the stroke so it reads at 16 px.
  muted: union(subtract(microphone, segment(0.18, 0.14, 0.82, 0.86, 0.2)), slash),
  // Two pause bars.
  on_hold: union(segment(0.36, 0.24, 0.36, 0.76, 0.16), segment(0.64, 0.24, 0.64, 0.76, 0.16)),
  // Three dots: waiting for the card to answer.
  pending: union(circle(0.2, 0.5, 0.1), circle(0.5, 0.5, 0.1), circle(0.8, 0.5, 0.1)),
  // A warning triangle with an exclamation mark cut out.
  problem: subtract(triangle(0.5, 0.1, 0.93, 0.88, 0.07, 0.88), union(segment(0.5, 0.38, 0.5, 0.62, 0.09), circle(0.5, 0.76, 0.055))),
};

// ------------------------------------------------------------------ rendering

function coverage(sdf: Sdf, size: number, x: number, y: number): number {
  // 4x4 supersampling: smooth edges at 16 px.
  let sum = 0;
  for (let i = 0; i < 4; i += 1) {
    for (let j = 0; j < 4; j += 1) {
      if (sdf((x + (i + 0.5) / 4) / size, (y + (j + 0.5) / 4) / size) <= 0) sum += 1;
    }
  }
  return sum / 16;
}

/** RGBA pixels; template images are black with alpha only (macOS tints them for the menu bar). */
export function renderIcon(state: TrayState, size: number, template: boolean): Buffer {
  const glyph = GLYPHS[state];
  const pixels = Buffer.alloc(size * size * 4);
  const [r, g, b] = template ? [0, 0, 0] : COLORS[state];
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) pixels.set([r, g, b, Math.round(coverage(glyph, size, x, y) * 255)], (y * size + x) * 4);
  }
  return pixels;
}

// ------------------------------------------------------------------ PNG and ICO

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function encodePngRect(pixels: Buffer, width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y += 1) pixels.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export function encodePng(pixels: Buffer, size: number): Buffer {
  return encodePngRect(pixels, size, size);
}

/** An .ico holding PNG images (Windows Vista and later read them). */
export function encodeIco(images: Array<{ size: number; png: Buffer }>): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0);
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt16LE(1, 4);
    entry.writeUInt16LE(32, 6);
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)]);
}

export function writeTrayIcons(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, data: Buffer): void => {
    writeFileSync(path.join(dir, name), data);
    written.push(name);
  };
  for (const state of TRAY_STATES) {
    write(`${state}.png`, encodePng(renderIcon(state, 16, false), 16));
    write(`${state}@2x.png`, encodePng(renderIcon(state, 32, false), 32));
    write(`${state}Template.png`, encodePng(renderIcon(state, 16, true), 16));
    write(`${state}Template@2x.png`, encodePng(renderIcon(state, 32, true), 32));
    write(`${state}.ico`, encodeIco([16, 24, 32, 48].map((size) => ({ size, png: encodePng(renderIcon(state, size, false), size) }))));
  }
  return written;
}

if (import.meta.main) {
  const dir = path.join(import.meta.dirname, '..', 'build', 'tray');
  console.log(`wrote ${writeTrayIcons(dir).length} files to ${dir}`);
}
