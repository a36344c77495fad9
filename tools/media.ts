// Generated test media: real magic bytes and container headers (so content sniffing accepts them)
// followed by filler, produced chunk by chunk so that a 1 GiB "video" never sits in memory.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export type MediaKind = 'png' | 'jpeg' | 'mp4';
export const MEDIA_TYPES: Record<MediaKind, { mime: string; ext: string }> = {
  png: { mime: 'image/png', ext: 'png' },
  jpeg: { mime: 'image/jpeg', ext: 'jpg' },
  mp4: { mime: 'video/mp4', ext: 'mp4' },
};

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer, declaredLength = data.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(declaredLength, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, declaredLength === data.length ? crc : Buffer.alloc(0)]);
}

/** The bytes that open the file; the filler follows. */
function header(kind: MediaKind, size: number): Buffer {
  if (kind === 'png') {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(640, 0);
    ihdr.writeUInt32BE(480, 4);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const fixed = signature.length + 25 + 8;
    return Buffer.concat([
      signature,
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', Buffer.alloc(0), Math.max(0, size - fixed)),
    ]);
  }
  if (kind === 'jpeg') {
    return Buffer.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00,
      0x00,
    ]);
  }
  const ftyp = Buffer.alloc(32);
  ftyp.writeUInt32BE(32, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isomiso2avc1mp41', 16, 'latin1');
  const mdat = Buffer.alloc(8);
  mdat.writeUInt32BE(Math.min(0xffffffff, Math.max(8, size - 32)), 0);
  mdat.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, mdat]);
}

const FILLER = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 2654435761) >>> 24));

/** Yields exactly `size` bytes of a `kind` file in chunks of at most 64 KiB. */
export function* mediaChunks(kind: MediaKind, size: number): Generator<Buffer> {
  const head = header(kind, size).subarray(0, size);
  yield head;
  let left = size - head.length;
  while (left > 0) {
    const chunk = FILLER.subarray(0, Math.min(left, FILLER.length));
    left -= chunk.length;
    yield chunk;
  }
}

/** The first `n` bytes of a `kind` file of `size` bytes (the header encodes the size). */
export function mediaHead(kind: MediaKind, size: number, n: number): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  for (const chunk of mediaChunks(kind, size)) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= n) break;
  }
  return Buffer.concat(parts).subarray(0, n);
}

export const mediaStream = (kind: MediaKind, size: number): Readable =>
  Readable.from(mediaChunks(kind, size), { objectMode: false });

export function mediaBuffer(kind: MediaKind, size: number): Buffer {
  return Buffer.concat([...mediaChunks(kind, size)]);
}

export function mediaSha256(kind: MediaKind, size: number): string {
  const hash = createHash('sha256');
  for (const chunk of mediaChunks(kind, size)) hash.update(chunk);
  return hash.digest('hex');
}
