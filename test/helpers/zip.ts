import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** Deflated bytes and what they inflate to (size and CRC), or plain text to deflate here. */
  data: string | { deflated: Buffer; size: number; crc: number };
}

/** A minimal zip archive (deflate, no ZIP64), to build workbooks a test needs, hostile ones included. */
export function buildZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const d =
      typeof e.data === 'string' ? { deflated: deflateRawSync(Buffer.from(e.data)), size: Buffer.byteLength(e.data), crc: crc32(Buffer.from(e.data)) } : e.data;
    const name = Buffer.from(e.name);
    const local = localHeader(name, d);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(d.crc >>> 0, 16);
    central.writeUInt32LE(d.deflated.length, 20);
    central.writeUInt32LE(d.size >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, d.deflated);
    centrals.push(central, name);
    offset += 30 + name.length + d.deflated.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
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

/** `zip` with one more entry before its first, in no directory record (the offsets it lists moved past it): what a reader in file order sees and a reader that seeks does not. */
export function withHiddenFirst(name: string, d: { deflated: Buffer; size: number; crc: number }, zip: Buffer): Buffer {
  const n = Buffer.from(name);
  const hidden = Buffer.concat([localHeader(n, d), n, d.deflated]);
  const out = Buffer.concat([hidden, zip]);
  const end = out.length - 22;
  const dirOffset = out.readUInt32LE(end + 16) + hidden.length;
  out.writeUInt32LE(dirOffset, end + 16);
  for (let p = dirOffset, i = 0; i < out.readUInt16LE(end + 10); i++) {
    out.writeUInt32LE(out.readUInt32LE(p + 42) + hidden.length, p + 42);
    p += 46 + out.readUInt16LE(p + 28) + out.readUInt16LE(p + 30) + out.readUInt16LE(p + 32);
  }
  return out;
}

/** A deflated entry's local header, its sizes in it. */
function localHeader(name: Buffer, d: { deflated: Buffer; size: number; crc: number }): Buffer {
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(d.crc >>> 0, 14);
  local.writeUInt32LE(d.deflated.length, 18);
  local.writeUInt32LE(d.size >>> 0, 22);
  local.writeUInt16LE(name.length, 26);
  return local;
}
