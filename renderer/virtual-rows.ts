// Which rows of a long list are in view, and where to draw them, in a scroll area a browser can lay out.
// Chromium lays nothing out past 2^25 px (its LayoutUnit is a 32-bit count of 1/64 px), Firefox past about 17.9M px:
// at 30 px a row, a log of more than a million calls would end in the middle. Past MAX_SCROLL_HEIGHT the scroll
// area keeps that height, and a scrolled pixel stands for several of the list's; scrolled to the end is the end.
export const MAX_SCROLL_HEIGHT = 15_000_000;

export interface VisibleRows {
  /** Rows [first, last) to draw (a few beyond the view on each side). */
  first: number;
  last: number;
  /** Row i goes at `i * rowHeight + shift` in the scroll area (shift is 0 while the list fits). */
  shift: number;
}

/** The height to give the scroll area for `total` rows. */
export function scrollHeight(total: number, rowHeight: number): number {
  return Math.min(total * rowHeight, MAX_SCROLL_HEIGHT);
}

export function visibleRows(total: number, rowHeight: number, scrollTop: number, viewHeight: number, margin = 5): VisibleRows {
  const full = total * rowHeight;
  const shown = scrollHeight(total, rowHeight);
  const scale = full <= shown || shown <= viewHeight ? 1 : (full - viewHeight) / (shown - viewHeight);
  const listTop = scrollTop * scale;
  return {
    first: Math.max(0, Math.floor(listTop / rowHeight) - margin),
    last: Math.min(total, Math.ceil((listTop + viewHeight) / rowHeight) + margin),
    shift: scrollTop - listTop,
  };
}
