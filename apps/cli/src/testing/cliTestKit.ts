import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';

/** The built CLI the end-to-end tests drive (`npx turbo run build --filter=@graft/cli...`). */
export const GRAFT_BIN = resolve(__dirname, '../../dist/bin.js');

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `graft <args>` in `cwd` as a subprocess; a non-zero exit is an outcome, not an error. */
export function runGraft(args: string[], cwd: string, timeout = 60_000): Promise<CliOutcome> {
  return new Promise((done) => {
    execFile('node', [GRAFT_BIN, ...args], { cwd, timeout }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/**
 * `count` small PNGs in `dir/img` and `dir/labels.csv` for them: a red and a blue tint
 * (multi-label; some cells '?' or empty = missing), a shape class, and a size value ('NA' =
 * missing). Learnable from the tint in a few steps, so tests can stay short.
 */
export function writeLabelledPngs(dir: string, count: number): void {
  mkdirSync(join(dir, 'img'), { recursive: true });
  const rows = ['image,red,blue,shape,size'];
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: 24, height: 24 });
    const red = i % 2;
    const blue = (i >> 1) % 2;
    for (let p = 0; p < 24 * 24; p++) {
      png.data[p * 4] = red ? 220 : 20;
      png.data[p * 4 + 1] = (p * 7 + i) % 255;
      png.data[p * 4 + 2] = blue ? 220 : 20;
      png.data[p * 4 + 3] = 255;
    }
    writeFileSync(join(dir, 'img', `${i}.png`), PNG.sync.write(png));
    const redCell = i % 5 === 0 ? '?' : String(red);
    const blueCell = i % 7 === 0 ? '' : String(blue);
    const size = i % 3 === 0 ? 'NA' : (i / count).toFixed(2);
    rows.push(`img/${i}.png,${redCell},${blueCell},${i % 2 ? 'square' : 'round'},${size}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
}
