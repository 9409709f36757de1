// The supervisor's session log: filters, a calls table that fetches pages from SQL as it scrolls (only the
// visible rows exist in the DOM), a call's timeline drawn on a time axis, totals per operator and day with a
// small chart, and exports that run in the main process with a progress bar and a cancel button.
import { formatDuration, MESSAGES, translate, type Language, type MessageKey } from '../common/i18n.ts';
import type { CompanionBridge, ExportProgress, IpcResult, IpcResults, LOG_EXPORT_FORMATS, LogCallView, LogFilterInput, LogSource, LOG_SORT_COLUMNS } from '../common/ipc.ts';
import { scrollHeight, visibleRows } from './virtual-rows.ts';

type SortColumn = (typeof LOG_SORT_COLUMNS)[number];
type Child = Node | string | null | undefined | false;
type H = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string | boolean | ((e: Event) => void)>, ...children: Child[]) => HTMLElementTagNameMap[K];

const ROW_HEIGHT = 30;
const PAGE = 200;
const SVG = 'http://www.w3.org/2000/svg';

function unwrap<T>(result: IpcResult<T>): T {
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) element.setAttribute(k, String(v));
  if (text !== undefined) element.textContent = text;
  return element;
}

const percent = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(1)}` : '0.0');
/**
 * A local date-time formatter made once (`toLocaleString` with options makes one per call). What `format` cannot
 * place (a time left out of range by an older version) reads "Invalid Date", as `toLocaleString` has it.
 */
function dateTime(options: Intl.DateTimeFormatOptions): (ms: number) => string {
  let formatter: Intl.DateTimeFormat | undefined;
  return (ms) => {
    const date = new Date(ms);
    if (Number.isNaN(date.getTime())) return String(date);
    formatter ??= new Intl.DateTimeFormat(undefined, options);
    return formatter.format(date);
  };
}
/** Table rows: to the minute, so the column stays narrow; the timeline shows the seconds. */
const shortTime = dateTime({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
const time = dateTime({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export async function logView(root: HTMLElement, api: CompanionBridge, language: Language, h: H): Promise<void> {
  // The first page is asked for before anything else: the main process reads it while this window builds itself
  // (the first date formatter alone costs a fresh renderer tens of milliseconds). Settings come alongside.
  let sort: { column: SortColumn; descending: boolean } = { column: 'startedAt', descending: true };
  const firstPageAsked = api.logCalls({}, sort, { offset: 0, limit: PAGE }, 'local');
  const settingsAsked = api.getSettings();
  const t = (key: MessageKey, params?: Record<string, string | number>): string => translate(language, key, params);
  /** A word for an identifier from the store, or the identifier itself when the app has none (a newer version wrote it). */
  const word = (key: string, fallback: string): string => (Object.hasOwn(MESSAGES.en, key) ? t(key as MessageKey) : fallback);
  const eventWords = (e: { name: string; payload: string | null }): string => {
    if (e.name !== 'microphone') return word(`event.${e.name}`, e.name);
    const payload = (e.payload ? JSON.parse(e.payload) : {}) as { muted?: boolean; device?: string | null };
    return `${t(payload.muted ? 'event.microphone.muted' : 'event.microphone.live')}${payload.device ? `: ${payload.device}` : ''}`;
  };
  // Totals and exports use this zone: the computer's own unless the supervisor picks another.
  const zoneInput = h('input', { id: 'log-zone', list: 'log-zones', value: Intl.DateTimeFormat().resolvedOptions().timeZone, size: '18', spellcheck: 'false' });
  // The zones to pick from (some 400) are listed when the field is first used, not before the first rows.
  const zones = h('datalist', { id: 'log-zones' });
  zoneInput.addEventListener('focus', () => {
    if (!zones.hasChildNodes()) zones.append(...Intl.supportedValuesOf('timeZone').map((zone) => h('option', { value: zone })));
  });
  const zone = (): string => zoneInput.value.trim() || Intl.DateTimeFormat().resolvedOptions().timeZone;
  let filter: LogFilterInput = {};
  let total = 0;
  let pages = new Map<number, Promise<LogCallView[]>>();
  let selected: number | null = null;
  // This PC's log, or the whole team's from the central database: offered only when a read-only URL is set.
  let source: LogSource = 'local';
  // What could not be read (the central server down, a wrong password): one line, until the next good answer.
  const errorLine = h('p', { class: 'message error', role: 'alert', id: 'log-error', hidden: true });
  const fail = (error: unknown): void => {
    errorLine.textContent = t('log.failed', { error: error instanceof Error ? error.message : String(error) });
    errorLine.hidden = false;
  };

  // ---------------------------------------------------------------- filters
  const input = (id: string, type: string, attrs: Record<string, string> = {}): HTMLInputElement => h('input', { id, type, ...attrs });
  const from = input('log-from', 'date');
  const to = input('log-to', 'date');
  const operator = input('log-operator', 'text', { inputmode: 'numeric', size: '6' });
  const phone = input('log-phone', 'text', { size: '12' });
  const portal = input('log-portal', 'text', { size: '16' });
  const minMuted = input('log-min-muted', 'number', { min: '0', max: '100', size: '4' });
  const field = (label: string, control: HTMLElement): HTMLElement => h('div', { class: 'field inline' }, h('label', { for: control.id }, label), control);
  const readFilter = (): LogFilterInput => {
    // Dates are local days on this computer: from its first midnight to the midnight after the last day.
    const day = (value: string, next: boolean): number | undefined => {
      if (!value) return undefined;
      const [y, m, d] = value.split('-').map(Number) as [number, number, number];
      return new Date(y, m - 1, d + (next ? 1 : 0)).getTime();
    };
    const f: LogFilterInput = {};
    const start = day(from.value, false);
    const end = day(to.value, true);
    if (start !== undefined) f.from = start;
    if (end !== undefined) f.to = end;
    if (operator.value.trim()) f.operator = operator.value.trim();
    if (phone.value.trim()) f.phone = phone.value.trim();
    if (portal.value.trim()) f.portal = portal.value.trim();
    if (minMuted.value !== '' && Number(minMuted.value) > 0) f.minMutedPercent = Math.min(100, Number(minMuted.value));
    return f;
  };

  // ---------------------------------------------------------------- calls table (virtualised)
  const columns: Array<{ key: string; label: MessageKey; sort?: SortColumn; cell(c: LogCallView): string; numeric?: boolean }> = [
    { key: 'time', label: 'col.time', sort: 'startedAt', cell: (c) => shortTime(c.startedAt) },
    { key: 'operator', label: 'col.operator', sort: 'operator', cell: (c) => c.operatorName ?? c.operatorId },
    { key: 'phone', label: 'col.phone', sort: 'phone', cell: (c) => c.phoneNumber ?? '—' },
    { key: 'direction', label: 'col.direction', cell: (c) => (c.direction ? t(`status.direction.${c.direction}` as MessageKey) : '—') },
    { key: 'crm', label: 'col.crm', cell: (c) => (c.crmEntityType ? `${c.crmEntityType} ${c.crmEntityId ?? ''}`.trim() : '—') },
    { key: 'duration', label: 'col.duration', sort: 'duration', numeric: true, cell: (c) => formatDuration(c.durationMs) },
    { key: 'muted', label: 'col.muted', sort: 'muted', numeric: true, cell: (c) => formatDuration(c.mutedMs) },
    { key: 'share', label: 'col.mutedShare', sort: 'mutedPercent', numeric: true, cell: (c) => percent(c.mutedMs, c.durationMs) },
    { key: 'mutes', label: 'col.muteCount', numeric: true, cell: (c) => String(c.muteCount) },
    { key: 'longest', label: 'col.longestMute', numeric: true, cell: (c) => formatDuration(c.longestMuteMs) },
    { key: 'held', label: 'col.held', sort: 'held', numeric: true, cell: (c) => formatDuration(c.heldMs) },
    { key: 'gap', label: 'col.gap', sort: 'gap', numeric: true, cell: (c) => formatDuration(c.gapMs) },
    { key: 'ended', label: 'col.ended', cell: (c) => (c.endReason ? word(`end.${c.endReason}`, c.endReason) : '…') },
  ];
  const headerRow = h('div', { class: 'log-row log-head', role: 'row' });
  const body = h('div', { class: 'log-body', role: 'rowgroup' });
  const spacer = h('div', { class: 'log-spacer' });
  const viewport = h('div', { class: 'log-viewport', tabindex: '0', role: 'grid', 'aria-label': t('log.calls'), 'aria-rowcount': '0' }, spacer, body);
  const countLine = h('p', { class: 'muted', role: 'status' });

  const renderHeader = (): void => {
    headerRow.replaceChildren(...columns.map((c) => {
      const active = c.sort === sort.column;
      const label = `${t(c.label)}${active ? (sort.descending ? ' ▼' : ' ▲') : ''}`;
      const cls = `log-cell col-${c.key}${c.numeric ? ' num' : ''}`;
      if (!c.sort) return h('div', { class: cls, role: 'columnheader' }, label);
      return h('div', { class: cls, role: 'columnheader', 'aria-sort': active ? (sort.descending ? 'descending' : 'ascending') : 'none' },
        h('button', { type: 'button', class: 'sort', onclick: () => { sort = { column: c.sort as SortColumn, descending: active ? !sort.descending : true }; void reload(); } }, label));
    }));
  };

  const page = (index: number): Promise<LogCallView[]> => {
    let pending = pages.get(index);
    if (!pending) {
      pending = api.logCalls(filter, sort, { offset: index * PAGE, limit: PAGE }, source).then((r) => unwrap(r).rows).catch((error: unknown) => {
        fail(error);
        return [];
      });
      pages.set(index, pending);
    }
    return pending;
  };

  // Rows are rebuilt only when what is visible changed: a click target stays put while it is pointed at.
  let rendered = '';
  let generation = 0;
  const renderRows = async (): Promise<void> => {
    const { first, last, shift } = visibleRows(total, ROW_HEIGHT, viewport.scrollTop, viewport.clientHeight);
    // (A list taller than the scroll area moves its rows at every scrolled pixel: the shift is part of the key.)
    const key = `${generation}:${first}:${last}:${Math.round(shift)}:${selected}`;
    if (key === rendered) return;
    const needed = new Set<number>();
    for (let i = first; i < last; i += 1) needed.add(Math.floor(i / PAGE));
    const loaded = new Map<number, LogCallView[]>();
    for (const index of needed) loaded.set(index, await page(index));
    const rows: HTMLElement[] = [];
    for (let i = first; i < last; i += 1) {
      const call = loaded.get(Math.floor(i / PAGE))?.[i % PAGE];
      if (!call) continue;
      const row = h('div', {
        class: `log-row${call.id === selected ? ' selected' : ''}${call.mutedMs * 2 > call.durationMs ? ' mostly-muted' : ''}`,
        role: 'row', 'aria-rowindex': String(i + 2), tabindex: '-1', 'data-id': String(call.id),
        onclick: () => void select(call.id),
      }, ...columns.map((c) => h('div', { class: `log-cell col-${c.key}${c.numeric ? ' num' : ''}`, role: 'gridcell' }, c.cell(call))));
      // Positioned through the CSS object model: the windows' CSP allows no inline style attributes.
      row.style.top = `${i * ROW_HEIGHT + shift}px`;
      rows.push(row);
    }
    if (`${generation}:${first}:${last}:${Math.round(shift)}:${selected}` !== key) return; // a newer render is on its way
    rendered = key;
    body.replaceChildren(...rows);
  };

  /** Reads the log again from its first page; `asked`: that page, already asked for with the current filter and sort. */
  const reload = async (asked?: Promise<IpcResult<IpcResults['logCalls']>>): Promise<void> => {
    filter = readFilter();
    generation += 1;
    pages = new Map();
    let firstPage: IpcResults['logCalls'] | null = null;
    try {
      firstPage = unwrap(await (asked ?? api.logCalls(filter, sort, { offset: 0, limit: PAGE }, source)));
      errorLine.hidden = true;
    } catch (error) {
      fail(error);
    }
    pages.set(0, Promise.resolve(firstPage?.rows ?? []));
    total = firstPage?.total ?? 0;
    spacer.style.height = `${scrollHeight(total, ROW_HEIGHT)}px`;
    viewport.setAttribute('aria-rowcount', String(total + 1));
    // Nothing read is not "no calls": the error line says why.
    countLine.textContent = firstPage === null ? '' : total === 0 ? t('log.noCalls') : t('log.count', { count: total });
    viewport.scrollTop = 0;
    renderHeader();
    await renderRows();
    if (totalsPanel.isConnected && !totalsPanel.hidden) await renderTotals();
  };
  viewport.addEventListener('scroll', () => void renderRows());

  // ---------------------------------------------------------------- timeline
  const timeline = h('section', { class: 'timeline', 'aria-label': t('log.timeline') }, h('p', { class: 'muted' }, t('log.pickCall')));
  const select = async (id: number): Promise<void> => {
    selected = id;
    await renderRows();
    let view: IpcResults['logTimeline'];
    try {
      view = unwrap(await api.logTimeline(id, source));
    } catch (error) {
      fail(error);
      return;
    }
    if (!view) return;
    const { call, events, intervals } = view;
    const start = call.startedAt;
    const end = Math.max(call.endedAt ?? start + call.durationMs, ...events.map((e) => e.at), start + 1000);
    const width = 1000;
    const x = (ms: number): number => ((ms - start) / (end - start)) * (width - 20) + 10;
    const chart = svg('svg', { viewBox: `0 0 ${width} 90`, class: 'timeline-chart', role: 'img', 'aria-label': t('log.timeline') });
    chart.append(svg('rect', { x: 10, y: 30, width: width - 20, height: 22, class: 'live-bar' }));
    for (const interval of intervals) {
      // The real microphone's mute is a thin bar under the card's, so both can be read where they differ.
      const [y, height] = interval.kind === 'mic_muted' ? [55, 6] : [30, 22];
      chart.append(svg('rect', { x: x(interval.from), y, width: Math.max(2, x(interval.to) - x(interval.from)), height, class: `bar-${interval.kind}` }, undefined));
    }
    for (const event of events) {
      const ex = x(event.at);
      chart.append(svg('line', { x1: ex, x2: ex, y1: 24, y2: 58, class: `tick source-${event.source}` }));
    }
    chart.append(svg('text', { x: 10, y: 80, class: 'axis' }, time(start)), svg('text', { x: width - 10, y: 80, class: 'axis', 'text-anchor': 'end' }, formatDuration(end - start)));
    const kinds = intervals.some((i) => i.kind === 'mic_muted') ? (['muted', 'mic_muted', 'held', 'gap'] as const) : (['muted', 'held', 'gap'] as const);
    const legend = h('p', { class: 'legend' }, ...kinds.map((kind) => h('span', { class: `key key-${kind}` }, t(`log.legend.${kind}`))));
    timeline.replaceChildren(
      h('h2', {}, `${t('log.timeline')}: ${call.phoneNumber ?? call.callId}`),
      chart, legend,
      h('ol', { class: 'events' }, ...events.map((e) => h('li', { title: e.name }, h('time', {}, `+${formatDuration(e.at - start)}`), ` ${eventWords(e)}`,
        e.source !== 'card' ? h('em', {}, ` (${word(`source.${e.source}`, e.source)})`) : null))),
    );
  };

  // ---------------------------------------------------------------- totals
  const totalsPanel = h('section', { class: 'totals', hidden: true });
  const renderTotals = async (): Promise<void> => {
    let totals: IpcResults['logTotals'];
    try {
      totals = unwrap(await api.logTotals(filter, zone(), source));
    } catch (error) {
      fail(error);
      totalsPanel.replaceChildren();
      return;
    }
    const days = [...new Set(totals.map((r) => r.day))];
    const perDay = days.map((day) => {
      const rows = totals.filter((r) => r.day === day);
      return { day, muted: rows.reduce((s, r) => s + r.mutedMs, 0), duration: rows.reduce((s, r) => s + r.durationMs, 0) };
    });
    const step = 52;
    const chart = svg('svg', { viewBox: `0 0 ${Math.max(520, days.length * step)} 140`, preserveAspectRatio: 'xMinYMin meet', class: 'totals-chart', role: 'img', 'aria-label': t('log.chart') });
    perDay.forEach((d, i) => {
      const share = d.duration > 0 ? d.muted / d.duration : 0;
      chart.append(svg('rect', { x: i * step + 10, y: 110 - share * 100, width: 32, height: Math.max(1, share * 100), class: 'bar-muted' }));
      chart.append(svg('text', { x: i * step + 26, y: 104 - share * 100, class: 'axis', 'text-anchor': 'middle' }, `${Math.round(share * 100)}%`));
      chart.append(svg('text', { x: i * step + 26, y: 128, class: 'axis', 'text-anchor': 'middle' }, d.day.slice(5)));
    });
    totalsPanel.replaceChildren(
      h('h2', {}, t('log.chart')), chart,
      h('table', {},
        h('thead', {}, h('tr', {}, ...(['log.day', 'col.operator', 'col.calls', 'col.duration', 'col.muted', 'col.mutedShare', 'col.held', 'col.gap'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, ...totals.map((r) => h('tr', {},
          h('td', {}, r.day), h('td', {}, r.operatorName ?? r.operatorId), h('td', { class: 'num' }, String(r.calls)),
          h('td', { class: 'num' }, formatDuration(r.durationMs)), h('td', { class: 'num' }, formatDuration(r.mutedMs)),
          h('td', { class: 'num' }, percent(r.mutedMs, r.durationMs)), h('td', { class: 'num' }, formatDuration(r.heldMs)), h('td', { class: 'num' }, formatDuration(r.gapMs)))))),
    );
  };

  // ---------------------------------------------------------------- export
  const format = h('select', { id: 'log-export-format' },
    ...([['csv', 'CSV (,)'], ['csv-semicolon', 'CSV (;) — Excel'], ['xlsx', 'XLSX'], ['jsonl', 'JSON Lines']] as Array<[(typeof LOG_EXPORT_FORMATS)[number], string]>).map(([value, label]) => h('option', { value }, label)));
  const bar = h('progress', { id: 'log-export-progress', max: '1', value: '0', hidden: true });
  const exportStatus = h('p', { class: 'message', role: 'status', hidden: true });
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => void api.cancelExport() }, t('log.cancel'));
  const start = async (): Promise<void> => {
    const result = await api.exportLog(format.value as (typeof LOG_EXPORT_FORMATS)[number], readFilter(), zone(), source);
    exportStatus.hidden = false;
    if (!result.ok) {
      exportStatus.className = 'message error';
      exportStatus.textContent = t('log.exportFailed', { error: result.error });
    }
  };
  api.onExportProgress((p: ExportProgress) => {
    bar.hidden = !p.running;
    cancel.hidden = !p.running;
    exportStatus.hidden = false;
    if (p.running) {
      bar.max = Math.max(1, p.total);
      bar.value = p.done;
      exportStatus.className = 'message';
      exportStatus.textContent = t('log.exporting', { done: p.done, total: p.total });
    } else if (p.result?.ok) {
      exportStatus.className = 'message ok';
      exportStatus.textContent = t('log.exported', { rows: p.result.rows, path: p.result.path });
    } else if (p.result) {
      exportStatus.className = 'message error';
      exportStatus.textContent = t('log.exportFailed', { error: p.result.error });
    }
  });

  // ---------------------------------------------------------------- layout
  const callsPanel = h('section', { class: 'calls' }, countLine, h('div', { class: 'log-table' }, headerRow, viewport), timeline);
  const tab = (label: MessageKey, panel: HTMLElement, other: HTMLElement): HTMLButtonElement =>
    h('button', { type: 'button', role: 'tab', class: 'tab', onclick: async (e: Event) => {
      panel.hidden = false;
      other.hidden = true;
      for (const b of (e.currentTarget as HTMLElement).parentElement!.children) b.setAttribute('aria-selected', String(b === e.currentTarget));
      if (panel === totalsPanel) await renderTotals();
    } }, t(label));
  const tabs = h('div', { role: 'tablist', class: 'tabs' }, tab('log.calls', callsPanel, totalsPanel), tab('log.totals', totalsPanel, callsPanel));
  tabs.firstElementChild?.setAttribute('aria-selected', 'true');
  const sourceButton = (value: LogSource): HTMLButtonElement =>
    h('button', { type: 'button', role: 'radio', id: `log-source-${value}`, 'aria-checked': String(value === source), onclick: (e: Event) => {
      if (source === value) return;
      source = value;
      for (const b of (e.currentTarget as HTMLElement).parentElement!.children) b.setAttribute('aria-checked', String(b === e.currentTarget));
      // A call's id belongs to its log: the timeline starts over.
      selected = null;
      timeline.replaceChildren(h('p', { class: 'muted' }, t('log.pickCall')));
      void reload();
    } }, t(`log.source.${value}`));
  const title = h('div', { class: 'log-title' }, h('h1', {}, t('log.title')));
  renderHeader();
  // The window is laid out and painted while the first page is on its way; only its rows are left to add.
  root.replaceChildren(
    title,
    errorLine,
    h('form', { class: 'filters', onsubmit: (e: Event) => { e.preventDefault(); void reload(); } },
      field(t('log.from'), from), field(t('log.to'), to), field(t('log.operator'), operator), field(t('log.phone'), phone),
      field(t('log.portal'), portal), field(t('log.minMuted'), minMuted), h('button', { type: 'submit', class: 'primary' }, t('log.apply'))),
    h('div', { class: 'export' }, field(t('log.exportFormat'), format), field(t('log.zone'), zoneInput), zones, h('button', { type: 'button', onclick: () => void start() }, t('log.export')), bar, cancel, h('small', {}, t('log.exportNote'))),
    exportStatus,
    tabs, callsPanel, totalsPanel,
  );
  let settings: IpcResults['getSettings'];
  try {
    settings = unwrap(await settingsAsked);
  } catch (error) {
    // The window reports this failure; the first page asked for alongside is of no use now.
    void firstPageAsked.catch(() => {});
    throw error;
  }
  if (settings.settings.central.readUrl !== '') {
    title.append(h('div', { role: 'radiogroup', class: 'log-source', 'aria-label': t('log.source') }, sourceButton('local'), sourceButton('team')));
  }
  // The filters are empty and the sort is the default: what was asked for at the start.
  await reload(firstPageAsked);
}
