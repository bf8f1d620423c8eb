import type { Cell } from '../input/types.js';
import { cellText } from '../input/cell.js';
import type { FieldSpec } from '../mapping/types.js';
import { convertCell, isEmptyCell } from './convert.js';

/**
 * The calendar day of a `match.dateColumn` cell (YYYY-MM-DD): through the field mapped from that
 * column when there is one (its formats and time zone), else an Excel date or text starting with
 * an ISO date. `null` for an empty cell (the row has no date), an error for one that is not a
 * day of the calendar (2025-13-45).
 */
export function rowDay(cell: Cell | undefined, field: FieldSpec | undefined): { ok: true; day: string | null } | { ok: false; expected: string } {
  if (isEmptyCell(cell)) return { ok: true, day: null };
  if (field) {
    const r = convertCell(cell, field);
    const day = r.ok && typeof r.value === 'string' ? r.value.slice(0, 10) : undefined;
    if (day && isDay(day)) return { ok: true, day };
    return {
      ok: false,
      expected: `a date${field.formats?.length ? ` (${field.formats.join(', ')})` : ' (YYYY-MM-DD)'} for match.dateColumn, got ${JSON.stringify(cellText(cell ?? null))}`,
    };
  }
  if (cell instanceof Date)
    return Number.isNaN(cell.getTime()) ? { ok: false, expected: 'a date for match.dateColumn' } : { ok: true, day: cell.toISOString().slice(0, 10) };
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(cellText(cell ?? null).trim());
  if (m && isDay(m[1]!)) return { ok: true, day: m[1]! };
  return { ok: false, expected: `a date starting YYYY-MM-DD for match.dateColumn, got ${JSON.stringify(cellText(cell ?? null))}` };
}

/** Whether the text is a day of the calendar (2025-02-30 is not). */
export function isDay(text: string): boolean {
  const t = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === text;
}

/** A day moved by `days`. */
export function shiftDay(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The calendar day (UTC) of a session's time field, or undefined when it holds no time. */
export function sessionDay(session: Record<string, unknown>, field: string): string | undefined {
  const v = session[field];
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().slice(0, 10);
}

/**
 * The candidates within `pad` days of the row's day, by the sessions' `field` (a session without
 * a time stays a candidate: it cannot be told apart). `decided` when that left out any.
 */
export function withinDays<T extends Record<string, unknown>>(sessions: T[], day: string, pad: number, field: string): { kept: T[]; decided: boolean } {
  const from = shiftDay(day, -pad);
  const to = shiftDay(day, pad);
  const kept = sessions.filter((s) => {
    const d = sessionDay(s, field);
    return d === undefined || (d >= from && d <= to);
  });
  return { kept, decided: kept.length < sessions.length };
}
