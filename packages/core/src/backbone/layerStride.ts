import type { AnyLayer } from '../nn/module';

/** Spatial stride of one layer (strided convolutions and pooling); 1 for everything else. */
export function layerStride(layer: AnyLayer): number {
  const strides = (layer as { config?: { strides?: unknown } }).config?.strides;
  return Array.isArray(strides) && typeof strides[0] === 'number' ? strides[0] : 1;
}
