import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkZip, DEFAULT_ZIP_LIMITS, readDirectory, type ZipLimits } from '../../src/input/zip-guard.js';
import { tempDir } from '../helpers/sandbox.js';
import { buildZip, type ZipEntry } from '../helpers/zip.js';

/** An entry as the tests write it: text deflated here, or deflated bytes as given for that text. */
type Part = Omit<ZipEntry, 'data'> & { text?: string; data?: Buffer };

function zip(parts: Part[], gap = 0): Buffer {
  return buildZip(
    parts.map(({ text = '', data, ...p }) => ({
      ...p,
      data: { deflated: data ?? deflateRawSync(Buffer.from(text)), size: Buffer.byteLength(text), crc: crc32(Buffer.from(text)) },
    })),
    gap,
  );
}

function file(bytes: Buffer): string {
  const path = join(tempDir(), 'book.xlsx');
  writeFileSync(path, bytes);
  return path;
}

const parts: Part[] = [
  { name: '[Content_Types].xml', text: '<Types/>' },
  { name: 'xl/workbook.xml', text: '<workbook/>', descriptor: true },
  { name: 'xl/sharedStrings.xml', text: `<sst>${'<si><t>text</t></si>'.repeat(50)}</sst>` },
];

/** What checkZip refused the file with: its code and message. */
async function refusal(path: string, limits?: ZipLimits): Promise<{ code: string; message: string }> {
  try {
    await checkZip(path, limits);
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a refusal');
}

describe('checkZip', () => {
  it('returns the entries in file order, with or without data descriptors', async () => {
    expect(await checkZip(file(zip(parts)))).toEqual(['[Content_Types].xml', 'xl/workbook.xml', 'xl/sharedStrings.xml']);
    expect(await checkZip(file(zip(parts.map((p) => ({ ...p, descriptor: true })))))).toHaveLength(3);
  });

  it('refuses an entry that inflates past the ratio, naming it; and one past its own cap, naming the setting', async () => {
    const bomb = file(zip([...parts, { name: 'xl/worksheets/sheet1.xml', text: 'a'.repeat(200_000) }]));
    expect(await refusal(bomb, { ...DEFAULT_ZIP_LIMITS, graceBytes: 1000 })).toEqual({
      code: 'E_INPUT_BOMB',
      message: expect.stringMatching(/entry "xl\/worksheets\/sheet1\.xml" inflates more than 100:1/),
    });
    const capped = { ...DEFAULT_ZIP_LIMITS, maxEntryBytes: { 'xl/sharedStrings.xml': { bytes: 100, setting: 'input.maxSharedStringsMb 0.0001' } } };
    expect((await refusal(file(zip(parts)), capped)).message).toMatch(
      /entry "xl\/sharedStrings\.xml" inflates to more than 1 KB \(input\.maxSharedStringsMb 0\.0001\)/,
    );
  });

  it('refuses an entry the directory does not list, which a reader going through the file in order would still read', async () => {
    const hidden = { name: 'xl/sharedStrings.xml', text: 'a'.repeat(1000), hidden: true };
    for (const layout of [
      [hidden, ...parts],
      [parts[0]!, hidden, parts[1]!, parts[2]!],
    ]) {
      const r = await refusal(file(zip(layout)));
      expect(r.code).toBe('E_INPUT_BOMB');
      expect(r.message).toMatch(/no entry its directory lists/);
    }
    // the directory alone, which a reader that seeks goes by, does not show it
    expect((await readDirectory(file(zip([hidden, ...parts])), 100)).map((e) => e.name)).toEqual(parts.map((p) => p.name));
  });

  it('refuses bytes between the last entry and the directory', async () => {
    expect((await refusal(file(zip(parts, 64)))).message).toMatch(/bytes at offset \d+ are no entry its directory lists/);
  });

  it("refuses an entry whose data holds a data descriptor's signature before its end", async () => {
    // deflated text, then what a reader in file order would take for the entry's end and a next file
    const data = Buffer.concat([deflateRawSync(Buffer.from('<workbook/>')), Buffer.from([0x50, 0x4b, 0x07, 0x08]), Buffer.alloc(40)]);
    const r = await refusal(file(zip([parts[0]!, { name: 'xl/workbook.xml', data, descriptor: true }])));
    expect(r).toEqual({ code: 'E_INPUT_BOMB', message: expect.stringMatching(/holds a data descriptor's signature before its end/) });
  });

  it('calls a file without a zip directory broken, not a bomb', async () => {
    const r = await refusal(file(zip(parts).subarray(0, 200)));
    expect(r.code).toBe('E_INPUT');
    expect(r.message).toMatch(/not a readable \.xlsx workbook \(it has no zip directory: the file is truncated\)/);
  });
});
