import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { createParam } from './param';
import { assertUniqueParamNames, countParams, findParam, trainableVariables } from './paramList';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('createParam', () => {
  it('wraps the initial value in a variable and releases the temporaries', () => {
    const before = tf.memory().numTensors;
    const p = createParam({ name: 'dense/kernel', block: 'head', kind: 'kernel' }, () =>
      tf.mul(tf.ones([2, 3]), 2),
    );
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(p.variable.dataSync())).toEqual([2, 2, 2, 2, 2, 2]);
    expect(p).toMatchObject({
      name: 'dense/kernel',
      block: 'head',
      kind: 'kernel',
      trainable: true,
    });
    p.variable.dispose();
  });

  it('keeps trainable and variable.trainable in step, so tf optimizers agree with graft', () => {
    const p = createParam({ name: 'c/kernel', block: 'b', kind: 'kernel' }, () => tf.zeros([1]));
    p.trainable = false;
    expect(p.variable.trainable).toBe(false);
    expect(trainableVariables([p])).toEqual([]);
    p.variable.trainable = true;
    expect(p.trainable).toBe(true);
    expect(trainableVariables([p])).toEqual([p.variable]);
    p.variable.dispose();
  });

  it('never lets moving statistics become trainable', () => {
    const p = createParam({ name: 'bn/moving_mean', block: 'b', kind: 'movingMean' }, () =>
      tf.zeros([1]),
    );
    expect(p.trainable).toBe(false);
    expect(() => {
      p.trainable = true;
    }).toThrow(GraftError);
    expect(() =>
      createParam(
        { name: 'bn/moving_variance', block: 'b', kind: 'movingVariance', trainable: true },
        () => tf.ones([1]),
      ),
    ).toThrow(/moving statistic cannot be trainable/);
    p.variable.dispose();
  });
});

describe('parameter lists', () => {
  const make = (name: string) =>
    createParam({ name, block: 'b', kind: 'bias' }, () => tf.zeros([3]));

  it('rejects duplicate names with PARAM_DUPLICATE', () => {
    const a = make('conv/bias');
    const b = make('conv/bias');
    const err = (() => {
      try {
        assertUniqueParamNames([a, b], 'test model');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(GraftError);
    expect((err as GraftError).code).toBe('PARAM_DUPLICATE');
    expect((err as GraftError).message).toContain('"conv/bias" (test model)');
    a.variable.dispose();
    b.variable.dispose();
  });

  it('finds by name, or says PARAM_NOT_FOUND with names that exist', () => {
    const a = make('conv/bias');
    expect(findParam([a], 'conv/bias', 'm')).toBe(a);
    expect(countParams([a])).toBe(3);
    try {
      findParam([a], 'conv/kernel', 'm');
      expect.unreachable();
    } catch (e) {
      expect((e as GraftError).code).toBe('PARAM_NOT_FOUND');
      expect((e as GraftError).message).toContain('conv/bias');
    }
    a.variable.dispose();
  });
});
