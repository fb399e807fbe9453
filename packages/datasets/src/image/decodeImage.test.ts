import { isGraftError } from '@graft/errors';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { jpegBytes, pngBytes } from '../testing/fixtures';
import { decodeImage, imageFormat } from './decodeImage';

const gradient = (x: number, y: number): [number, number, number] => [x * 30, y * 40, 200];

describe('decodeImage', () => {
  it('decodes PNG exactly into HWC floats in [0, 1], RGB or grey', async () => {
    const bytes = pngBytes(5, 4, gradient);
    expect(imageFormat(bytes)).toBe('png');
    const rgb = await decodeImage(bytes);
    expect(rgb.shape).toEqual([4, 5, 3]);
    expect(rgb.data[(2 * 5 + 3) * 3]).toBeCloseTo(90 / 255, 6);
    expect(rgb.data[(2 * 5 + 3) * 3 + 1]).toBeCloseTo(80 / 255, 6);
    expect(rgb.data[(2 * 5 + 3) * 3 + 2]).toBeCloseTo(200 / 255, 6);
    const grey = await decodeImage(bytes, { channels: 1 });
    expect(grey.shape).toEqual([4, 5, 1]);
    expect(grey.data[2 * 5 + 3]).toBeCloseTo((0.299 * 90 + 0.587 * 80 + 0.114 * 200) / 255, 5);
  });

  it('decodes grey and 16-bit PNGs (expanded by pngjs) and JPEG within compression error', async () => {
    const png = new PNG({
      width: 3,
      height: 2,
      colorType: 0,
      inputColorType: 0,
      inputHasAlpha: false,
      bitDepth: 16,
    });
    const grey = PNG.sync.write(
      Object.assign(png, {
        data: Buffer.from(new Uint16Array([0, 30000, 65535, 0, 30000, 65535]).buffer),
      }),
      { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 16 },
    );
    const g = await decodeImage(grey);
    expect(g.shape).toEqual([2, 3, 3]);
    expect(g.data[6]).toBeCloseTo(1, 2);
    const smooth = (x: number, y: number): [number, number, number] => [x * 15, y * 15, 200];
    const j = await decodeImage(jpegBytes(16, 16, smooth));
    expect(imageFormat(jpegBytes(2, 2, gradient))).toBe('jpeg');
    expect(j.shape).toEqual([16, 16, 3]);
    // pixel (x 5, y 3) was (75, 45, 200); JPEG at quality 95 keeps it within a few levels
    const at = (3 * 16 + 5) * 3;
    expect(Math.abs((j.data[at] as number) * 255 - 75)).toBeLessThan(8);
    expect(Math.abs((j.data[at + 1] as number) * 255 - 45)).toBeLessThan(8);
    expect(Math.abs((j.data[at + 2] as number) * 255 - 200)).toBeLessThan(8);
  });

  it('names the image when bytes are not an image or are truncated', async () => {
    for (const bytes of [
      new TextEncoder().encode('hello, not a picture'),
      pngBytes(8, 8, gradient).subarray(0, 60),
    ]) {
      try {
        await decodeImage(bytes, { where: 'pics/x.png' });
        expect.unreachable();
      } catch (e) {
        expect(isGraftError(e, 'DATASET_IMAGE_CORRUPT')).toBe(true);
        expect((e as Error).message).toContain('(pics/x.png)');
      }
    }
  });
});
