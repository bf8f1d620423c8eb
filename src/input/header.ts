import { InputError } from '../errors.js';

/** Empty header cells at the end (a trailing delimiter) are dropped. */
export function trimHeader(header: string[]): string[] {
  let end = header.length;
  while (end > 0 && header[end - 1] === '') end--;
  return header.slice(0, end);
}

/** Empty header names between named columns cannot be mapped or fed back: say which. */
export function checkHeader(file: string, header: string[], line: number, sheet?: string): void {
  const empty = header.flatMap((h, i) => (h === '' ? [`column ${i + 1} (${columnLetter(i)})`] : []));
  if (empty.length > 0)
    throw new InputError(
      file,
      `the header (${sheet ? `sheet "${sheet}", ` : ''}row ${line}) has no name for ${empty.join(', ')}; give every column a name, or set input.headerRow if the header is further down`,
    );
}

export function columnLetter(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
