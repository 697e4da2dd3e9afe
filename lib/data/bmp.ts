// Windows BMP reader. Keras (through PIL) reads .bmp files, sharp's prebuilt libvips does not, so we
// parse the format ourselves: uncompressed 1/4/8-bit (palette), 16/24/32-bit, and BI_BITFIELDS masks.
import type { DecodedRgb } from './ppm';

export function isBmp(buf: Uint8Array): boolean {
  return buf.length > 26 && buf[0] === 0x42 /* B */ && buf[1] === 0x4d; /* M */
}

/** Width and height from the header, without decoding (for the pixel limit). */
export function bmpSize(buf: Uint8Array): { width: number; height: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerSize = v.getUint32(14, true);
  if (headerSize === 12) return { width: v.getUint16(18, true), height: v.getUint16(20, true) };
  return { width: v.getInt32(18, true), height: Math.abs(v.getInt32(22, true)) };
}

/** Parse a BMP file into RGB bytes. Throws a plain Error on malformed or unsupported input. */
export function decodeBmp(buf: Uint8Array): DecodedRgb {
  if (!isBmp(buf)) throw new Error('not a BMP file (expected magic "BM")');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (end: number, what: string) => {
    if (end > buf.byteLength)
      throw new Error(`truncated BMP (${buf.byteLength} bytes, ${what} needs ${end})`);
  };
  need(30, 'the header');
  const dataOffset = v.getUint32(10, true);
  const headerSize = v.getUint32(14, true);
  const core = headerSize === 12;
  if (!core && headerSize < 40) throw new Error(`unsupported BMP header size ${headerSize}`);
  need(14 + headerSize, 'the header');
  const width = core ? v.getUint16(18, true) : v.getInt32(18, true);
  const rawHeight = core ? v.getUint16(20, true) : v.getInt32(22, true);
  const bits = core ? v.getUint16(24, true) : v.getUint16(28, true);
  const compression = core ? 0 : v.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const bottomUp = rawHeight > 0;
  if (width <= 0 || height <= 0) throw new Error(`bad BMP size ${width}x${rawHeight}`);
  if (compression !== 0 && compression !== 3) {
    throw new Error(
      `compressed BMP (compression ${compression}: RLE/JPEG/PNG) is not supported; convert it to PNG`,
    );
  }
  if (![1, 4, 8, 16, 24, 32].includes(bits)) throw new Error(`unsupported BMP bit depth ${bits}`);

  // Channel masks: BI_BITFIELDS gives them after a 40-byte header (or inside a V4/V5 header).
  let masks: number[] | null = null;
  if (bits === 16 || bits === 32) {
    if (compression === 3) {
      need(14 + 40 + 12, 'the colour masks');
      masks = [v.getUint32(54, true), v.getUint32(58, true), v.getUint32(62, true)];
    } else masks = bits === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0xff00, 0xff];
  }
  const palette: number[][] = [];
  if (bits <= 8) {
    const entry = core ? 3 : 4;
    const used = core ? 0 : v.getUint32(46, true);
    const count = used || 1 << bits;
    const start = 14 + headerSize;
    need(start + count * entry, 'the palette');
    for (let i = 0; i < count; i++)
      palette.push([
        buf[start + i * entry + 2],
        buf[start + i * entry + 1],
        buf[start + i * entry],
      ]);
  }
  const stride = Math.floor((bits * width + 31) / 32) * 4;
  need(dataOffset + stride * height, 'the pixels');

  const channel = (value: number, mask: number) => {
    if (!mask) return 0;
    const shift = 31 - Math.clz32(mask & -mask);
    const max = mask >>> shift;
    return Math.round((((value & mask) >>> shift) * 255) / max);
  };
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (bottomUp ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let rgb: number[];
      if (bits === 24) rgb = [buf[row + 3 * x + 2], buf[row + 3 * x + 1], buf[row + 3 * x]];
      else if (bits === 32 || bits === 16) {
        const value = bits === 32 ? v.getUint32(row + 4 * x, true) : v.getUint16(row + 2 * x, true);
        rgb = masks!.map((m) => channel(value, m));
      } else {
        const bitPos = x * bits;
        const index = (buf[row + (bitPos >> 3)] >> (8 - bits - (bitPos & 7))) & ((1 << bits) - 1);
        rgb = palette[index] ?? [0, 0, 0];
      }
      out[o] = rgb[0];
      out[o + 1] = rgb[1];
      out[o + 2] = rgb[2];
    }
  }
  return { data: out, width, height };
}
