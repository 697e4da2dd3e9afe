// The embedded offline default: deterministic synthetic traffic-sign-like images, so every notebook
// runs on a fresh machine without downloads. Each class is a (shape, colour scheme, glyph) triple;
// each image varies the viewpoint (rotation, scale, offset), background, lighting, noise and blur.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mapConcurrent } from './decode';
import { rngFor, uniform, type Rng } from '../rng';
import { buildAtomically, markerMatches } from './prepare/atomic';
import { progressReporter } from '../io/progress';

export interface SyntheticSignsOptions {
  /** Number of classes (default 43, like GTSRB). */
  classes?: number;
  trainPerClass?: number; // default 28
  validPerClass?: number; // default 12
  testPerClass?: number; // default 10
  /** Image side in pixels (default 48). */
  size?: number;
  seed?: number;
  /**
   * 'gtsrb': Train/<id>/, Valid/<id>/, Test/*.png + Test.csv (the walkthrough's GTSRB-40 layout).
   * 'cars': train/<class name>/, validation/<class name>/, test/<class name>/ (the Stanford Cars layout).
   */
  layout?: 'gtsrb' | 'cars';
  /** Replace an existing synthetic dataset made with other settings. */
  overwrite?: boolean;
  progress?: boolean;
}

export interface SyntheticSignsResult {
  dir: string;
  classNames: string[];
  trainDir: string;
  validDir: string;
  testDir: string;
  /** 'gtsrb' layout only. */
  testCsv?: string;
  /** False when an identical dataset was already there. */
  created: boolean;
}

export const SHAPES = ['circle', 'triangle', 'octagon', 'diamond', 'square'] as const;
export type Shape = (typeof SHAPES)[number];
export type RGB = [number, number, number];
export const SCHEMES: { name: string; border: RGB; fill: RGB; glyph: RGB }[] = [
  { name: 'red-white', border: [200, 20, 30], fill: [245, 245, 240], glyph: [20, 20, 20] },
  { name: 'blue', border: [240, 240, 240], fill: [20, 70, 180], glyph: [250, 250, 250] },
  { name: 'yellow', border: [20, 20, 20], fill: [250, 200, 20], glyph: [20, 20, 20] },
  { name: 'red', border: [250, 250, 250], fill: [210, 25, 35], glyph: [250, 250, 250] },
];
export const GLYPHS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'arrow', 'bar', 'cross'];

/** Class k as attribute indices [shape, colour scheme, symbol] (for pretext tasks that predict them). */
export function syntheticClassAttributes(k: number): [number, number, number] {
  const c = syntheticClass(k);
  return [SHAPES.indexOf(c.shape), c.scheme, GLYPHS.indexOf(c.glyph)];
}

/** How many values each attribute of syntheticClassAttributes takes. */
export const SYNTHETIC_ATTRIBUTES = [
  { name: 'shape', count: SHAPES.length },
  { name: 'colour scheme', count: SCHEMES.length },
  { name: 'symbol', count: GLYPHS.length },
] as const;

/** The (shape, scheme, glyph) of class k; distinct for every k < 260. */
export function syntheticClass(k: number): {
  shape: Shape;
  scheme: number;
  glyph: string;
  name: string;
} {
  const shape = SHAPES[k % 5];
  const scheme = Math.floor(k / 5) % 4;
  const glyph = GLYPHS[(Math.floor(k / 20) + 3 * (k % 20)) % GLYPHS.length];
  return { shape, scheme, glyph, name: `${shape} ${SCHEMES[scheme].name} ${glyph}` };
}

/** Inside test for a shape of "radius" 1 centred at 0 (y points down). */
export function insideShape(shape: Shape, x: number, y: number, r: number): boolean {
  x /= r;
  y /= r;
  const ax = Math.abs(x),
    ay = Math.abs(y);
  switch (shape) {
    case 'circle':
      return x * x + y * y < 1;
    case 'square':
      return ax < 0.82 && ay < 0.82;
    case 'diamond':
      return ax + ay < 1;
    case 'octagon':
      return ax < 0.92 && ay < 0.92 && ax + ay < 1.3;
    case 'triangle':
      return y < 0.62 && 1.8 * ax - y < 1.0 + 0.08 && y > -1; // apex up
  }
}

