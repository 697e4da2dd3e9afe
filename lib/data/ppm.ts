// Netpbm (PPM/PGM) reader. GTSRB's official images are binary PPM (P6), which sharp's prebuilt
// libvips cannot read, so we parse the tiny format ourselves: P6/P5 binary, P3/P2 ASCII.

export interface DecodedRgb {
  /** RGB bytes, row-major, 3 per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
}

export function isNetpbm(buf: Uint8Array): boolean {
  return buf.length > 2 && buf[0] === 0x50 /* P */ && [0x32, 0x33, 0x35, 0x36].includes(buf[1]);
}

/** Width and height from the header, without decoding (for the pixel limit). */
export function netpbmSize(buf: Uint8Array): { width: number; height: number } {
  const r = headerReader(buf);
  return { width: r.readInt(), height: r.readInt() };
}

function headerReader(buf: Uint8Array) {
  let pos = 2;
  const isSpace = (c: number) =>
    c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
  // Read one header/ASCII integer, skipping whitespace and '#' comments.
  const readInt = (): number => {
    for (;;) {
      while (pos < buf.length && isSpace(buf[pos])) pos++;
      if (buf[pos] === 0x23 /* # */) {
        while (pos < buf.length && buf[pos] !== 0x0a && buf[pos] !== 0x0d) pos++;
      } else break;
    }
    const start = pos;
    let v = 0;
    while (pos < buf.length && buf[pos] >= 0x30 && buf[pos] <= 0x39)
      v = v * 10 + (buf[pos++] - 0x30);
    if (pos === start) throw new Error(`malformed PPM header at byte ${start}`);
    return v;
  };
  return {
    readInt,
    get pos() {
      return pos;
    },
  };
}

/** Parse a P2/P3/P5/P6 file into RGB bytes. Throws a plain Error on malformed input. */
export function decodeNetpbm(buf: Uint8Array): DecodedRgb {
  if (!isNetpbm(buf)) throw new Error('not a PPM/PGM file (expected magic P2, P3, P5 or P6)');
  const kind = buf[1] - 0x30; // 2, 3, 5 or 6
  const header = headerReader(buf);
  const readInt = header.readInt;
  const width = readInt();
  const height = readInt();
  const maxval = readInt();
  let pos = header.pos;
  if (width <= 0 || height <= 0 || maxval <= 0 || maxval > 65535) {
    throw new Error(`bad PPM header (width ${width}, height ${height}, maxval ${maxval})`);
  }
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  const count = width * height * channels;
  const samples = new Uint16Array(count);
  if (kind === 5 || kind === 6) {
    pos++; // exactly one whitespace byte after maxval
    const bytes = maxval > 255 ? 2 : 1;
    if (buf.length - pos < count * bytes) {
      throw new Error(`truncated PPM data (${buf.length - pos} bytes, expected ${count * bytes})`);
    }
    if (bytes === 1) samples.set(buf.subarray(pos, pos + count));
    else
      for (let i = 0; i < count; i++) samples[i] = (buf[pos + 2 * i] << 8) | buf[pos + 2 * i + 1];
  } else {
    for (let i = 0; i < count; i++) samples[i] = readInt();
  }
  const data = new Uint8Array(width * height * 3);
  const scale = 255 / maxval;
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const s = samples[p * channels + (channels === 3 ? c : 0)];
      data[p * 3 + c] = maxval === 255 ? s : Math.round(Math.min(s, maxval) * scale);
    }
  }
  return { data, width, height };
}
