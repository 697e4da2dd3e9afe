// What a notebook prints for a returned value. tslab console.logs a cell's last expression, so
// `await plotHistory(h)` would dump the whole spec and SVG under the chart; a short description
// of the fields replaces that dump (util.inspect honours this symbol).
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Attach a one-line description used when the value is printed (non-enumerable: JSON and spreads ignore it). */
export function describeAs<T extends object>(value: T, describe: (v: T) => string): T {
  Object.defineProperty(value, INSPECT, { value: () => describe(value), enumerable: false, configurable: true });
  return value;
}

/** "12.3 kB" */
export function kb(s: string | Uint8Array): string {
  const bytes = typeof s === 'string' ? Buffer.byteLength(s) : s.length;
  return `${(bytes / 1024).toFixed(1)} kB`;
}