// Seven-segment digits plus a few symbols, as line segments in a box [-0.25, 0.25] x [-0.4, 0.4].
const SEG: Record<string, [number, number, number, number]> = {
  a: [-0.25, -0.4, 0.25, -0.4],
  b: [0.25, -0.4, 0.25, 0],
  c: [0.25, 0, 0.25, 0.4],
  d: [-0.25, 0.4, 0.25, 0.4],
  e: [-0.25, 0, -0.25, 0.4],
  f: [-0.25, -0.4, -0.25, 0],
  g: [-0.25, 0, 0.25, 0],
};
const DIGIT_SEGMENTS: Record<string, string> = {
  '0': 'abcdef',
  '1': 'bc',
  '2': 'abged',
  '3': 'abgcd',
  '4': 'fgbc',
  '5': 'afgcd',
  '6': 'afgedc',
  '7': 'abc',
  '8': 'abcdefg',
  '9': 'abcdfg',
};
export function glyphSegments(glyph: string): [number, number, number, number][] {
  if (DIGIT_SEGMENTS[glyph]) return [...DIGIT_SEGMENTS[glyph]].map((s) => SEG[s]);
  if (glyph === 'arrow')
    return [
      [0, 0.4, 0, -0.4],
      [0, -0.4, -0.25, -0.12],
      [0, -0.4, 0.25, -0.12],
    ];
  if (glyph === 'bar') return [[-0.38, 0, 0.38, 0]];
  return [
    [-0.3, -0.3, 0.3, 0.3],
    [-0.3, 0.3, 0.3, -0.3],
  ];
}
/** A glyph's strokes as a canonical string (endpoints rounded and ordered), to compare glyphs. */
function strokeKey(segs: [number, number, number, number][]): string {
  const r = (v: number) => (Math.round(v * 1000) / 1000 || 0).toFixed(3);
  return segs
    .map(([x1, y1, x2, y2]) => {
      const [p, q] = [`${r(x1)},${r(y1)}`, `${r(x2)},${r(y2)}`].sort();
      return `${p}-${q}`;
    })
    .sort()
    .join(' ');
}

/**
 * What a glyph of the generated signs becomes when the image is mirrored ('horizontal': left ↔
 * right; 'vertical': top ↔ bottom): itself (it is symmetric), another glyph (a mirrored 2 is a
 * 5), or null (a stroke pattern no class uses, such as a mirrored 3). Computed from the strokes.
 */
export function mirroredGlyph(glyph: string, flip: 'horizontal' | 'vertical'): string | null {
  const mirror = ([x1, y1, x2, y2]: [number, number, number, number]) =>
    (flip === 'horizontal' ? [-x1, y1, -x2, y2] : [x1, -y1, x2, -y2]) as [
      number,
      number,
      number,
      number,
    ];
  const key = strokeKey(glyphSegments(glyph).map(mirror));
  if (key === strokeKey(glyphSegments(glyph))) return glyph;
  return GLYPHS.find((g) => strokeKey(glyphSegments(g)) === key) ?? null;
}

/** Whether a sign shape looks the same mirrored (a triangle's apex points up: upside down it does not). */
export function shapeIsSymmetric(shape: Shape, flip: 'horizontal' | 'vertical'): boolean {
  return flip === 'horizontal' || shape !== 'triangle';
}

export function distToSegment(px: number, py: number, s: [number, number, number, number]): number {
  const [x1, y1, x2, y2] = s;
  const dx = x2 - x1,
    dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

/** Render one image of class k as RGB bytes (size x size). Pure function of (k, rng). */
export function renderSyntheticSign(k: number, size: number, rng: Rng): Uint8Array {
  const cls = syntheticClass(k);
  const scheme = SCHEMES[cls.scheme];
  const segs = glyphSegments(cls.glyph);
  const theta = uniform(rng, -12, 12) * (Math.PI / 180);
  const radius = uniform(rng, 0.33, 0.45) * size;
  const cx = size / 2 + uniform(rng, -0.08, 0.08) * size,
    cy = size / 2 + uniform(rng, -0.08, 0.08) * size;
  const bg1: RGB = [uniform(rng, 40, 200), uniform(rng, 60, 200), uniform(rng, 40, 220)];
  const bg2: RGB = [uniform(rng, 40, 200), uniform(rng, 60, 200), uniform(rng, 40, 220)];
  const light = uniform(rng, 0.55, 1.25),
    lightSlope = uniform(rng, -0.35, 0.35);
  const noise = uniform(rng, 3, 14);
  const glyphScale = cls.shape === 'triangle' ? 0.55 : 0.8,
    glyphDy = cls.shape === 'triangle' ? 0.18 : 0;
  const cos = Math.cos(theta),
    sin = Math.sin(theta);
  const out = new Uint8Array(size * size * 3);
  const sub = [0.25, 0.75];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0];
      for (const sy of sub)
        for (const sx of sub) {
          // pixel -> sign coordinates (radius 1), undoing rotation
          const dx = (x + sx - cx) / radius,
            dy = (y + sy - cy) / radius;
          const u = cos * dx + sin * dy,
            v = -sin * dx + cos * dy;
          let c: RGB;
          if (!insideShape(cls.shape, u, v, 1)) {
            const t = (x + y) / (2 * size);
            c = [
              bg1[0] + (bg2[0] - bg1[0]) * t,
              bg1[1] + (bg2[1] - bg1[1]) * t,
              bg1[2] + (bg2[2] - bg1[2]) * t,
            ];
          } else if (!insideShape(cls.shape, u, v, 0.8)) c = scheme.border;
          else {
            const gx = u / glyphScale,
              gy = (v - glyphDy) / glyphScale;
            const onGlyph = segs.some((s) => distToSegment(gx, gy, s) < 0.075);
            c = onGlyph ? scheme.glyph : scheme.fill;
          }
          acc[0] += c[0];
          acc[1] += c[1];
          acc[2] += c[2];
        }
      const l = light * (1 + lightSlope * ((x - size / 2) / size));
      const n = (rng() + rng() + rng() - 1.5) * noise * 2; // roughly Gaussian, same on all channels
      const o = (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++)
        out[o + ch] = Math.max(0, Math.min(255, Math.round((acc[ch] / 4) * l + n)));
    }
  }
  return out;
}

