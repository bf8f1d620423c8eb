import { cellText } from '../input/cell.js';
import { openRows } from '../input/open-rows.js';
import type { Cell } from '../input/types.js';

export interface SheetChoice {
  sheet: string;
  headerRow: number;
  /** What was chosen and why, and how to choose otherwise; undefined when it is the reader's default (the first sheet, its first row). */
  note: string | undefined;
}

const filled = (cells: Cell[]) => cells.filter((c) => c !== null && cellText(c).trim() !== '').length;
const isHeaderLike = (cells: Cell[]) =>
  filled(cells) >= 2 && cells.every((c) => c === null || (typeof c === 'string' && !/^[+-]?\d+([.,]\d+)?$/.test(c.trim())));

/**
 * Where a workbook's data is: the first visible sheet with a header-like row (two or more text
 * cells, no numbers) followed by data rows, title lines above it skipped. A sheet whose header has
 * at least three columns and two data rows wins over a narrower one (a summary sheet of two
 * columns). Undefined when no sheet has one (the reader's defaults stand).
 */
export async function chooseSheet(file: string, sheets: { name: string; state: string }[]): Promise<SheetChoice | undefined> {
  let best: { sheet: string; headerRow: number; width: number; data: number } | undefined;
  for (const s of sheets.filter((x) => x.state === 'visible')) {
    const found = await headerOf(file, s.name);
    if (!found) continue;
    if (found.width >= 3 && found.data >= 2) return choice(found, sheets, s.name === sheets.find((x) => x.state === 'visible')?.name);
    if (!best || found.width > best.width) best = found;
  }
  return best && choice(best, sheets, false);
}

function choice(f: { sheet: string; headerRow: number }, sheets: { name: string; state: string }[], first: boolean): SheetChoice {
  if (first && f.headerRow === 1) return { ...f, note: undefined };
  const why = [first ? `sheet "${f.sheet}"` : `sheet "${f.sheet}" (the first with a header and data rows; ${sheets.length} in the workbook)`];
  if (f.headerRow > 1) why.push(`header at row ${f.headerRow} (the rows above it are titles)`);
  return { ...f, note: `${why.join(', ')}; --sheet and --header-row choose otherwise` };
}

/** The first header-like row of a sheet among its first rows (each tried as the header), with its width and the data rows after it. */
async function headerOf(file: string, sheet: string): Promise<{ sheet: string; headerRow: number; width: number; data: number } | undefined> {
  for (let from = 1; from <= 6; ) {
    const at = await tryHeader(file, sheet, from);
    if (!at) return undefined;
    if (isHeaderLike(at.header)) {
      const width = filled(at.header);
      const data = at.rows.filter((cells) => filled(cells) >= Math.min(2, width)).length;
      if (data >= 1) return { sheet, headerRow: at.headerRow, width, data };
    }
    from = at.headerRow + 1;
  }
  return undefined;
}

/** The sheet read with its header at the first row with a value from `from` on, and the next rows. */
async function tryHeader(file: string, sheet: string, from: number): Promise<{ headerRow: number; header: Cell[]; rows: Cell[][] } | undefined> {
  try {
    const source = await openRows(file, { sheet, headerRow: from });
    try {
      const rows: Cell[][] = [];
      for await (const r of source.rows) {
        rows.push(r.cells);
        if (rows.length >= 10) break;
      }
      return { headerRow: Number(source.details.headerRow ?? from), header: source.header, rows };
    } finally {
      await source.close();
    }
  } catch {
    return undefined;
  }
}
