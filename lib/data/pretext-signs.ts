// The pretext stand-in's images: generated signs photographed badly. The notebooks' generated
// datasets (synthetic.ts) are clean renders; real sign photos are not. GTSRB's crops, for one, are
// often dark, hazy, blurred, low-resolution (25–50 px upscaled), seen at an angle, partly hidden,
// in front of trees, sky and buildings. A base pretrained only on clean renders learns features
// that break on such photos, so the pretext draws every one of those nuisances, each at random, and
// asks for what stays the same through them: the sign's shape, its colours and its symbol.
//
// None of GTSRB's classes or images are used. The symbols are seven-segment digits, two-digit
// numbers other than GTSRB's speed limits, arrows, bars, and figures made of random strokes and
// blobs; the notebooks' own generated classes (synthetic.ts, classes 0..42) are never drawn.
import {
  SHAPES as BASE_SHAPES,
  SCHEMES as BASE_SCHEMES,
  glyphSegments,
  insideShape,
  syntheticClass,
  type RGB,
  type Shape,
} from './synthetic';
import { mulberry32, uniform, type Rng } from '../rng';

type Seg = [number, number, number, number];
type Ellipse = { cx: number; cy: number; rx: number; ry: number; cos: number; sin: number };
interface Glyph {
  name: string;
  /** Strokes in a box of about [-0.4, 0.4]² (y down), drawn `width` wide. */
  segs: Seg[];
  /** Filled ellipses in the same box (pictogram-like silhouettes). */
  blobs: Ellipse[];
}

const PRETEXT_SHAPES = [...BASE_SHAPES, 'triangleDown'] as const;
type PretextShape = (typeof PRETEXT_SHAPES)[number];

// The first four are synthetic.ts' schemes (same order), then three GTSRB does not have.
const PRETEXT_SCHEMES: { name: string; border: RGB; fill: RGB; glyph: RGB }[] = [
  ...BASE_SCHEMES,
  { name: 'white-black', border: [35, 35, 35], fill: [238, 238, 232], glyph: [35, 35, 35] },
  { name: 'green', border: [240, 240, 240], fill: [20, 125, 70], glyph: [250, 250, 250] },
  { name: 'orange', border: [25, 25, 25], fill: [240, 135, 25], glyph: [25, 25, 25] },
];

// Two-digit numbers drawn as signs; GTSRB's speed limits (20 30 50 60 70 80) are left out.
const NUMBERS = [
  '10',
  '15',
  '25',
  '35',
  '40',
  '45',
  '55',
  '65',
  '75',
  '85',
  '90',
  '95',
  '12',
  '24',
  '36',
  '48',
];

function shifted(segs: Seg[], dx: number, scale: number): Seg[] {
  return segs.map(([a, b, c, d]) => [a * scale + dx, b * scale, c * scale + dx, d * scale] as Seg);
}

function arrow(angle: number): Seg[] {
  const c = Math.cos(angle),
    s = Math.sin(angle);
  const rot = ([a, b, x, y]: Seg): Seg => [
    c * a - s * b,
    s * a + c * b,
    c * x - s * y,
    s * x + c * y,
  ];
  return (
    [
      [0, 0.4, 0, -0.4],
      [0, -0.4, -0.25, -0.12],
      [0, -0.4, 0.25, -0.12],
    ] as Seg[]
  ).map(rot);
}