async function writePng(file: string, rgb: Uint8Array, size: number, blur: number): Promise<void> {
  let img = sharp(rgb, { raw: { width: size, height: size, channels: 3 } });
  if (blur >= 0.3) img = img.blur(blur);
  await img.png({ compressionLevel: 3 }).toFile(file);
}

/**
 * Write a synthetic traffic-sign dataset to `dir` (deterministic given the options). If `dir`
 * already holds the same dataset it is reused. Built in a temp folder and renamed at the end.
 */
export async function makeSyntheticSigns(
  dir: string,
  opts: SyntheticSignsOptions = {},
): Promise<SyntheticSignsResult> {
  const o = {
    classes: opts.classes ?? 43,
    trainPerClass: opts.trainPerClass ?? 28,
    validPerClass: opts.validPerClass ?? 12,
    testPerClass: opts.testPerClass ?? 10,
    size: opts.size ?? 48,
    seed: opts.seed ?? 0,
    layout: opts.layout ?? 'gtsrb',
  };
  if (!(o.classes >= 2 && o.classes <= 260))
    throw new Error(`makeSyntheticSigns: classes must be 2..260, got ${o.classes}.`);
  if (!(o.size >= 8))
    throw new Error(`makeSyntheticSigns: size must be at least 8 pixels, got ${o.size}.`);
  const gtsrb = o.layout === 'gtsrb';
  const classNames = Array.from({ length: o.classes }, (_, k) =>
    gtsrb ? String(k) : syntheticClass(k).name,
  );
  const [trainName, validName, testName] = gtsrb
    ? ['Train', 'Valid', 'Test']
    : ['train', 'validation', 'test'];
  const root = path.resolve(dir);
  const result: SyntheticSignsResult = {
    dir: root,
    classNames: gtsrb ? classNames.slice().sort() : classNames.slice().sort(),
    trainDir: path.join(root, trainName),
    validDir: path.join(root, validName),
    testDir: path.join(root, testName),
    testCsv: gtsrb ? path.join(root, 'Test.csv') : undefined,
    created: false,
  };
  const marker = { kind: 'synthetic-signs', version: 1, ...o };
  if (markerMatches(root, marker)) return result;
  await buildAtomically(
    root,
    marker,
    async (tmp) => {
      type Job = { file: string; k: number; split: number; i: number };
      const jobs: Job[] = [];
      const testRows: string[] = [];
      const splits = [
        [trainName, o.trainPerClass],
        [validName, o.validPerClass],
        [testName, o.testPerClass],
      ] as const;
      splits.forEach(([name, n], split) => {
        for (let k = 0; k < o.classes; k++) {
          if (!(gtsrb && split === 2))
            fs.mkdirSync(path.join(tmp, name, classNames[k]), { recursive: true });
          for (let i = 0; i < n; i++) {
            if (gtsrb && split === 2) {
              const id = String(testRows.length).padStart(5, '0');
              jobs.push({ file: path.join(tmp, name, `${id}.png`), k, split, i });
              testRows.push(
                `${o.size},${o.size},0,0,${o.size - 1},${o.size - 1},${k},${name}/${id}.png`,
              );
            } else {
              jobs.push({
                file: path.join(
                  tmp,
                  name,
                  classNames[k],
                  `${String(k).padStart(5, '0')}_${String(i).padStart(5, '0')}.png`,
                ),
                k,
                split,
                i,
              });
            }
          }
        }
      });
      if (gtsrb) {
        fs.mkdirSync(path.join(tmp, testName), { recursive: true });
        fs.writeFileSync(
          path.join(tmp, 'Test.csv'),
          `Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n${testRows.join('\n')}\n`,
        );
      }
      const bar = progressReporter('synthetic signs', {
        total: jobs.length,
        enabled: opts.progress ?? false,
      });
      await mapConcurrent(jobs, 8, async (j) => {
        const rng = rngFor(o.seed, j.split, j.k, j.i);
        const rgb = renderSyntheticSign(j.k, o.size, rng);
        await writePng(j.file, rgb, o.size, uniform(rng, 0, 1.1));
        bar.tick();
      });
      bar.done();
    },
    opts.overwrite ?? false,
  );
  result.created = true;
  return result;
}
