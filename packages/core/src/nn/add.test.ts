import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import type { GraftError } from '../errors';
import { Add } from './add';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('Add', () => {
  it('sums two or more same-shaped inputs', () => {
    const add = new Add({ name: 'block_2_add' });
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.tensor2d([10, 20, 30, 40], [2, 2]);
    expect(Array.from(add.apply([a, b], { training: false }).dataSync())).toEqual([11, 22, 33, 44]);
    expect(Array.from(add.apply([a, b, a], { training: false }).dataSync())).toEqual([
      12, 24, 36, 48,
    ]);
    expect(add.outputShape([[2], [2]])).toEqual([2]);
    tf.dispose([a, b]);
  });

  it('refuses to broadcast: mismatched shapes are a SHAPE_MISMATCH naming the layer', () => {
    const add = new Add({ name: 'block_2_add' });
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([2, 1]);
    try {
      add.apply([a, b], { training: false });
      expect.unreachable();
    } catch (e) {
      expect((e as GraftError).code).toBe('SHAPE_MISMATCH');
      expect((e as GraftError).message).toContain('block_2_add');
    }
    expect(() => add.apply([a], { training: false })).toThrow(/at least two inputs/);
    tf.dispose([a, b]);
  });
});
