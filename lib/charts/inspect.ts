// What a notebook prints for a returned value. tslab console.logs a cell's last expression, so
// `await plotHistory(h)` would dump the whole spec and SVG under the chart; a short description
// of the fields replaces that dump (util.inspect honours this symbol).
export { describeAs } from '../display';

/** "12.3 kB" */
export function kb(s: string | Uint8Array): string {
  const bytes = typeof s === 'string' ? Buffer.byteLength(s) : s.length;
  return `${(bytes / 1024).toFixed(1)} kB`;
}
