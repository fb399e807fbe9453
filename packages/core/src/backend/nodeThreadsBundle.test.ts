import { describe, expect, it } from 'vitest';
import { checkWasmNodeBundle, readWasmNodeBundle } from './nodeThreadsBundle';

describe('checkWasmNodeBundle', () => {
  it('accepts the installed tfjs-backend-wasm Node bundle and maps its module handles', async () => {
    const check = checkWasmNodeBundle(await readWasmNodeBundle());
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(Object.values(check.requireMap)).toContain('os');
    expect(Object.values(check.requireMap)).toContain('fs');
  });

  // A small stand-in with the same landmarks as the real bundle, broken one way per case.
  const bundle = (factory: string, header = "var require$$4 = require('os');\n") =>
    `${header}function __values(o) {}\nfunction __awaiter(a) {}\n` +
    'var tfjsBackendWasmThreadedSimd$1 = { exports: {} };\n' +
    factory +
    '\n}(tfjsBackendWasmThreadedSimd$1));\n';
  const good =
    'worker = new Worker(pthreadMainJs); __values(x);\n' +
    'function _emscripten_num_logical_cores() { if (ENVIRONMENT_IS_NODE)\n' +
    '  return require$$4.cpus().length; return navigator["hardwareConcurrency"]; }';

  it('accepts the stand-in as is', () => {
    expect(checkWasmNodeBundle(bundle(good))).toEqual({
      ok: true,
      requireMap: { require$$4: 'os' },
    });
  });

  it('reports a bundle without the threaded factory', () => {
    const check = checkWasmNodeBundle("var require$$0 = require('fs');\n");
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/factory was not found/) });
  });

  it('reports pthread workers created another way', () => {
    const check = checkWasmNodeBundle(bundle(good.replace('new Worker(pthreadMainJs)', 'x()')));
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/pthread workers/) });
  });

  it('reports a core count read other than through os.cpus()', () => {
    const check = checkWasmNodeBundle(bundle(good, "var require$$4 = require('fs');\n"));
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/counts cores/) });
  });

  it('reports module handles the bundle does not declare', () => {
    const check = checkWasmNodeBundle(bundle(`${good}\nrequire$$7.x();`));
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/require\$\$7/) });
  });

  it('reports bundle helpers the worker does not define, and ignores property calls', () => {
    expect(checkWasmNodeBundle(bundle(`${good}\nobj.__awaiter(1);`)).ok).toBe(true);
    const check = checkWasmNodeBundle(bundle(`${good}\n__awaiter(1);`));
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/__awaiter/) });
  });
});
