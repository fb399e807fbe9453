import { BatchNorm, Block, type BlockNetwork, blockNetwork, Conv2D, ReLU } from '@graft/core';

/**
 * Test-only: a two-block convolutional trunk on [size, size, 3] images, small enough for
 * many quick training runs. `stem` (conv stride 2, BN, ReLU) -> `block_1` (conv, BN, ReLU).
 */
export function tinyTrunk(
  options: { size?: number; seed?: number; width?: number } = {},
): BlockNetwork {
  const size = options.size ?? 8;
  const seed = options.seed ?? 1;
  const width = options.width ?? 8;
  const conv = (
    name: string,
    block: string,
    inputChannels: number,
    filters: number,
    strides: number,
  ) =>
    new Conv2D({
      name,
      block,
      inputChannels,
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      useBias: false,
      seed,
    });
  return blockNetwork({
    inputShape: [size, size, 3],
    description: 'tinyTrunk',
    blocks: [
      new Block({
        name: 'stem',
        stride: 2,
        layers: [
          conv('stem_conv', 'stem', 3, width / 2, 2),
          new BatchNorm({ name: 'stem_bn', block: 'stem', channels: width / 2 }),
          new ReLU({ name: 'stem_relu' }),
        ],
      }),
      new Block({
        name: 'block_1',
        layers: [
          conv('block_1_conv', 'block_1', width / 2, width, 1),
          new BatchNorm({ name: 'block_1_bn', block: 'block_1', channels: width }),
          new ReLU({ name: 'block_1_relu' }),
        ],
      }),
    ],
  });
}
