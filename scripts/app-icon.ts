// Draws the application icon from one description (the tray's microphone on a rounded blue tile, with the
// same signed-distance shapes as the tray images; at 32 px and below the microphone alone) and writes it in every format electron-builder takes as is,
// so packaging converts nothing (its converter would download a tool):
// - build/icon.png: 1024 px, the master (macOS needs 512 at least, 1024 recommended);
// - build/icons/NxN.png: the Linux icon set (16 … 512), used by the AppImage and the .deb;
// - build/icon.ico: Windows, 16 … 256 px (electron-builder refuses an .ico under 256);
// - build/icon.icns: macOS, 16 … 1024 px as PNG entries.
// Run `npm run icons` after changing the shape; the files are committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeIco, encodePngRect, microphone, type Sdf, union } from './tray-icons.ts';

export const LINUX_ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512] as const;
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;
/** ICNS entry types and the pixel size each holds (all PNG; Retina types hold twice their point size). */
export const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32],
  ['icp6', 64],
  ['ic12', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic13', 256],
  ['ic09', 512],
  ['ic14', 512],
  ['ic10', 1024],
] as const;

type Rgb = [number, number, number];
const TOP: Rgb = [58, 134, 232];
const BOTTOM: Rgb = [24, 76, 160];
const WHITE: Rgb = [255, 255, 255];

/** A rounded square on the 0..1 canvas, inset like macOS app icons (824 of 1024 px). */
function roundedSquare(inset: number, radius: number): Sdf {
  const half = 0.5 - inset - radius;
  return (x, y) => {
    const qx = Math.abs(x - 0.5) - half;
    const qy = Math.abs(y - 0.5) - half;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
  };
}

/** An arc of a ring between two angles (radians, 0 = right, clockwise since y grows downwards). */
function arc(cx: number, cy: number, r: number, width: number, from: number, to: number): Sdf {
  const ends = [from, to].map((a) => [cx + r * Math.cos(a), cy + r * Math.sin(a)] as const);
  return (x, y) => {
    const angle = Math.atan2(y - cy, x - cx);
    if (angle >= from && angle <= to) return Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2;
    return Math.min(...ends.map(([ex, ey]) => Math.hypot(x - ex, y - ey))) - width / 2;
  };
}

/** The tray's microphone, scaled about the centre. */
function scaled(shape: Sdf, scale: number, dx = 0, dy = 0): Sdf {
  return (x, y) => shape((x - 0.5 - dx) / scale + 0.5, (y - 0.5 - dy) / scale + 0.5) * scale;
}

const TILE = roundedSquare(0.1, 0.18);
const GLYPH: Sdf = union(
  scaled(microphone, 0.62, 0, 0.01),
  // Sound waves either side of the microphone's head.
  arc(0.5, 0.44, 0.23, 0.035, -Math.PI / 4, Math.PI / 4),
  arc(0.5, 0.44, 0.3, 0.035, -Math.PI / 4, Math.PI / 4),
  arc(0.5, 0.44, 0.23, 0.035, (3 * Math.PI) / 4, Math.PI),
  arc(0.5, 0.44, 0.23, 0.035, -Math.PI, (-3 * Math.PI) / 4),
  arc(0.5, 0.44, 0.3, 0.035, (3 * Math.PI) / 4, Math.PI),
  arc(0.5, 0.44, 0.3, 0.035, -Math.PI, (-3 * Math.PI) / 4),
);

/** At 32 px and below the waves blur into the microphone: a bigger microphone alone, on a fuller tile. */
const SMALL_LIMIT = 32;
const SMALL_TILE = roundedSquare(0.02, 0.2);
const SMALL_GLYPH = scaled(microphone, 0.9, 0, 0.02);

/** Coverage of a pixel from the distance at its centre: an anti-aliased edge one pixel wide. */
const cover = (distance: number, size: number): number => Math.min(1, Math.max(0, 0.5 - distance * size));

/** RGBA pixels of the icon at one size. */
export function renderAppIcon(size: number): Buffer {
  const [tileShape, glyphShape] = size <= SMALL_LIMIT ? [SMALL_TILE, SMALL_GLYPH] : [TILE, GLYPH];
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py += 1) {
    const y = (py + 0.5) / size;
    const t = Math.min(1, Math.max(0, (y - 0.1) / 0.8));
    const background = TOP.map((top, c) => top + ((BOTTOM[c] as number) - top) * t);
    for (let px = 0; px < size; px += 1) {
      const x = (px + 0.5) / size;
      const tile = cover(tileShape(x, y), size);
      if (tile === 0) continue;
      const glyph = cover(glyphShape(x, y), size);
      const color = background.map((b, c) => Math.round(b + ((WHITE[c] as number) - b) * glyph));
      pixels.set([...color, Math.round(tile * 255)], (py * size + px) * 4);
    }
  }
  return pixels;
}

const png = (size: number): Buffer => encodePngRect(renderAppIcon(size), size, size);

/** An .icns holding PNG entries (macOS 10.7 and later read them). */
export function encodeIcns(entries: ReadonlyArray<readonly [string, number]>, image: (size: number) => Buffer): Buffer {
  const chunks = entries.map(([type, size]) => {
    const data = image(size);
    const header = Buffer.alloc(8);
    header.write(type, 0, 'ascii');
    header.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([header, data]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + chunks.reduce((sum, c) => sum + c.length, 0), 4);
  return Buffer.concat([header, ...chunks]);
}

/** Every file of the app icon, by path relative to build/. */
export function appIconFiles(): Map<string, Buffer> {
  const cache = new Map<number, Buffer>();
  const image = (size: number): Buffer => {
    let data = cache.get(size);
    if (!data) cache.set(size, (data = png(size)));
    return data;
  };
  const files = new Map<string, Buffer>();
  files.set('icon.png', image(1024));
  for (const size of LINUX_ICON_SIZES) files.set(`icons/${size}x${size}.png`, image(size));
  files.set('icon.ico', encodeIco(ICO_SIZES.map((size) => ({ size, png: image(size) }))));
  files.set('icon.icns', encodeIcns(ICNS_TYPES, image));
  return files;
}

export function writeAppIcons(buildDir: string): string[] {
  const written: string[] = [];
  for (const [name, data] of appIconFiles()) {
    mkdirSync(path.dirname(path.join(buildDir, name)), { recursive: true });
    writeFileSync(path.join(buildDir, name), data);
    written.push(name);
  }
  return written;
}

if (import.meta.main) {
  const dir = path.join(import.meta.dirname, '..', 'build');
  console.log(`wrote ${writeAppIcons(dir).join(', ')} to ${dir}`);
}
