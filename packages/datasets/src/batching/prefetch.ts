/**
 * Keeps up to `ahead` results of `source` requested before the consumer asks for them, so
 * that file reads and decoding overlap with training. At most `ahead + 1` items exist at
 * once, which is what bounds memory. Calls to an async generator's `next()` queue, so the
 * source still produces in order.
 */
export async function* prefetch<T>(source: AsyncIterator<T>, ahead: number): AsyncGenerator<T> {
  const pending: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (pending.length < ahead + 1) pending.push(source.next());
      const result = await (pending.shift() as Promise<IteratorResult<T>>);
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // The consumer stopped early (break) or an error was thrown: settle what was requested
    // and let the source clean up.
    await Promise.allSettled(pending);
    await source.return?.();
  }
}
