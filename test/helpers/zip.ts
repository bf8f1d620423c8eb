import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** Deflated bytes and what they inflate to (size and CRC), or plain text to deflate here. */
  data: string | { deflated: Buffer; size: number; crc: number };
  /** Sizes after the data (flag bit 3), as streaming writers (LibreOffice, exceljs) write them. */
  descriptor?: boolean;
  /** In the file but in no directory record: what a reader in file order sees and one that seeks does not. */
  hidden?: boolean;
}

/** A minimal zip archive (deflate, no ZIP64), to build workbooks a test needs, hostile ones included; `gap` bytes of junk before the directory. */
export function buildZip(entries: ZipEntry[], gap = 0): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const d =
      typeof e.data === 'string' ? { deflated: deflateRawSync(Buffer.from(e.data)), size: Buffer.byteLength(e.data), crc: crc32(Buffer.from(e.data)) } : e.data;
    const name = Buffer.from(e.name);
    const flags = e.descriptor ? 8 : 0;
    const local = [header(0x04034b50, 30, 6, flags, name, e.descriptor ? undefined : d), name, d.deflated];
    if (e.descriptor) {
      const sizes = Buffer.alloc(16);
      sizes.writeUInt32LE(0x08074b50, 0);
      sizes.writeUInt32LE(d.crc >>> 0, 4);
      sizes.writeUInt32LE(d.deflated.length, 8);
      sizes.writeUInt32LE(d.size >>> 0, 12);
      local.push(sizes);
    }
    if (!e.hidden) {
      const central = header(0x02014b50, 46, 8, flags, name, d);
      central.writeUInt16LE(20, 4);
      central.writeUInt32LE(offset, 42);
      centrals.push(central, name);
    }
    parts.push(...local);
    offset += local.reduce((n, b) => n + b.length, 0);
  }
  parts.push(Buffer.alloc(gap, 0x20));
  offset += gap;
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, dir, end]);
}

/**
 * A local (30 bytes) or directory (46 bytes) header of a deflated entry: the two share their
 * fields from version on, `at` bytes after the signature's (4 for the local one, 6 for the
 * directory's); without `d`, no sizes (they follow the data).
 */
function header(signature: number, length: number, at: number, flags: number, name: Buffer, d?: { deflated: Buffer; size: number; crc: number }): Buffer {
  const h = Buffer.alloc(length);
  h.writeUInt32LE(signature, 0);
  h.writeUInt16LE(20, at - 2);
  h.writeUInt16LE(flags, at);
  h.writeUInt16LE(8, at + 2);
  if (d) {
    h.writeUInt32LE(d.crc >>> 0, at + 8);
    h.writeUInt32LE(d.deflated.length, at + 12);
    h.writeUInt32LE(d.size >>> 0, at + 16);
  }
  h.writeUInt16LE(name.length, at + 20);
  return h;
}

/** Deflates `prefix`, `count` repetitions of `unit` and `suffix`, without holding the whole text: a bomb's payload. */
export async function deflatedRepeat(prefix: string, unit: string, count: number, suffix: string): Promise<{ deflated: Buffer; size: number; crc: number }> {
  const perChunk = Math.max(1, Math.floor((1 << 20) / unit.length));
  const chunk = Buffer.from(unit.repeat(perChunk));
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = 0;
  let size = 0;
  const write = async (b: Buffer) => {
    crc = crc32(b, crc);
    size += b.length;
    if (!deflate.write(b)) await new Promise((r) => deflate.once('drain', r));
  };
  await write(Buffer.from(prefix));
  for (let left = count; left > 0; left -= perChunk) await write(left >= perChunk ? chunk : Buffer.from(unit.repeat(left)));
  await write(Buffer.from(suffix));
  deflate.end();
  await ended;
  return { deflated: Buffer.concat(out), size, crc };
}
