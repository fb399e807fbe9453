import { BatchNorm, Block, type BlockNetwork, blockNetwork, Conv2D, ReLU } from '@graft/core';

/**
 * Test-only: a four-block CNN trunk (3x3 conv stride 2, BN, ReLU per block; 16-32-64-64
 * channels) built from core's layers. At 64x64 input the blocks give 32, 16, 8 and 4 pixel
 * grids. Batch norm momentum 0.9 rather than Keras's 0.99: validation runs after the first
 * 64 steps, and by then 0.99 would leave the moving statistics mostly at their initial values.
 */
export function smallCnn(options: { size: number; seed: number }): BlockNetwork {
  const { size, seed } = options;
  const block = (name: string, inputChannels: number, filters: number) =>
    new Block({
      name,
      stride: 2,
      layers: [
        new Conv2D({
          name: `${name}_conv`,
          block: name,
          inputChannels,
          filters,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          useBias: false,
          seed,
        }),
        new BatchNorm({ name: `${name}_bn`, block: name, channels: filters, momentum: 0.9 }),
        new ReLU({ name: `${name}_relu` }),
      ],
    });
  return blockNetwork({
    inputShape: [size, size, 3],
    description: 'smallCnn',
    blocks: [
      block('stem', 3, 16),
      block('block_1', 16, 32),
      block('block_2', 32, 64),
      block('block_3', 64, 64),
    ],
  });
}
