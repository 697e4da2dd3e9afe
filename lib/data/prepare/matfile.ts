// A small reader for MATLAB Level 5 MAT-files (what `save` writes with -v6/-v7, and scipy's savemat),
// covering what data files use: numeric, logical and char arrays, cell arrays, structs, and
// zlib-compressed variables. Format: "MAT-File Format" (MathWorks), chapter "Level 5 MAT-Files".
//
// Results are plain JS values: scalars → number (boolean if logical), other numeric arrays → a flat
// array in MATLAB's column-major order, char row → string, char matrix → one string per row,
// cell → array, 1x1 struct → record, other struct arrays → array of records (column-major).
import * as fs from 'node:fs';
import { inflateSync } from 'node:zlib';

// Data types of data elements (miINT8 ...).
const mi = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
};
// Array classes inside an miMATRIX (mxCELL_CLASS ...).
const mx = { CELL: 1, STRUCT: 2, OBJECT: 3, CHAR: 4, SPARSE: 5, DOUBLE: 6, UINT64: 15 };
const mxNames = [
  '?',
  'cell',
  'struct',
  'object',
  'char',
  'sparse',
  'double',
  'single',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'function handle',
  'opaque (string/table/datetime object)',
];
const FLAG_COMPLEX = 0x0800,
  FLAG_LOGICAL = 0x0200;

// The numeric miTYPEs: bytes per value and how to read one (64-bit integers lose precision past 2^53).
type ReadValue = (v: DataView, pos: number, littleEndian: boolean) => number;
const numericTypes: Record<number, [bytes: number, read: ReadValue]> = {
  [mi.INT8]: [1, (v, p) => v.getInt8(p)],
  [mi.UINT8]: [1, (v, p) => v.getUint8(p)],
  [mi.INT16]: [2, (v, p, le) => v.getInt16(p, le)],
  [mi.UINT16]: [2, (v, p, le) => v.getUint16(p, le)],
  [mi.INT32]: [4, (v, p, le) => v.getInt32(p, le)],
  [mi.UINT32]: [4, (v, p, le) => v.getUint32(p, le)],
  [mi.SINGLE]: [4, (v, p, le) => v.getFloat32(p, le)],
  [mi.DOUBLE]: [8, (v, p, le) => v.getFloat64(p, le)],
  [mi.INT64]: [8, (v, p, le) => Number(v.getBigInt64(p, le))],
  [mi.UINT64]: [8, (v, p, le) => Number(v.getBigUint64(p, le))],
};

/** One data element: its type and where its bytes are. */
interface Tag {
  type: number;
  start: number;
  nbytes: number;
  next: number;
}

/** Bytes being parsed (the file, or one decompressed variable) plus what error messages need. */
class Bytes {
  readonly view: DataView;
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
    readonly file: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  truncated(where: string): Error {
    return new Error(
      `${this.file} is truncated or corrupt (data ends inside ${where}): download or copy the file again.`,
    );
  }

  /** The tag at `pos`; the small format packs type and size into 4 bytes with the data in the next 4. */
  tag(pos: number, end: number, where: string): Tag {
    if (pos + 8 > end) throw this.truncated(where);
    const first = this.view.getUint32(pos, this.le);
    if (first >>> 16 !== 0) {
      const nbytes = first >>> 16;
      if (nbytes > 4) throw this.truncated(where);
      return { type: first & 0xffff, start: pos + 4, nbytes, next: pos + 8 };
    }
    const nbytes = this.view.getUint32(pos + 4, this.le);
    const start = pos + 8;
    if (start + nbytes > end) throw this.truncated(where);
    // Elements are padded to 8 bytes, except compressed ones (and the file may end without padding).
    const next =
      first === mi.COMPRESSED ? start + nbytes : Math.min(end, start + Math.ceil(nbytes / 8) * 8);
    return { type: first, start, nbytes, next };
  }

