// Runs in Chromium: initialise graft's runtime the way a bundled web app would, then train a
// few steps of a small convnet whose backward pass needs every graft training kernel.
import { initBackend, mobileNetV2 } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

declare global {
  interface Window {
    __graftResult?: unknown;
  }
}

async function run(): Promise<unknown> {
  const info = await initBackend({
    wasmPaths: new URL('wasm/', location.href).href,
    fallback: false,
  });
  const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
  const headW = tf.variable(
    tf.randomNormal([net.outputShape[2] as number, 1], 0, 0.05, 'float32', 2),
  );
  const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 3);
  const y = tf.tensor2d([[1], [0], [1], [0]]);
  const optimizer = tf.train.adam(3e-3);
  const variables = [...net.params.filter((p) => p.trainable).map((p) => p.variable), headW];
  const losses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const loss = optimizer.minimize(
      () => {
        const f = tf.mean(net.apply(x, { training: true }), [1, 2]);
        return tf.losses.sigmoidCrossEntropy(y, tf.matMul(f, headW)) as tf.Scalar;
      },
      true,
      variables,
    ) as tf.Scalar;
    losses.push((await loss.data())[0] as number);
    loss.dispose();
  }
  return {
    info,
    losses,
    backend: tf.getBackend(),
    crossOriginIsolated: self.crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    multithreadFlag: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    isNodeFlag: tf.env().get('IS_NODE'),
  };
}

run().then(
  (r) => {
    window.__graftResult = r;
  },
  (e: unknown) => {
    window.__graftResult = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  },
);
