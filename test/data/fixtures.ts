// Tiny image folders for data tests, written with sharp into a temp folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

/** A solid-colour PNG (or another format by extension) of size w x h. */
export async function writeSolid(
  file: string,
  rgb: [number, number, number],
  w = 8,
  h = 6,
): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp({
    create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  const ext = path.extname(file).toLowerCase();
  const out =
    ext === '.jpg'
      ? img.jpeg({ quality: 100 })
      : ext === '.webp'
        ? img.webp({ lossless: true })
        : ext === '.gif'
          ? img.gif()
          : img.png();
  await out.toFile(file);
}

/** A binary PPM (P6) from RGB bytes. */
export function writePpm(file: string, w: number, h: number, rgb: number[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    Buffer.concat([Buffer.from(`P6\n# made by a test\n${w} ${h}\n255\n`), Buffer.from(rgb)]),
  );
}

/** Class i has colour (10 i, 100, 200) so a pixel tells its class. */
export const colourOf = (i: number): [number, number, number] => [10 * i, 100, 200];

/** root/<class>/<k>.png for classes named '0','1','2','10' (string order: 0, 1, 10, 2), n images each. */
export async function makeClassTree(
  root: string,
  n = 3,
  names = ['0', '1', '2', '10'],
): Promise<void> {
  for (const name of names) {
    for (let k = 0; k < n; k++)
      await writeSolid(path.join(root, name, `img${k}.png`), colourOf(Number(name)));
  }
  fs.writeFileSync(path.join(root, '0', '.DS_Store'), 'junk');
  fs.writeFileSync(path.join(root, '1', 'notes.csv'), 'a,b\n');
}