/** The symbol vocabulary, the same on every machine (built from a fixed seed). */
function buildGlyphs(): Glyph[] {
  const out: Glyph[] = [];
  for (let d = 0; d <= 9; d++)
    out.push({ name: String(d), segs: glyphSegments(String(d)), blobs: [] });
  for (const n of NUMBERS)
    out.push({
      name: n,
      segs: [
        ...shifted(glyphSegments(n[0]), -0.2, 0.75),
        ...shifted(glyphSegments(n[1]), 0.2, 0.75),
      ],
      blobs: [],
    });
  for (let k = 0; k < 8; k++)
    out.push({
      name: k === 0 ? 'arrow' : `arrow ${k * 45}°`,
      segs: arrow((k * Math.PI) / 4),
      blobs: [],
    });
  out.push({ name: 'bar', segs: glyphSegments('bar'), blobs: [] });
  out.push({ name: 'cross', segs: glyphSegments('cross'), blobs: [] });
  out.push({
    name: 'stripes',
    segs: [-0.25, 0, 0.25].map((o) => [-0.3 + o, 0.3 + o, 0.3 + o, -0.3 + o] as Seg),
    blobs: [],
  });
  const rng = mulberry32(0x5157);
  for (let k = 0; k < 12; k++) {
    // a figure of 3–5 connected strokes
    const segs: Seg[] = [];
    let x = uniform(rng, -0.3, 0.3),
      y = uniform(rng, -0.3, 0.3);
    const n = 3 + Math.floor(rng() * 3);
    for (let i = 0; i < n; i++) {
      const nx = uniform(rng, -0.38, 0.38),
        ny = uniform(rng, -0.38, 0.38);
      segs.push([x, y, nx, ny]);
      [x, y] = rng() < 0.7 ? [nx, ny] : [uniform(rng, -0.3, 0.3), uniform(rng, -0.3, 0.3)];
    }
    out.push({ name: `figure ${k + 1}`, segs, blobs: [] });
  }
  for (let k = 0; k < 12; k++) {
    // a silhouette of 2–4 ellipses, sometimes with a stroke (a pictogram's body and limbs)
    const blobs: Ellipse[] = [];
    const n = 2 + Math.floor(rng() * 3);
    for (let i = 0; i < n; i++) {
      const a = uniform(rng, 0, Math.PI);
      blobs.push({
        cx: uniform(rng, -0.22, 0.22),
        cy: uniform(rng, -0.22, 0.22),
        rx: uniform(rng, 0.06, 0.22),
        ry: uniform(rng, 0.04, 0.14),
        cos: Math.cos(a),
        sin: Math.sin(a),
      });
    }
    const segs: Seg[] =
      rng() < 0.5
        ? [[uniform(rng, -0.35, 0.35), 0.35, uniform(rng, -0.35, 0.35), uniform(rng, -0.1, 0.2)]]
        : [];
    out.push({ name: `silhouette ${k + 1}`, segs, blobs });
  }
  return out;
}
const GLYPHS = buildGlyphs();

/** What each of the pretext's three softmax heads predicts, and how many values it has. */
export const PRETEXT_ATTRIBUTES = [
  { name: 'shape', count: PRETEXT_SHAPES.length },
  { name: 'colour scheme', count: PRETEXT_SCHEMES.length },
  { name: 'symbol', count: GLYPHS.length },
] as const;

/**
 * How many distinct signs the pretext draws from (every shape × scheme × symbol but the notebooks'
 * 43): "all three right" by chance is 1 in this many.
 */
export let PRETEXT_SIGN_CLASSES = 0;

/**
 * The name of value `v` of attribute `j` (0 shape, 1 colour scheme, 2 symbol), in synthetic.ts'
 * terms: its shape and symbol names, and the scheme's index (synthetic.ts' four come first).
 */
export function pretextAttributeName(j: number, v: number): string {
  return j === 0 ? PRETEXT_SHAPES[v] : j === 1 ? String(v) : GLYPHS[v].name;
}

/** The notebooks' generated classes 0..42 as "shape scheme symbol", which the pretext never draws. */
const NOTEBOOK_TRIPLES = new Set(
  Array.from({ length: 43 }, (_, k) => {
    const c = syntheticClass(k);
    return `${c.shape} ${c.scheme} ${c.glyph}`;
  }),
);
PRETEXT_SIGN_CLASSES =
  PRETEXT_SHAPES.length * PRETEXT_SCHEMES.length * GLYPHS.length - NOTEBOOK_TRIPLES.size;

function insidePretextShape(shape: PretextShape, u: number, v: number, r: number): boolean {
  return shape === 'triangleDown'
    ? insideShape('triangle', u, -v, r)
    : insideShape(shape as Shape, u, v, r);
}

