import * as tf from '@tensorflow/tfjs-core';

/**
 * Maximum over height and width, `[batch, h, w, c] -> [batch, c]`, with the gradient going to
 * every position that holds the maximum (as `tf.max`'s).
 *
 * Why not `tf.max`: its gradient compares the input with the broadcast maximum (`Equal`), and
 * tfjs-backend-wasm runs broadcasting comparisons on a slow generic path: 84 ms for a
 * [32, 32, 32, 16] batch on this machine. Here the mask is 1 - sign(max - x), built from a
 * broadcasting subtraction (fast) and elementwise ops: 3.4 ms, identical values.
 */
export const globalMaxPool: (x: tf.Tensor) => tf.Tensor = tf.customGrad(
  // tfjs types the arguments as (Tensor | GradSaveFunc)[]: the input, then `save`.
  ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const [batch, , , channels] = x.shape as [number, number, number, number];
    const max = tf.max(x, [1, 2], true);
    save([x, max]);
    return {
      value: tf.reshape(max, [batch, channels]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [input, top] = saved as [tf.Tensor, tf.Tensor];
        const atMax = tf.sub(1, tf.sign(tf.sub(top, input)));
        return tf.mul(atMax, tf.reshape(dy, [batch, 1, 1, channels]));
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
) as (x: tf.Tensor) => tf.Tensor;

/** Mean over height and width, `[batch, h, w, c] -> [batch, c]`. */
export function globalAveragePool(x: tf.Tensor): tf.Tensor {
  return tf.mean(x, [1, 2]);
}
