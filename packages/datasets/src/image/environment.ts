/**
 * True in Node (and Node-like runtimes), false in browsers and workers. Decides between
 * the file system plus pure-JS decoders and fetch plus the platform's own image decoding.
 */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}