function onGlyph(g: Glyph, x: number, y: number, width: number): boolean {
  for (const b of g.blobs) {
    const dx = x - b.cx,
      dy = y - b.cy;
    const p = (b.cos * dx + b.sin * dy) / b.rx,
      q = (-b.sin * dx + b.cos * dy) / b.ry;
    if (p * p + q * q < 1) return true;
  }
  const w2 = width * width;
  for (const [x1, y1, x2, y2] of g.segs) {
    const dx = x2 - x1,
      dy = y2 - y1;
    const t = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy || 1)));
    const ex = x - (x1 + t * dx),
      ey = y - (y1 + t * dy);
    if (ex * ex + ey * ey < w2) return true;
  }
  return false;
}

/** A smooth random texture in [0, 1]: value noise on a `cells`² grid, bilinearly interpolated. */
function valueNoise(rng: Rng, cells: number): (x: number, y: number) => number {
  const g = Float32Array.from({ length: (cells + 1) * (cells + 1) }, () => rng());
  return (x, y) => {
    const fx = x * cells,
      fy = y * cells;
    const i = Math.min(cells - 1, Math.floor(fx)),
      j = Math.min(cells - 1, Math.floor(fy));
    const tx = fx - i,
      ty = fy - j;
    const a = g[j * (cells + 1) + i],
      b = g[j * (cells + 1) + i + 1];
    const c = g[(j + 1) * (cells + 1) + i],
      d = g[(j + 1) * (cells + 1) + i + 1];
    return (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
  };
}

/** The share of pretext images drawn as bad photographs (the rest are clean renders). */
const PHOTO_SHARE = 0.5;

type Background = (x: number, y: number) => RGB;

/** A scene behind the sign: a gradient, foliage-like texture, blocks (buildings) or sky over ground. */
function randomBackground(rng: Rng): Background {
  // Scenes are mostly muted (foliage, asphalt, walls, sky): a grey with a tint.
  const colour = (): RGB => {
    const grey = uniform(rng, 20, 220),
      tint = uniform(rng, 0, 0.35);
    return [0, 1, 2].map(() => grey * (1 - tint) + uniform(rng, 0, 255) * tint) as RGB;
  };
  const c1 = colour(),
    c2 = colour();
  const mix = (t: number): RGB => [
    c1[0] + (c2[0] - c1[0]) * t,
    c1[1] + (c2[1] - c1[1]) * t,
    c1[2] + (c2[2] - c1[2]) * t,
  ];
  const kind = Math.floor(rng() * 4);
  if (kind === 0) {
    const a = uniform(rng, 0, 2 * Math.PI);
    return (x, y) => mix(0.5 + 0.5 * ((x - 0.5) * Math.cos(a) + (y - 0.5) * Math.sin(a)));
  }
  if (kind === 1) {
    const coarse = valueNoise(rng, 3 + Math.floor(rng() * 4)),
      fine = valueNoise(rng, 10 + Math.floor(rng() * 10));
    return (x, y) => mix(0.6 * coarse(x, y) + 0.4 * fine(x, y));
  }
  if (kind === 2) {
    const rects = Array.from({ length: 3 + Math.floor(rng() * 5) }, () => {
      const x0 = rng(),
        y0 = rng();
      return {
        x0,
        y0,
        x1: x0 + uniform(rng, 0.1, 0.6),
        y1: y0 + uniform(rng, 0.1, 0.6),
        c: colour(),
      };
    });
    return (x, y) => {
      for (let k = rects.length - 1; k >= 0; k--) {
        const r = rects[k];
        if (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1) return r.c;
      }
      return mix(y);
    };
  }
  const horizon = uniform(rng, 0.2, 0.8),
    sky: RGB = [uniform(rng, 120, 230), uniform(rng, 150, 235), uniform(rng, 180, 250)];
  const ground = valueNoise(rng, 8);
  return (x, y) => (y < horizon ? sky : mix(ground(x, y)));
}

export interface PretextSign {
  rgb: Uint8Array;
  /** [shape, colour scheme, symbol]: indices into PRETEXT_ATTRIBUTES' values. */
  labels: [number, number, number];
}

/**
 * One pretext image of side `size`: a random sign (never one of the notebooks' generated classes)
 * in a random scene, lit, blurred and degraded at random. A pure function of `rng`.
 */
export function renderPretextSign(size: number, rng: Rng): PretextSign {
  let shape: number, scheme: number, glyph: number;
  do {
    shape = Math.floor(rng() * PRETEXT_SHAPES.length);
    scheme = Math.floor(rng() * PRETEXT_SCHEMES.length);
    glyph = Math.floor(rng() * GLYPHS.length);
  } while (
    NOTEBOOK_TRIPLES.has([shape, scheme, glyph].map((v, j) => pretextAttributeName(j, v)).join(' '))
  );
  const shapeName = PRETEXT_SHAPES[shape];
  const g = GLYPHS[glyph];
  const jitter = (c: RGB, by: number): RGB => c.map((v) => v + uniform(rng, -by, by)) as RGB;
  const base = PRETEXT_SCHEMES[scheme];
  const [border, fill, ink] = [
    jitter(base.border, 25),
    jitter(base.fill, 25),
    jitter(base.glyph, 25),
  ];
  // Half the images are photographed badly, half are clean renders: a base pretrained for a few
  // hundred steps on the bad photos alone barely learns the task (ResNet50 and InceptionV3 stayed
  // near chance), and the notebooks' generated datasets are clean renders.
  const photo = rng() < PHOTO_SHARE;
  // Low resolution: draw at a smaller side, then scale up (GTSRB's crops are often 25–40 px).
  const s = photo
    ? Math.min(size, Math.round(Math.exp(uniform(rng, Math.log(22), Math.log(110)))))
    : size;
  const radius = uniform(rng, 0.34, 0.48) * s;
  const cx = s / 2 + uniform(rng, -0.1, 0.1) * s,
    cy = s / 2 + uniform(rng, -0.1, 0.1) * s;
  const theta = uniform(rng, -15, 15) * (Math.PI / 180);
  const squash = uniform(rng, 0.7, 1), // seen from the side
    shear = uniform(rng, -0.15, 0.15);
  const rim = uniform(rng, 0.74, 0.88);
  const triangle = shapeName === 'triangle' || shapeName === 'triangleDown';
  const glyphScale = (triangle ? 0.65 : 1.1) * uniform(rng, 0.85, 1.1),
    glyphDy = shapeName === 'triangle' ? 0.18 : shapeName === 'triangleDown' ? -0.18 : 0;
  const strokeWidth = uniform(rng, 0.05, 0.09);
  const background = randomBackground(rng);
  const occluder =
    photo && rng() < 0.2
      ? {
          x0: rng(),
          y0: rng(),
          w: uniform(rng, 0.1, 0.35),
          h: uniform(rng, 0.1, 0.35),
          c: jitter([90, 90, 80], 60),
        }
      : null;
  const cos = Math.cos(theta),
    sin = Math.sin(theta);
  const small = new Float32Array(s * s * 3);
  const sub = [0.25, 0.75];
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      let r = 0,
        gg = 0,
        b = 0,
        bg: RGB | null = null; // the scene varies slowly: one look-up per pixel
      for (const sy of sub)
        for (const sx of sub) {
          const px = x + sx,
            py = y + sy;
          const dx = (px - cx) / radius,
            dy = (py - cy) / radius;
          // undo rotation, then the side view (squash) and shear
          const ru = cos * dx + sin * dy,
            v = -sin * dx + cos * dy;
          const u = (ru - shear * v) / squash;
          let c: RGB;
          if (
            occluder &&
            px / s >= occluder.x0 &&
            px / s < occluder.x0 + occluder.w &&
            py / s >= occluder.y0 &&
            py / s < occluder.y0 + occluder.h
          )
            c = occluder.c;
          else if (!insidePretextShape(shapeName, u, v, 1))
            c = bg ??= background((x + 0.5) / s, (y + 0.5) / s);
          else if (!insidePretextShape(shapeName, u, v, rim)) c = border;
          else c = onGlyph(g, u / glyphScale, (v - glyphDy) / glyphScale, strokeWidth) ? ink : fill;
          r += c[0];
          gg += c[1];
          b += c[2];
        }
      const o = (y * s + x) * 3;
      small[o] = r / 4;
      small[o + 1] = gg / 4;
      small[o + 2] = b / 4;
    }
  const img = blur(
    resizeBilinear(small, s, size),
    size,
    photo && rng() < 0.5 ? uniform(rng, 0.3, 1.3) : 0,
  );
  // Light: dark to bright (log-uniform), a colour cast, a gradient across, sometimes haze or a shadow.
  const bright = photo
    ? Math.exp(uniform(rng, Math.log(0.2), Math.log(1.4)))
    : uniform(rng, 0.7, 1.2);
  const cast = [uniform(rng, 0.85, 1.15), uniform(rng, 0.85, 1.15), uniform(rng, 0.85, 1.15)];
  const slope = uniform(rng, -0.4, 0.4),
    slopeAngle = uniform(rng, 0, 2 * Math.PI);
  const haze = photo && rng() < 0.3 ? uniform(rng, 0.1, 0.45) : 0,
    hazeGrey = uniform(rng, 120, 220);
  const shadow =
    photo && rng() < 0.3
      ? {
          a: uniform(rng, 0, 2 * Math.PI),
          off: uniform(rng, -0.3, 0.3),
          k: uniform(rng, 0.35, 0.7),
        }
      : null;
  const noise = photo ? uniform(rng, 2, 12) : uniform(rng, 2, 8);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const nx = x / size - 0.5,
        ny = y / size - 0.5;
      let l = bright * (1 + slope * (nx * Math.cos(slopeAngle) + ny * Math.sin(slopeAngle)));
      if (shadow && nx * Math.cos(shadow.a) + ny * Math.sin(shadow.a) > shadow.off) l *= shadow.k;
      const n = (rng() + rng() + rng() - 1.5) * noise * 2;
      const o = (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = img[o + ch] * cast[ch] * (1 - haze) + hazeGrey * haze;
        out[o + ch] = Math.max(0, Math.min(255, Math.round(v * l + n)));
      }
    }
  return { rgb: out, labels: [shape, scheme, glyph] };
}

