// The tray images: regenerated from their description they equal the committed files, each state differs from
// every other in shape (not only colour), and a contact sheet is written to look at.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIco, encodePng, encodePngRect, renderIcon, TRAY_STATES } from '../../scripts/tray-icons.ts';

const TRAY_DIR = path.join(import.meta.dirname, '..', '..', 'build', 'tray');
const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'out', 'screenshots');

/** Decodes our own 8-bit RGBA, filter-0 PNGs (enough to read back what the generator wrote). */
function decodePng(file: Buffer): { size: number; pixels: Buffer } {
  expect(file.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const size = file.readUInt32BE(16);
  let offset = 8;
  const idat: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.subarray(offset + 4, offset + 8).toString('ascii');
    if (type === 'IDAT') idat.push(file.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y += 1) raw.copy(pixels, y * size * 4, y * (size * 4 + 1) + 1, (y + 1) * (size * 4 + 1));
  return { size, pixels };
}

/** The glyph's silhouette: which pixels are mostly covered. */
const silhouette = (pixels: Buffer): boolean[] => Array.from({ length: pixels.length / 4 }, (_, i) => (pixels[i * 4 + 3] as number) > 128);

describe('tray images', () => {
  it('the committed files are what the generator draws', () => {
    for (const state of TRAY_STATES) {
      expect(readFileSync(path.join(TRAY_DIR, `${state}.png`)).equals(encodePng(renderIcon(state, 16, false), 16))).toBe(true);
      expect(readFileSync(path.join(TRAY_DIR, `${state}Template@2x.png`)).equals(encodePng(renderIcon(state, 32, true), 32))).toBe(true);
      const ico = readFileSync(path.join(TRAY_DIR, `${state}.ico`));
      expect(ico.readUInt16LE(2)).toBe(1);
      expect(ico.readUInt16LE(4)).toBe(4);
      expect(ico.equals(encodeIco([16, 24, 32, 48].map((size) => ({ size, png: encodePng(renderIcon(state, size, false), size) }))))).toBe(true);
    }
  });

  it('every state has its own shape: the template (colourless) images differ pairwise in many pixels', () => {
    const shapes = TRAY_STATES.map((state) => silhouette(decodePng(readFileSync(path.join(TRAY_DIR, `${state}Template@2x.png`))).pixels));
    for (let a = 0; a < shapes.length; a += 1) {
      for (let b = a + 1; b < shapes.length; b += 1) {
        const differing = (shapes[a] as boolean[]).filter((v, i) => v !== (shapes[b] as boolean[])[i]).length;
        expect(differing, `${TRAY_STATES[a]} vs ${TRAY_STATES[b]}`).toBeGreaterThan(40);
      }
    }
  });

  it('template images are black with alpha only', () => {
    const { pixels } = decodePng(readFileSync(path.join(TRAY_DIR, 'mutedTemplate.png')));
    for (let i = 0; i < pixels.length; i += 4) expect([pixels[i], pixels[i + 1], pixels[i + 2]]).toEqual([0, 0, 0]);
  });

  it('writes a contact sheet to look at: each state at 16 and 32 px, on light and dark panels, magnified', () => {
    const cell = 32 * 4 + 16;
    const width = cell * TRAY_STATES.length;
    const height = cell * 4;
    const sheet = Buffer.alloc(width * height * 4);
    const panels: Array<[number, number, number]> = [[240, 240, 240], [40, 40, 46]];
    panels.forEach((panel, p) => {
      [16, 32].forEach((size, row) => {
        const zoom = 128 / size;
        TRAY_STATES.forEach((state, column) => {
          const { pixels } = decodePng(readFileSync(path.join(TRAY_DIR, size === 16 ? `${state}.png` : `${state}@2x.png`)));
          for (let y = 0; y < cell; y += 1) {
            for (let x = 0; x < cell; x += 1) {
              const [sx, sy] = [Math.floor((x - 8) / zoom), Math.floor((y - 8) / zoom)];
              const o = sx >= 0 && sy >= 0 && sx < size && sy < size ? (sy * size + sx) * 4 : -1;
              const a = o < 0 ? 0 : (pixels[o + 3] as number) / 255;
              const color = panel.map((base, c) => Math.round((o < 0 ? 0 : (pixels[o + c] as number)) * a + base * (1 - a)));
              sheet.set([...color, 255], (((p * 2 + row) * cell + y) * width + column * cell + x) * 4);
            }
          }
        });
      });
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, 'tray-icons.png');
    writeFileSync(file, encodePngRect(sheet, width, height));
    const written = readFileSync(file);
    expect([written.readUInt32BE(16), written.readUInt32BE(20)]).toEqual([width, height]);
  });
});
