import { describe, expect, it, vi } from 'vitest';
import { EXIT_CODES, watchInterrupts } from './interrupts';

describe('watchInterrupts', () => {
  it('records the first signal, exits at once on the second, and lets go when disposed', () => {
    const seen: string[] = [];
    const before = process.listenerCount('SIGINT');
    const watch = watchInterrupts((s) => seen.push(s));
    expect(watch.signal).toBeUndefined();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(watch.signal).toBe('SIGTERM');
      expect(seen).toEqual(['SIGTERM']);
      expect(exit).not.toHaveBeenCalled();
      process.emit('SIGINT', 'SIGINT');
      expect(exit).toHaveBeenCalledWith(EXIT_CODES.SIGINT);
      expect(watch.signal).toBe('SIGTERM');
    } finally {
      exit.mockRestore();
      watch.dispose();
    }
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(EXIT_CODES).toMatchObject({ SIGINT: 130, SIGTERM: 143 });
  });
});