  /** The values of a numeric data element, whatever miTYPE they were stored as. */
  numbers(t: Tag, where: string): number[] {
    const numeric = numericTypes[t.type];
    if (!numeric) {
      throw new Error(
        `${this.file}: ${where} has data of unknown type ${t.type}; the file is not a valid MAT-file.`,
      );
    }
    const [size, read] = numeric;
    const n = Math.floor(t.nbytes / size);
    const out = new Array<number>(n);
    for (let i = 0, p = t.start; i < n; i++, p += size) out[i] = read(this.view, p, this.le);
    return out;
  }

  /** Characters of a char array's data element, one entry per MATLAB character. */
  chars(t: Tag, where: string): string[] {
    const bytes = this.buf.subarray(t.start, t.start + t.nbytes);
    switch (t.type) {
      case mi.UTF8:
        return Array.from(bytes.toString('utf8'));
      case mi.UINT8:
      case mi.INT8:
        return Array.from(bytes.toString('latin1'));
      case mi.UTF32:
        return this.numbers({ ...t, type: mi.UINT32 }, where).map((c) => String.fromCodePoint(c));
      case mi.UTF16:
      case mi.UINT16:
        return this.numbers({ ...t, type: mi.UINT16 }, where).map((c) => String.fromCharCode(c));
      default:
        throw new Error(
          `${this.file}: char array ${where} is stored as data type ${t.type}, which is not a character type.`,
        );
    }
  }

  ascii(t: Tag): string {
    return this.buf.toString('latin1', t.start, t.start + t.nbytes).replace(/\0+$/, '');
  }
}

/** Every variable of the data elements in [pos, end) — the file body, or a decompressed element. */
function readVariables(b: Bytes, pos: number, end: number, out: Record<string, unknown>): void {
  while (pos < end) {
    const t = b.tag(pos, end, `the data element at byte ${pos}`);
    if (t.type === mi.COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = inflateSync(b.buf.subarray(t.start, t.start + t.nbytes));
      } catch (e) {
        throw new Error(
          `${b.file} is truncated or corrupt (compressed variable at byte ${pos}: ${(e as Error).message}): download or copy the file again.`,
        );
      }
      const inner = new Bytes(inflated, b.le, b.file);
      readVariables(inner, 0, inflated.length, out);
    } else if (t.type === mi.MATRIX) {
      const v = readMatrix(b, t, `the variable at byte ${pos}`);
      if (v.name) out[v.name] = v.value; // unnamed top-level data is MATLAB's object subsystem: not a variable
    }
    // Other top-level element types carry no variables; skip them.
    pos = t.next;
  }
}

