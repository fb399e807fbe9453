import { afterAll, beforeAll, describe } from 'vitest';
import { type NativeMemoryMode, setNativeMemoryMode } from '../../native/nativeKernels';

/**
 * Runs a block of kernel tests once per way graft's native kernels reach tensors (see
 * NativeKernels): zero-copy (in place in tfjs's heap, Node's default) and own memory (copied
 * in and out; tfjs's threaded build), so that both stay correct.
 */
export function forEachMemoryMode(body: (mode: NativeMemoryMode) => void): void {
  describe.each([
    ['zero-copy', 'auto'],
    ['own memory', 'own'],
  ] as const)('%s', (_name, mode) => {
    beforeAll(() => setNativeMemoryMode(mode));
    afterAll(() => setNativeMemoryMode('auto'));
    body(mode);
  });
}
