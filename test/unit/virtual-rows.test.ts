// The log window's virtual rows: what is drawn where, for a list that fits a scroll area and for one that would
// not (more rows than a browser can lay out at their height).
import { describe, expect, it } from 'vitest';
import { MAX_SCROLL_HEIGHT, scrollHeight, visibleRows } from '../../renderer/virtual-rows.ts';

const ROW = 30;
const VIEW = 330;

describe('virtual rows', () => {
  it('a list that fits: one pixel a pixel, rows at their own place', () => {
    expect(scrollHeight(2_000, ROW)).toBe(60_000);
    expect(visibleRows(2_000, ROW, 0, VIEW)).toEqual({ first: 0, last: 16, shift: 0 });
    const end = visibleRows(2_000, ROW, 60_000 - VIEW, VIEW);
    expect(end.last).toBe(2_000);
    expect(end.shift).toBe(0);
  });

  it('two million rows: the scroll area stays below what browsers lay out, and scrolled to the end is the last row', () => {
    const total = 2_000_000;
    const height = scrollHeight(total, ROW);
    expect(height).toBe(MAX_SCROLL_HEIGHT);
    expect(height).toBeLessThan(2 ** 25); // Chromium's layout limit, in px
    expect(visibleRows(total, ROW, 0, VIEW)).toMatchObject({ first: 0, shift: 0 });
    const scrollTop = height - VIEW;
    const end = visibleRows(total, ROW, scrollTop, VIEW);
    expect(end.last).toBe(total);
    // The last row's bottom is the view's bottom.
    expect((total - 1) * ROW + end.shift + ROW).toBeCloseTo(scrollTop + VIEW, 6);
    // Half way down the scroll area is half way down the list, and every drawn row lies inside the scroll area.
    const middle = visibleRows(total, ROW, (height - VIEW) / 2, VIEW);
    expect(Math.abs(middle.first + 5 - (total - VIEW / ROW) / 2)).toBeLessThan(2);
    for (const at of [0, 1, 12_345, (height - VIEW) / 2, scrollTop]) {
      const { first, last, shift } = visibleRows(total, ROW, at, VIEW);
      for (const i of [first, last - 1]) {
        expect(i * ROW + shift).toBeGreaterThanOrEqual(at - 6 * ROW);
        expect(i * ROW + shift).toBeLessThanOrEqual(at + VIEW + 6 * ROW);
      }
    }
  });

  it('one scrolled pixel moves the rows by less than a row, so scrolling shows every call', () => {
    const total = 2_000_000;
    // Where a row stands in the view (from its top edge) before and after one pixel of scrolling.
    const inView = (scrollTop: number): number => 1_000_000 * ROW + visibleRows(total, ROW, scrollTop, VIEW).shift - scrollTop;
    const moved = inView(5_000_000) - inView(5_000_001);
    expect(moved).toBeGreaterThan(1);
    expect(moved).toBeLessThan(ROW);
  });
});
