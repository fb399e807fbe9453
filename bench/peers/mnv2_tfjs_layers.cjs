// Peer baseline: a MobileNetV2 (alpha, size) fine-tune step with @tensorflow/tfjs-layers on a given backend.
// usage: node mnv2_tfjs_layers.cjs BACKEND [alpha=0.35] [size=96] [batch=16] [steps=3] [train|infer]
// train (default): `trainOnBatch` steps after one warm-up step. infer: `model.predict` on batch
// 1 and on `batch` (steps iterations each after a warm-up), reading the result back.
const tf = require('@tensorflow/tfjs-core');
const L = require('@tensorflow/tfjs-layers'); // its Node bundle also registers gradients
require('@tensorflow/tfjs-backend-cpu');
require('@tensorflow/tfjs-backend-wasm');
const [backend = 'cpu', alpha = 0.35, size = 96, batch = 16, steps = 3, mode = 'train'] =
  process.argv.slice(2).map((v, i) => (i === 0 || i === 5 ? v : +v));
const maxRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const mk = (v) => Math.max(8, Math.round(v / 8) * 8);
function build() {
  const inp = L.input({ shape: [size, size, 3] });
  let x = L.layers
    .conv2d({ filters: mk(32 * alpha), kernelSize: 3, strides: 2, padding: 'same', useBias: false })
    .apply(inp);
  x = L.layers.batchNormalization().apply(x);
  x = L.layers.reLU({ maxValue: 6 }).apply(x);
  let cin = mk(32 * alpha);
  const cfg = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, c, n, s] of cfg)
    for (let i = 0; i < n; i++) {
      const cout = mk(c * alpha),
        stride = i === 0 ? s : 1;
      let y = x;
      if (t !== 1) {
        y = L.layers.conv2d({ filters: cin * t, kernelSize: 1, useBias: false }).apply(y);
        y = L.layers.batchNormalization().apply(y);
        y = L.layers.reLU({ maxValue: 6 }).apply(y);
      }
      y = L.layers
        .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false })
        .apply(y);
      y = L.layers.batchNormalization().apply(y);
      y = L.layers.reLU({ maxValue: 6 }).apply(y);
      y = L.layers.conv2d({ filters: cout, kernelSize: 1, useBias: false }).apply(y);
      y = L.layers.batchNormalization().apply(y);
      if (stride === 1 && cin === cout) y = L.layers.add().apply([x, y]);
      x = y;
      cin = cout;
    }
  x = L.layers.conv2d({ filters: 1280, kernelSize: 1, useBias: false }).apply(x);
  x = L.layers.batchNormalization().apply(x);
  x = L.layers.reLU({ maxValue: 6 }).apply(x);
  x = L.layers.globalAveragePooling2d({}).apply(x);
  const out = L.layers.dense({ units: 4, activation: 'sigmoid' }).apply(x);
  return L.model({ inputs: inp, outputs: out });
}
(async () => {
  await tf.setBackend(backend);
  await tf.ready();
  const model = build();
  if (mode === 'infer') return infer(model);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  const xs = tf.randomUniform([batch, size, size, 3]),
    ys = tf.cast(tf.greater(tf.randomUniform([batch, 4]), 0.5), 'float32');
  try {
    await model.trainOnBatch(xs, ys); // warm-up
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < steps; i++) await model.trainOnBatch(xs, ys);
    const dt = (performance.now() - t) / steps / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cdt = (cpu.user + cpu.system) / 1e6 / steps;
    console.log(
      JSON.stringify({
        peer: 'tfjs-layers',
        backend,
        alpha,
        size,
        batch,
        params: model.countParams(),
        step_s: +dt.toFixed(4),
        images_per_s: +(batch / dt).toFixed(3),
        cpu_s_per_step: +cdt.toFixed(4),
        images_per_cpu_s: +(batch / cdt).toFixed(2),
        max_rss_mb: maxRssMb(),
      }),
    );
  } catch (e) {
    console.log(JSON.stringify({ peer: 'tfjs-layers', backend, error: e.message.slice(0, 120) }));
  }
})();

function infer(model) {
  const results = [];
  for (const b of [1, batch]) {
    const xs = tf.randomUniform([b, size, size, 3]);
    const run = () => {
      const y = model.predict(xs);
      y.dataSync();
      y.dispose();
    };
    run(); // warm-up
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < steps; i++) run();
    const seconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    results.push({
      batch: b,
      iterations: steps,
      ms_per_batch: +((seconds * 1000) / steps).toFixed(2),
      images_per_s: +((b * steps) / seconds).toFixed(1),
      images_per_cpu_s: +((b * steps) / cpuSeconds).toFixed(1),
    });
    xs.dispose();
  }
  console.log(
    JSON.stringify({
      peer: 'tfjs-layers',
      bench: 'mobilenetv2_inference',
      backend,
      alpha,
      size,
      results,
      max_rss_mb: maxRssMb(),
    }),
  );
}
