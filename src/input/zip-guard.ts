import { createInflateRaw } from 'node:zlib';
import { InputError } from '../errors.js';
import { openSnapshot, readSnapshot, takeSnapshot, type Snapshot } from './snapshot.js';

type SnapshotHandle = Awaited<ReturnType<typeof openSnapshot>>;

export interface ZipLimits {
  /** An entry may inflate to this many times its compressed size... */
  maxRatio: number;
  /** ...once past this many bytes (small entries compress well and are harmless). */
  graceBytes: number;
  /** The most one named entry may inflate to, e.g. the shared-strings table. */
  maxEntryBytes: Record<string, { bytes: number; setting: string }>;
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxRatio: 100, graceBytes: 10 * 1024 * 1024, maxEntryBytes: {}, maxEntries: 10_000 };

export interface Entry {
  name: string;
  method: number;
  compressed: number;
  /** Where its data starts. */
  offset: number;
  /** Where its local header is. */
  header: number;
  /** Its sizes follow its data (flag bit 3): a reader in file order finds its end by the descriptor's signature. */
  descriptor?: boolean;
}

/** The signature of a data descriptor (PK 7 8), which ends an entry written with its sizes after it. */
const DESCRIPTOR = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

/**
 * Checks a workbook against a zip bomb before exceljs reads it, as Apache POI's ZipSecureFile
 * does: every entry is inflated (and thrown away), and one whose output passes `maxRatio` times
 * its input past the first `graceBytes` is refused, naming the entry. The sizes the archive
 * declares are not trusted, and the entries checked are those a reader going through the file
 * in order meets, as exceljs's does (it never reads the directory). Returns their names, in
 * file order.
 */
export async function checkZip(file: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS, snap?: Snapshot): Promise<string[]> {
  snap ??= await takeSnapshot(file);
  const entries = await readArchive(file, limits.maxEntries, snap, true);
  // two at a time: zlib inflates on the thread pool, so the sheet and the shared strings go side by side
  let next = 0;
  let refused = false;
  const worker = async () => {
    while (!refused && next < entries.length) {
      try {
        await inflateCheck(file, snap, entries[next++]!, limits);
      } catch (e) {
        refused = true;
        throw e;
      }
    }
  };
  await Promise.all([worker(), worker()]);
  return entries.map((e) => e.name);
}

/** The entries the zip directory lists, in its order (what a reader that seeks sees). */
export async function readDirectory(file: string, maxEntries: number, snap?: Snapshot): Promise<Entry[]> {
  return readArchive(file, maxEntries, snap ?? (await takeSnapshot(file)), false);
}

async function readArchive(file: string, maxEntries: number, snap: Snapshot, inOrder: boolean): Promise<Entry[]> {
  const fh = await openSnapshot(snap);
  try {
    const { size } = snap;
    const tailLength = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw broken(file, 'it has no zip directory: the file is truncated');
    const count = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || dirOffset === 0xffffffff) throw refuse(file, 'it is a ZIP64 archive, which workbooks of this size never need');
    if (count > maxEntries) throw refuse(file, `it holds ${count} entries, more than ${maxEntries}`);
    if (dirOffset + dirSize > size) throw broken(file, 'its zip directory points past the end of the file');
    const dir = Buffer.alloc(dirSize);
    await fh.read(dir, 0, dirSize, dirOffset);
    const entries: Entry[] = [];
    /** Each listed entry's local header, by where it is: the walk in file order reads them. */
    const locals = new Map<number, Buffer>();
    for (let p = 0, n = 0; n < count; n++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== 0x02014b50) throw broken(file, 'its zip directory is damaged');
      const nameLength = dir.readUInt16LE(p + 28);
      const name = dir.toString('utf8', p + 46, p + 46 + nameLength);
      const local = dir.readUInt32LE(p + 42);
      const header = Buffer.alloc(30);
      await fh.read(header, 0, 30, local);
      if (header.readUInt32LE(0) !== 0x04034b50) throw broken(file, `entry ${JSON.stringify(name)} has no local header`);
      locals.set(local, header);
      entries.push({
        name,
        method: dir.readUInt16LE(p + 10),
        compressed: dir.readUInt32LE(p + 20),
        offset: local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28),
        header: local,
      });
      p += 46 + nameLength + dir.readUInt16LE(p + 30) + dir.readUInt16LE(p + 32);
    }
    return inOrder ? await entriesInOrder(file, fh, entries, locals, dirOffset) : entries;
  } finally {
    await fh.close();
  }
}

/**
 * The entries as a reader going through the file in order meets them: local header after local
 * header, each ended by its size or, written with a data descriptor, by the descriptor's
 * signature, up to the directory. Each must be one the directory lists, where it lists it: an
 * archive that shows such a reader other files than its directory lists (an entry hidden outside
 * the directory, bytes in a gap) is refused, or the check would inflate one set of files and
 * exceljs another. Names and sizes are the local headers', as that reader takes them.
 */
