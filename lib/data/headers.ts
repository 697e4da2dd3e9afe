// An image's format, size and EXIF orientation read from its first bytes, synchronously, without
// decoding: what the dataset summary line needs (formats, smallest image, photos with an EXIF
// rotation) for thousands of files in a fraction of a second. A file whose header is not one of
// these formats is reported as unreadable; the decoder has the last word when the batch loads.
import * as fs from 'node:fs';
import { isBmp, bmpSize } from './bmp';
import { isNetpbm, netpbmSize } from './ppm';

export interface ImageHeader {
  /** 'JPEG', 'PNG', 'GIF', 'WebP', 'BMP', 'TIFF', 'PPM' (Netpbm). */
  format: string;
  width: number;
  height: number;
  /** EXIF orientation 1..8 when the file has one (JPEG, TIFF); 1 is upright. */
  orientation?: number;
}

const HEAD = 4096;

/** Read `len` bytes at `pos` (fewer at the end of the file). */
function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  const n = fs.readSync(fd, buf, 0, len, pos);
  return buf.subarray(0, n);
}

/** The header of an image file, or null when it is not a format this reads (or is cut short). */
export function readImageHeader(file: string): ImageHeader | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    return headerOf(fd, readAt(fd, 0, HEAD));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

function headerOf(fd: number, b: Buffer): ImageHeader | null {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR')
    return { format: 'PNG', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString('latin1', 0, 4) === 'GIF8')
    return { format: 'GIF', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (
    b.length >= 30 &&
    b.toString('latin1', 0, 4) === 'RIFF' &&
    b.toString('latin1', 8, 12) === 'WEBP'
  )
    return webp(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpeg(fd);
  if (
    b.length >= 8 &&
    (b.toString('latin1', 0, 4) === 'II*\0' || b.toString('latin1', 0, 4) === 'MM\0*')
  )
    return tiff(fd);
  if (isBmp(b)) return { format: 'BMP', ...bmpSize(b) };
  if (isNetpbm(b)) return { format: 'PPM', ...netpbmSize(b) };
  return null;
}

function webp(b: Buffer): ImageHeader | null {
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8 ')
    return {
      format: 'WebP',
      width: b.readUInt16LE(26) & 0x3fff,
      height: b.readUInt16LE(28) & 0x3fff,
    };
  if (chunk === 'VP8L') {
    const v = b.readUInt32LE(21);
    return { format: 'WebP', width: (v & 0x3fff) + 1, height: ((v >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X')
    return { format: 'WebP', width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 };
  return null;
}

/** Walk the JPEG's segments by their lengths (an EXIF thumbnail can be 60 kB) to the frame header. */
function jpeg(fd: number): ImageHeader | null {
  let pos = 2;
  let orientation: number | undefined;
  for (let guard = 0; guard < 500; guard++) {
    const m = readAt(fd, pos, 4);
    if (m.length < 4 || m[0] !== 0xff) return null;
    const marker = m[1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    const len = m.readUInt16BE(2);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC): the frame header with the size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      const f = readAt(fd, pos + 4, 5);
      if (f.length < 5) return null;
      return { format: 'JPEG', height: f.readUInt16BE(1), width: f.readUInt16BE(3), orientation };
    }
    if (marker === 0xe1 && orientation === undefined) {
      const app1 = readAt(fd, pos + 4, Math.min(len - 2, 65533));
      if (app1.toString('latin1', 0, 6) === 'Exif\0\0')
        orientation = exifOrientation(app1.subarray(6));
    }
    pos += 2 + len;
  }
  return null;
}

/** Orientation (tag 0x0112) of IFD0 in a TIFF structure (an EXIF block is one). */
function exifOrientation(t: Buffer): number | undefined {
  const le = t.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o: number) => (le ? t.readUInt32LE(o) : t.readUInt32BE(o));
  const ifd = u32(4);
  const n = u16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k;
    if (u16(e) === 0x0112) return u16(e + 8);
  }
  return undefined;
}

function tiff(fd: number): ImageHeader | null {
  const b = readAt(fd, 0, 65536);
  const le = b.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const ifd = u32(4);
  const n = u16(ifd);
  let width = 0;
  let height = 0;
  let orientation: number | undefined;
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + 12 * k;
    const tag = u16(e);
    const value = u16(e + 2) === 3 ? u16(e + 8) : u32(e + 8); // SHORT or LONG
    if (tag === 256) width = value;
    else if (tag === 257) height = value;
    else if (tag === 0x0112) orientation = value;
  }
  return width && height ? { format: 'TIFF', width, height, orientation } : null;
}
