// The order classes are listed in (reports, confusion matrices). Folder names sort as strings
// ('0', '1', '10', '11', …, '2'), Keras' order; a reader expects 0, 1, 2, … when classes are numbers.

/** 'index': classNames order; 'numeric': by the value of names that are numbers; 'name': alphabetical. */
export type ClassOrder = 'index' | 'numeric' | 'name';

const isInteger = (s: string) => /^-?\d+$/.test(s.trim());

/** 'numeric' when every class name is an integer (GTSRB's '0'…'42'), else 'index'. */
export function defaultClassOrder(classNames: readonly string[]): ClassOrder {
  return classNames.length > 0 && classNames.every(isInteger) ? 'numeric' : 'index';
}

/** Class indices in display order. */
export function classOrder(
  classNames: readonly string[],
  order: ClassOrder = defaultClassOrder(classNames),
): number[] {
  const idx = [...classNames.keys()];
  if (order === 'numeric') {
    const bad = classNames.find((n) => !Number.isFinite(Number(n)) || n.trim() === '');
    if (bad !== undefined)
      throw new Error(
        `order: 'numeric' needs class names that are numbers; "${bad}" is not. Use order: 'index' or 'name'.`,
      );
    return idx.sort((a, b) => Number(classNames[a]) - Number(classNames[b]) || a - b);
  }
  if (order === 'name')
    return idx.sort((a, b) => classNames[a].localeCompare(classNames[b]) || a - b);
  return idx;
}