async function entriesInOrder(file: string, fh: SnapshotHandle, listed: Entry[], locals: Map<number, Buffer>, dirOffset: number): Promise<Entry[]> {
  const byHeader = new Map(listed.map((e) => [e.header, e]));
  const out: Entry[] = [];
  for (let p = 0; p < dirOffset; ) {
    const l = byHeader.get(p);
    const head = locals.get(p);
    if (!l || !head)
      throw refuse(
        file,
        `its bytes at offset ${p} are no entry its directory lists: a reader going through the file in order would find files the check would not`,
      );
    const flags = head.readUInt16LE(6);
    const method = head.readUInt16LE(8);
    const size = head.readUInt32LE(18);
    const nameBytes = Buffer.alloc(head.readUInt16LE(26));
    await fh.read(nameBytes, 0, nameBytes.length, p + 30);
    const name = nameBytes.toString('utf8');
    if (size === 0xffffffff) throw refuse(file, `entry ${JSON.stringify(name)} is a ZIP64 entry, which workbooks of this size never need`);
    const start = p + 30 + nameBytes.length + head.readUInt16LE(28);
    // as unzipper reads: a size in the local header, unless bit 3 says it follows the data
    const descriptor = (flags & 0x08) !== 0 && size === 0;
    if (descriptor && method === 0) throw refuse(file, `entry ${JSON.stringify(name)} is stored with its size after it, which workbooks do not use`);
    const compressed = descriptor ? l.compressed : size;
    let end = start + compressed;
    if (descriptor) {
      const sig = Buffer.alloc(4);
      await fh.read(sig, 0, 4, end);
      if (!sig.equals(DESCRIPTOR)) throw broken(file, `entry ${JSON.stringify(name)} does not end where its directory says`);
      end += 16;
    }
    if (end > dirOffset) throw broken(file, `entry ${JSON.stringify(name)} runs into its zip directory`);
    out.push({ name, method, compressed, offset: start, header: p, descriptor });
    p = end;
  }
  return out;
}

async function inflateCheck(file: string, snap: Snapshot, e: Entry, limits: ZipLimits): Promise<void> {
  const cap = limits.maxEntryBytes[e.name];
  if (e.method === 0) {
    if (cap && e.compressed > cap.bytes)
      throw refuse(file, `entry ${JSON.stringify(e.name)} is ${mb(e.compressed)}, more than ${cap.setting} (${mb(cap.bytes)})`);
    return;
  }
  if (e.method !== 8) throw refuse(file, `entry ${JSON.stringify(e.name)} uses compression method ${e.method}, which workbooks do not use`);
  if (e.compressed === 0) return;
  // large chunks: the check inflates every entry once more, and small ones cost a callback each
  const input = await readSnapshot(snap, { start: e.offset, end: e.offset + e.compressed - 1, highWaterMark: 1 << 20 });
  const inflate = createInflateRaw({ chunkSize: 1 << 20 });
  let read = 0;
  let written = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      input.destroy();
      inflate.destroy();
      reject(err);
    };
    let tail: Buffer = Buffer.alloc(0);
    input.on('data', (c: Buffer) => {
      // a descriptor's signature inside the data would end the entry early for a reader in file order
      if (e.descriptor && (c.includes(DESCRIPTOR) || Buffer.concat([tail, c.subarray(0, 3)]).includes(DESCRIPTOR)))
        fail(
          refuse(
            file,
            `entry ${JSON.stringify(e.name)} holds a data descriptor's signature before its end: a reader going through the file in order would take another file than its directory lists`,
          ),
        );
      tail = c.subarray(Math.max(0, c.length - 3));
      read += c.length;
    });
    input.on('error', fail);
    inflate.on('data', (c: Buffer) => {
      written += c.length;
      if (written > limits.graceBytes && written > read * limits.maxRatio) {
        fail(
          refuse(
            file,
            `entry ${JSON.stringify(e.name)} inflates more than ${limits.maxRatio}:1 (${mb(written)} from ${mb(read)} so far): a zip bomb, or not a workbook a spreadsheet application wrote`,
          ),
        );
      } else if (cap && written > cap.bytes) {
        fail(
          refuse(
            file,
            `entry ${JSON.stringify(e.name)} inflates to more than ${mb(cap.bytes)} (${cap.setting}); raise the setting if the workbook is genuine, or export the sheet as CSV`,
          ),
        );
      }
    });
    inflate.on('error', (err) => fail(broken(file, `entry ${JSON.stringify(e.name)} cannot be inflated (${err.message})`)));
    inflate.on('end', () => resolve());
    input.pipe(inflate);
  });
}

function broken(file: string, why: string): InputError {
  return new InputError(file, `not a readable .xlsx workbook (${why}); save it again from the spreadsheet application as "Excel Workbook (.xlsx)"`);
}

function refuse(file: string, why: string): InputError {
  return new InputError(file, `refused: ${why}`, { code: 'E_INPUT_BOMB' });
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
