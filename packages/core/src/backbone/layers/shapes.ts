import { GraftError } from '../../errors';
import type { Shape } from '../../nn/module';

/** Batched images [batch, height, width, channels], whatever the channel count. */
export function assertImageRank(shape: readonly number[], where: string): void {
  if (shape.length !== 4) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `Expected a batch of images [batch, height, width, channels], got [${shape.join(', ')}]`,
      { where },
    );
  }
}

/** Number of values in one example of this shape. */
export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}
