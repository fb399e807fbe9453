/** An RGB colour, each channel in [0, 1]. */
export type Rgb = readonly [number, number, number];

/**
 * A tiny software rasteriser for the synthetic generators: filled rectangles, ellipses,
 * octagons and polygons into an HWC float image, plus an `owner` plane recording which object
 * drew each pixel last. The owner plane is what turns occlusion into honest labels: an object
 * counts as present only if enough of it is still visible after everything in front of it is
 * drawn. No anti-aliasing: speed matters more here (thousands of images per second).
 * A pixel is covered when its centre lies inside the shape.
 */
export class Raster {
  readonly data: Float32Array;
  readonly owner: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
    this.owner = new Uint8Array(width * height);
  }

  /** Forgets owners before the next image (every generator paints a full background first). */
  clear(): void {
    this.owner.fill(0);
  }

  setPixel(x: number, y: number, c: Rgb, id: number): void {
    const p = y * this.width + x;
    const d = this.data;
    const i = p * 3;
    d[i] = c[0];
    d[i + 1] = c[1];
    d[i + 2] = c[2];
    this.owner[p] = id;
  }

  /** Fills pixels whose centres lie in [x0, x1) x [y0, y1). */
  fillRect(x0: number, y0: number, x1: number, y1: number, c: Rgb, id = 0): void {
    const xa = Math.max(0, Math.ceil(x0 - 0.5));
    const xb = Math.min(this.width, Math.ceil(x1 - 0.5));
    const ya = Math.max(0, Math.ceil(y0 - 0.5));
    const yb = Math.min(this.height, Math.ceil(y1 - 0.5));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.setPixel(x, y, c, id);
  }

  fillEllipse(cx: number, cy: number, rx: number, ry: number, c: Rgb, id = 0): void {
    const ya = Math.max(0, Math.ceil(cy - ry - 0.5));
    const yb = Math.min(this.height, Math.ceil(cy + ry - 0.5));
    for (let y = ya; y < yb; y++) {
      const dy = (y + 0.5 - cy) / ry;
      const half = rx * Math.sqrt(Math.max(0, 1 - dy * dy));
      this.fillRow(y, cx - half, cx + half, c, id);
    }
  }

  /** A regular octagon with apothem `a` (centre to edge), edges axis-aligned: a stop sign. */
  fillOctagon(cx: number, cy: number, a: number, c: Rgb, id = 0): void {
    const ya = Math.max(0, Math.ceil(cy - a - 0.5));
    const yb = Math.min(this.height, Math.ceil(cy + a - 0.5));
    const diagonal = a * Math.SQRT2;
    for (let y = ya; y < yb; y++) {
      const half = Math.min(a, diagonal - Math.abs(y + 0.5 - cy));
      this.fillRow(y, cx - half, cx + half, c, id);
    }
  }

  /** A convex polygon given as [x0, y0, x1, y1, ...], filled by scanning rows. */
  fillConvex(points: readonly number[], c: Rgb, id = 0): void {
    const n = points.length >> 1;
    let top = Number.POSITIVE_INFINITY;
    let bottom = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const y = points[2 * i + 1] as number;
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
    const ya = Math.max(0, Math.ceil(top - 0.5));
    const yb = Math.min(this.height, Math.ceil(bottom - 0.5));
    for (let y = ya; y < yb; y++) {
      const yc = y + 0.5;
      let left = Number.POSITIVE_INFINITY;
      let right = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const ax = points[2 * i] as number;
        const ay = points[2 * i + 1] as number;
        const bx = points[(2 * i + 2) % (2 * n)] as number;
        const by = points[(2 * i + 3) % (2 * n)] as number;
        if ((ay <= yc && by > yc) || (by <= yc && ay > yc)) {
          const x = ax + ((yc - ay) / (by - ay)) * (bx - ax);
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
      if (left < right) this.fillRow(y, left, right, c, id);
    }
  }

  /** Fills row y between x-centres in [x0, x1). */
  fillRow(y: number, x0: number, x1: number, c: Rgb, id = 0): void {
    const xa = Math.max(0, Math.ceil(x0 - 0.5));
    const xb = Math.min(this.width, Math.ceil(x1 - 0.5));
    for (let x = xa; x < xb; x++) this.setPixel(x, y, c, id);
  }

  /** How many pixels `id` owns inside the box (clipped to the image). */
  countOwned(id: number, x0: number, y0: number, x1: number, y1: number): number {
    const xa = Math.max(0, Math.floor(x0));
    const xb = Math.min(this.width, Math.ceil(x1) + 1);
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(this.height, Math.ceil(y1) + 1);
    let n = 0;
    for (let y = ya; y < yb; y++) {
      const row = y * this.width;
      for (let x = xa; x < xb; x++) if (this.owner[row + x] === id) n++;
    }
    return n;
  }
}
