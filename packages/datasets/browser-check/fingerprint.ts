import type { IndexedDataset } from '../src/index';

/** FNV-1a over every input byte of a dataset: equal fingerprints mean byte-identical images. */
export async function fingerprint(ds: IndexedDataset): Promise<string> {
  let h = 0x811c9dc5;
  for (let i = 0; i < ds.size; i++) {
    const { data } = (await ds.get(i)).input;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
