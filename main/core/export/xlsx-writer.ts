// A streaming XLSX writer: sheets are written row by row into the ZIP as they come, with typed cells (numbers
// as numbers, times as dates in the chosen zone, text as inline strings, so there is no shared-string table to
// hold in memory). Memory stays flat however many rows there are.
import type { Writable } from 'node:stream';
import type { Cell, Column } from './columns.ts';
import { cachedOffset, isFormattableInstant } from './time-zone.ts';
import { ZipWriter } from './zip-writer.ts';
import type { RowBatches } from './row-batches.ts';

/** Excel counts days from 1899-12-30. */
const EXCEL_EPOCH_DAYS = 25_569;
const MAX_SHEET_ROWS = 1_048_576;
const CHUNK_BYTES = 64 * 1024;

/** Anything `xmlText` would change: markup characters, characters XML 1.0 cannot hold, and surrogates (pairs too). */
const NEEDS_XML_WORK = /[&<>\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** XML 1.0 cannot hold most control characters: they are dropped, the rest escaped. */
function xmlText(value: string): string {
  if (!NEEDS_XML_WORK.test(value)) return value;
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

/** 1900-01-01T00:00Z plus a day of margin for the zone offset: Excel has no dates before 1900. */
const EXCEL_FIRST_INSTANT = Date.UTC(1900, 0, 2);

export function excelSerial(ms: number, timeZone: string): number {
  return (ms + cachedOffset(ms, timeZone)) / 86_400_000 + EXCEL_EPOCH_DAYS;
}

/** 0 → A, 25 → Z, 26 → AA. */
function columnLetters(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/**
 * Text whose first or last character is whitespace needs `xml:space="preserve"` to be read back as it is; other text
 * is written without it (a fifth of the sheet's bytes, all of which are compressed).
 */
const EDGE_SPACE = /^\s|\s$/;

/**
 * One cell's XML, with its reference (`B7`): SpreadsheetML lets a reader count positions instead, but not every
 * reader does (exceljs fails without them).
 */
function cellXml(kind: Column<unknown>['kind'], value: Cell, timeZone: string, ref: string): string {
  if (value === null || value === '') return '';
  // A time outside what a spreadsheet can show as a date (years 1900–9999) is written as the plain number it is.
  if (kind === 'time' && isFormattableInstant(value) && value >= EXCEL_FIRST_INSTANT) return `<c r="${ref}" s="1"><v>${excelSerial(value, timeZone)}</v></c>`;
  if (typeof value === 'number') return Number.isFinite(value) ? `<c r="${ref}"><v>${value}</v></c>` : '';
  const text = xmlText(value);
  return EDGE_SPACE.test(text) ? `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${text}</t></is></c>` : `<c r="${ref}" t="inlineStr"><is><t>${text}</t></is></c>`;
}

/** The cells of row `n`, generated for the column list: a call site per column (see csv-row-writer.ts). */
function compileCells<Row>(columns: ReadonlyArray<Column<Row>>, timeZone: string): (row: Row, n: number) => string {
  const names = columns.flatMap((_, i) => [`a${i}`, `k${i}`]);
  const values = columns.flatMap((c) => [c.value, c.kind]);
  const letters = columns.map((_, i) => JSON.stringify(columnLetters(i)));
  const body = `return function cells(r, n) {\n  return ${columns.map((_, i) => `cell(k${i}, a${i}(r), zone, ${letters[i]} + n)`).join(' + ')};\n};`;
  return new Function('cell', 'zone', ...names, body)(cellXml, timeZone, ...values) as (row: Row, n: number) => string;
}

const CONTENT_TYPES = (sheets: number): string =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
${Array.from({ length: sheets }, (_, i) => `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`).join('\n')}
</Types>`;

const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>`;

/** Style 0: default; style 1: date and time. */
const STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
</styleSheet>`;

export interface SheetSpec<Row> {
  name: string;
  columns: ReadonlyArray<Column<Row>>;
  rows: RowBatches<Row>;
}

/**
 * Writes a workbook with the given sheets to `out` (which the caller ends). `onRow` is called after each row,
 * and may throw to cancel. Returns the number of data rows per sheet.
 */
export async function writeXlsx(out: Writable, sheets: ReadonlyArray<SheetSpec<unknown>>, timeZone: string, onRow?: () => void, signal?: AbortSignal): Promise<number[]> {
  const zip = new ZipWriter(out, signal);
  await zip.add('[Content_Types].xml', CONTENT_TYPES(sheets.length));
  await zip.add('_rels/.rels', ROOT_RELS);
  await zip.add('xl/styles.xml', STYLES);
  await zip.add(
    'xl/workbook.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>${sheets
      .map((s, i) => `<sheet name="${xmlText(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
      .join('')}</sheets></workbook>`,
  );
  await zip.add(
    'xl/_rels/workbook.xml.rels',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets
      .map((_, i) => `<Relationship Id="rId${i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`)
      .join('')}<Relationship Id="rId${sheets.length + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
  );

  const counts: number[] = [];
  for (const [index, sheet] of sheets.entries()) {
    const entry = await zip.open(`xl/worksheets/sheet${index + 1}.xml`);
    const letters = sheet.columns.map((_, i) => columnLetters(i));
    const widths = sheet.columns.map((c) => `<col min="${sheet.columns.indexOf(c) + 1}" max="${sheet.columns.indexOf(c) + 1}" width="${c.kind === 'time' ? 20 : c.kind === 'number' ? 12 : 18}" customWidth="1"/>`).join('');
    let chunk = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>${widths}</cols><sheetData><row r="1">${sheet.columns
      .map((c, i) => `<c r="${letters[i]}1" t="inlineStr" s="2"><is><t>${xmlText(c.name)}</t></is></c>`)
      .join('')}</row>`;
    let count = 0;
    const cells = compileCells(sheet.columns, timeZone);
    // Rows are encoded straight into a buffer, which goes to the ZIP entry when full (as in the CSV export).
    let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let used = buffer.write(chunk);
    for await (const batch of sheet.rows) for (const row of batch) {
      if (count + 1 >= MAX_SHEET_ROWS) throw new Error(`the ${sheet.name} sheet would exceed Excel's ${MAX_SHEET_ROWS} rows; export a shorter period`);
      const xml = `<row r="${count + 2}">${cells(row, count + 2)}</row>`;
      count += 1;
      onRow?.();
      // A UTF-16 code unit takes at most 3 bytes in UTF-8.
      if (used + xml.length * 3 > CHUNK_BYTES) {
        await entry.write(buffer.subarray(0, used));
        buffer = Buffer.allocUnsafe(CHUNK_BYTES);
        used = 0;
        // Between chunks the event loop gets its turn (a cancel, the file's I/O).
        await new Promise((resolve) => setImmediate(resolve));
        if (xml.length * 3 > CHUNK_BYTES) {
          await entry.write(xml);
          continue;
        }
      }
      used += buffer.write(xml, used);
    }
    chunk = '';
    await entry.write(buffer.subarray(0, used));
    await entry.write(`${chunk}</sheetData></worksheet>`);
    await entry.close();
    counts.push(count);
  }
  await zip.finish();
  return counts;
}