function resizeBilinear(src: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return src;
  const out = new Float32Array(to * to * 3);
  const scale = from / to;
  for (let y = 0; y < to; y++) {
    const fy = Math.max(0, Math.min(from - 1, (y + 0.5) * scale - 0.5));
    const y0 = Math.floor(fy),
      y1 = Math.min(from - 1, y0 + 1),
      ty = fy - y0;
    for (let x = 0; x < to; x++) {
      const fx = Math.max(0, Math.min(from - 1, (x + 0.5) * scale - 0.5));
      const x0 = Math.floor(fx),
        x1 = Math.min(from - 1, x0 + 1),
        tx = fx - x0;
      for (let ch = 0; ch < 3; ch++) {
        const a = src[(y0 * from + x0) * 3 + ch],
          b = src[(y0 * from + x1) * 3 + ch];
        const c = src[(y1 * from + x0) * 3 + ch],
          d = src[(y1 * from + x1) * 3 + ch];
        out[(y * to + x) * 3 + ch] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
      }
    }
  }
  return out;
}

/** A separable 3-tap blur of strength `sigma` (0: none), clamped at the edges. */
function blur(img: Float32Array, size: number, sigma: number): Float32Array {
  if (sigma <= 0) return img;
  const w = Math.exp(-1 / (2 * sigma * sigma));
  const k = [w / (1 + 2 * w), 1 / (1 + 2 * w), w / (1 + 2 * w)];
  const pass = (src: Float32Array, dx: number, dy: number) => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let ch = 0; ch < 3; ch++) {
          let v = 0;
          for (let t = -1; t <= 1; t++) {
            const xx = Math.max(0, Math.min(size - 1, x + t * dx)),
              yy = Math.max(0, Math.min(size - 1, y + t * dy));
            v += k[t + 1] * src[(yy * size + xx) * 3 + ch];
          }
          out[(y * size + x) * 3 + ch] = v;
        }
    return out;
  };
  return pass(pass(img, 1, 0), 0, 1);
}