/** Parse one miMATRIX element: array flags, dimensions, name, then the class-specific data. */
function readMatrix(b: Bytes, m: Tag, where: string): { name: string; value: unknown } {
  if (m.type !== mi.MATRIX)
    throw new Error(
      `${b.file}: ${where} should be a matrix (data type 14) but has type ${m.type}; the file is not a valid MAT-file.`,
    );
  if (m.nbytes === 0) return { name: '', value: [] }; // an empty cell or struct field
  const end = m.start + m.nbytes;
  const flagsTag = b.tag(m.start, end, `the array flags of ${where}`);
  const flags = b.view.getUint32(flagsTag.start, b.le);
  const cls = flags & 0xff;
  const dimsTag = b.tag(flagsTag.next, end, `the dimensions of ${where}`);
  const dims = b.numbers(dimsTag, where);
  const nameTag = b.tag(dimsTag.next, end, `the name of ${where}`);
  const name = b.ascii(nameTag);
  const label = name || where;
  const count = dims.reduce((a, d) => a * d, 1);
  let pos = nameTag.next;
  const next = (what: string): Tag => {
    const t = b.tag(pos, end, `${what} of ${label}`);
    pos = t.next;
    return t;
  };

  if (cls >= mx.DOUBLE && cls <= mx.UINT64) {
    if (flags & FLAG_COMPLEX)
      throw new Error(
        `${b.file}: variable ${label} is complex, which this reader does not support: save real and imaginary parts separately.`,
      );
    const values = b.numbers(next('the data'), label);
    if (values.length !== count) throw b.truncated(`the data of ${label}`);
    const logical = (flags & FLAG_LOGICAL) !== 0;
    const typed: unknown[] = logical ? values.map((x) => x !== 0) : values;
    return { name, value: count === 1 ? typed[0] : typed };
  }
  if (cls === mx.CHAR) {
    const chars = count === 0 ? [] : b.chars(next('the characters'), label);
    const rows = dims[0] ?? 0;
    if (rows <= 1) return { name, value: chars.join('') };
    // Column-major: row r is chars r, r + rows, r + 2·rows, ...
    const cols = Math.floor(chars.length / rows);
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      let s = '';
      for (let c = 0; c < cols; c++) s += chars[r + c * rows];
      lines.push(s);
    }
    return { name, value: lines };
  }
  if (cls === mx.CELL) {
    const items: unknown[] = [];
    for (let i = 0; i < count; i++)
      items.push(readMatrix(b, next(`cell ${i + 1}`), `${label}{${i + 1}}`).value);
    return { name, value: items };
  }
  if (cls === mx.STRUCT || cls === mx.OBJECT) {
    if (cls === mx.OBJECT) next('the class name'); // an old-style object reads like a struct
    const nameLen = b.numbers(next('the field name length'), label)[0];
    const namesTag = next('the field names');
    const fields: string[] = [];
    for (let p = 0; nameLen > 0 && p + nameLen <= namesTag.nbytes; p += nameLen) {
      fields.push(b.ascii({ ...namesTag, start: namesTag.start + p, nbytes: nameLen }));
    }
    const records: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const rec: Record<string, unknown> = {};
      for (const f of fields)
        rec[f] = readMatrix(b, next(`field ${f}`), `${label}(${i + 1}).${f}`).value;
      records.push(rec);
    }
    return { name, value: count === 1 && dims.length === 2 ? records[0] : records };
  }
  throw new Error(
    `${b.file}: variable ${label} is a MATLAB ${mxNames[cls] ?? `class ${cls}`} array, which this reader does not support ` +
      `(it reads numeric, logical, char, cell and struct arrays): convert it in MATLAB before saving.`,
  );
}

/**
 * Parse the bytes of a MATLAB Level 5 MAT-file into { variableName: value }. `file` names the
 * source in error messages.
 */
export function parseMatFile(buf: Buffer, file = 'MAT-file'): Record<string, unknown> {
  const hdf5 = buf.length >= 520 && buf.toString('latin1', 513, 516) === 'HDF'; // HDF5 signature after a 512-byte user block
  if (hdf5 || buf.toString('latin1', 0, 10) === 'MATLAB 7.3') {
    throw new Error(
      `${file} is a MATLAB v7.3 (HDF5) MAT-file, which this reader does not read: re-save it in MATLAB with save(..., '-v7'), or use the CSV re-packaging of the data.`,
    );
  }
  const endian = buf.length >= 128 ? buf.toString('latin1', 126, 128) : '';
  if (endian !== 'IM' && endian !== 'MI') {
    throw new Error(
      `${file} is not a MATLAB Level 5 MAT-file (no 'MATLAB 5.0' header with an IM/MI endian mark): check the path, or re-save it in MATLAB with save(..., '-v7').`,
    );
  }
  const out: Record<string, unknown> = {};
  readVariables(new Bytes(buf, endian === 'IM', file), 128, buf.length, out);
  return out;
}

/** Read a MATLAB Level 5 MAT-file (v6/v7, compressed or not) into { variableName: value }. */
export function readMatFile(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new Error(`MAT file not found: ${file}. Check the path.`);
  return parseMatFile(fs.readFileSync(file), file);
}
