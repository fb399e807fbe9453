import { decodeTrainingState, encodeTrainingState, type TrainingState } from '@graft/core';
import { describe, expect, it } from 'vitest';
import { checkpointReplicas, recordReplicas } from './checkpoints';

/** The smallest state encodeTrainingState takes: no parameters, one task, nothing trained. */
function state(callbacks?: TrainingState['callbacks']): TrainingState {
  return {
    version: 1,
    globalStep: 0,
    cursor: {
      epoch: 0,
      batch: 0,
      scheduleStep: 0,
      totalLoss: 0,
      lossSums: [0],
      counts: [0],
      learningRate: Number.NaN,
      history: [],
    },
    params: new Map(),
    optimizer: { updates: 0, slots: new Map() },
    ...(callbacks ? { callbacks } : {}),
  };
}

describe('the replica count in a checkpoint', () => {
  it('is read back from checkpoint.bin as recordReplicas saved it', () => {
    const record = recordReplicas(3);
    const saved = new Map([[record.stateKey as string, record.saveState?.() ?? {}]]);
    const bytes = encodeTrainingState(state(saved));
    expect(checkpointReplicas(decodeTrainingState(bytes))).toBe(3);
  });

  it('is 1 for a checkpoint written before it was recorded', () => {
    expect(checkpointReplicas(decodeTrainingState(encodeTrainingState(state())))).toBe(1);
    const other = new Map([['earlyStopping', { data: { best: 1 } }]]);
    expect(checkpointReplicas(decodeTrainingState(encodeTrainingState(state(other))))).toBe(1);
  });
});
