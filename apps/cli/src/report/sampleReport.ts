import type { RunReport } from './runReport';

/** A small but complete report, for tests and for previewing the page's layout. */
export function sampleReport(): RunReport {
  const history = [0, 1, 2].flatMap((epoch) =>
    ['total', 'presence', 'lightColour'].flatMap((task) =>
      (['train', 'validation'] as const).map((split) => ({
        epoch,
        split,
        task,
        loss: 1 / (epoch + 1) + (split === 'validation' ? 0.1 : 0) + task.length / 100,
      })),
    ),
  );
  return {
    title: 'graft run: sample',
    createdAt: '2026-01-01T00:00:00.000Z',
    environment: { backend: 'wasm', simd: true, threads: 1 },
    history,
    notes: ['ruleOfThumb -> lastBlocks(2): small data'],
    tasks: [
      {
        kind: 'multiLabel',
        name: 'presence',
        perLabel: ['pedestrian', 'car', 'stopSign', 'trafficLight'].map((label, i) => ({
          label,
          precision: 0.8 - i * 0.1,
          recall: 0.7,
          f1: 0.72,
          auc: 0.9,
          ap: 0.85 - i * 0.05,
          threshold: 0.4,
        })),
        mAP: 0.775,
        meanF1: 0.72,
      },
      {
        kind: 'classification',
        name: 'lightColour',
        classes: ['red', 'amber', 'green'],
        accuracy: 0.8,
        macroF1: 0.78,
        confusion: [
          [8, 1, 1],
          [1, 7, 2],
          [0, 1, 9],
        ],
      },
      { kind: 'regression', name: 'carCount', mae: 0.41, rmse: 0.6, r2: 0.72 },
    ],
    freezePlan: [
      { block: 'stem', params: 464, trainable: false, lrScale: 0, reason: 'frozen' },
      { block: 'head:presence', params: 5124, trainable: true, lrScale: 1, reason: 'head' },
    ],
    comparison: {
      title: 'Freeze policies',
      columns: ['policy', 'mAP', 'seconds'],
      rows: [
        ['headsOnly', 0.61, 12.5],
        ['all', 0.7, 40.1],
      ],
    },
  };
}
