/**
 * The program each WASM pthread worker runs in Node (passed to `new Worker(source, {eval:
 * true})`, so there is no file to ship or resolve from an installed package).
 *
 * tfjs-backend-wasm 4.22 hands Emscripten two things a Node worker cannot load as they are:
 * the pthread worker script as a `blob:` URL (Node's `Worker` takes paths, `file:` and
 * `data:` URLs) and, in the worker's first `load` message, the main script as a `Blob` that
 * the worker turns into an object URL for `importScripts`, which in Node reads a *file*.
 * Emscripten's worker script already has a Node branch; this bootstrap only bridges those
 * two hand-overs:
 *
 * 1. reads the worker script from the `Blob` the main thread put in `workerData`, and runs
 *    it with a `require` whose `fs.readFileSync` also serves in-memory scripts and whose
 *    `worker_threads.parentPort` is a relay this bootstrap controls;
 * 2. defines, as worker globals, the names the threaded factory borrows from the tfjs
 *    bundle around it (`require$$N` module handles, `commonjsGlobal`, three TypeScript
 *    helpers), since `Function.prototype.toString` carried only the factory over;
 * 3. relays messages in order, but reads a `load` message's main-script `Blob` first
 *    (asynchronously; later messages wait) and swaps it for an in-memory script name.
 *
 * Plain JavaScript that runs as CommonJS or as an ES module; no TypeScript helpers may leak
 * in, so it is kept as a string.
 */
export const NODE_THREADS_WORKER_SOURCE = String.raw`'use strict';
// Node runs eval'd worker code as CommonJS, or as an ES module when the process was started
// with --input-type=module (workers inherit execArgv): no require in that case, and in the
// other an eval'd worker's require is a global that Emscripten's worker script overwrites
// (with requireForEmscripten below). Dynamic import works in both.
import('node:module')
  .then(({ createRequire }) => start(createRequire(process.execPath)))
  .catch((error) => {
    // Surfaces as the Worker's 'error' event on the main thread.
    setImmediate(() => {
      throw error;
    });
  });

function start(nodeRequire) {
  const workerThreads = nodeRequire('node:worker_threads');
  const fs = nodeRequire('node:fs');
  const vm = nodeRequire('node:vm');
  const { EventEmitter } = nodeRequire('node:events');
  const { parentPort, workerData } = workerThreads;

  const MAIN_SCRIPT = 'graft:tfjs-backend-wasm-threaded-simd.js';
  const WORKER_SCRIPT = 'graft:tfjs-backend-wasm-threaded-simd.worker.js';

  // Names the factory's source refers to at the tfjs bundle's top level.
  for (const [name, id] of Object.entries(workerData.requireMap)) globalThis[name] = nodeRequire(id);
  globalThis.commonjsGlobal = globalThis;
  // Equivalents of the TypeScript down-level helpers the factory calls (iterate, take n
  // items of an iterable, concatenate).
  globalThis.__values = function (o) {
    const iterate = typeof Symbol === 'function' && o != null ? o[Symbol.iterator] : undefined;
    if (iterate) return iterate.call(o);
    let i = 0;
    return { next: () => ({ value: o && o[i++], done: !o || i > o.length }) };
  };
  globalThis.__read = function (o, n) {
    const iterate = typeof Symbol === 'function' && o != null ? o[Symbol.iterator] : undefined;
    if (!iterate) return o;
    const it = iterate.call(o);
    const out = [];
    let step;
    try {
      while ((n === undefined || n-- > 0) && !(step = it.next()).done) out.push(step.value);
    } finally {
      if (step && !step.done && typeof it.return === 'function') it.return();
    }
    return out;
  };
  globalThis.__spreadArray = function (to, from) {
    return to.concat(Array.prototype.slice.call(from));
  };

  const scripts = new Map();
  const relay = new EventEmitter();
  relay.postMessage = (message, transfer) => parentPort.postMessage(message, transfer);
  const fsForEmscripten = Object.assign({}, fs, {
    readFileSync(file, options) {
      return scripts.has(file) ? scripts.get(file) : fs.readFileSync(file, options);
    },
  });
  const workerThreadsForEmscripten = Object.assign({}, workerThreads, { parentPort: relay });
  function requireForEmscripten(id) {
    if (id === 'worker_threads' || id === 'node:worker_threads') return workerThreadsForEmscripten;
    if (id === 'fs' || id === 'node:fs') return fsForEmscripten;
    return nodeRequire(id);
  }

  const queue = [];
  let reading = false;
  function deliver() {
    while (queue.length > 0 && !reading) {
      const data = queue.shift();
      if (data && data.cmd === 'load' && data.urlOrBlob instanceof Blob) {
        reading = true;
        data.urlOrBlob.text().then((text) => {
          scripts.set(MAIN_SCRIPT, text);
          data.urlOrBlob = MAIN_SCRIPT;
          reading = false;
          relay.emit('message', data);
          deliver();
        }, (error) => {
          // Surfaces as the Worker's 'error' event on the main thread.
          setImmediate(() => { throw error; });
        });
        return;
      }
      relay.emit('message', data);
    }
  }

  // parentPort queues messages until a 'message' listener is attached, so nothing is lost
  // while the worker script is read.
  workerData.workerScript.text().then((source) => {
    const run = vm.runInThisContext(
      '(function (require, __filename, __dirname) {' + source + '\n})',
      { filename: WORKER_SCRIPT },
    );
    run(requireForEmscripten, WORKER_SCRIPT, '.');
    parentPort.on('message', (data) => {
      queue.push(data);
      deliver();
    });
  }, (error) => {
    setImmediate(() => { throw error; });
  });
}
`;
