import { Dense, initBackend, type MobileNetV2, mobileNetV2, type Param } from '@graft/core';
import { isGraftError } from '@graft/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FreezableModel } from './freezableModel';
import type { FreezePlan } from './freezePlan';
import {
  all,
  blocks,
  bnOnly,
  discriminative,
  fineTune,
  gradual,
  headsOnly,
  lastBlocks,
  ruleOfThumb,
} from './index';

let trunk: MobileNetV2;
let head: Param[];
let model: FreezableModel;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  trunk = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
  head = new Dense({
    name: 'car',
    block: 'head:car',
    inputUnits: 1280,
    units: 1,
    seed: 2,
  }).params();
  model = { params: [...trunk.params, ...head], blocks: trunk.blocks };
});
afterAll(() => trunk.dispose());

const trainableNames = (plan: FreezePlan) =>
  [...plan.params].filter(([, d]) => d.trainable).map(([n]) => n);
const blocksOf = (plan: FreezePlan) => [
  ...new Set(model.params.filter((p) => plan.params.get(p.name)?.trainable).map((p) => p.block)),
];

function expectEveryParamOnce(plan: FreezePlan) {
  const rows = plan.explain();
  const listed = rows.flatMap((r) => r.paramNames);
  expect(listed.length).toBe(model.params.length);
  expect(new Set(listed)).toEqual(new Set(model.params.map((p) => p.name)));
  const total = model.params.reduce((s, p) => s + p.variable.size, 0);
  expect(rows.reduce((s, r) => s + r.params, 0)).toBe(total);
}

describe('freezing policies', () => {
  it('all() trains every weight; moving statistics follow the batch; BN in train mode', () => {
    const plan = all().plan(model);
    for (const p of model.params) {
      const moving = p.kind === 'movingMean' || p.kind === 'movingVariance';
      expect(plan.params.get(p.name)).toMatchObject({
        trainable: !moving,
        lrScale: moving ? 0 : 1,
      });
    }
    expect([...plan.batchNorm.values()].every((m) => m === 'train')).toBe(true);
    expect(plan.batchNorm.size).toBe(52);
    expectEveryParamOnce(plan);
  });

  it('headsOnly() trains the head alone and keeps every BN layer in inference mode', () => {
    const plan = headsOnly().plan(model);
    expect(trainableNames(plan)).toEqual(['car/kernel', 'car/bias']);
    expect([...plan.batchNorm.values()].every((m) => m === 'inference')).toBe(true);
    expectEveryParamOnce(plan);
  });

  it('lastBlocks(2) opens the last two trunk blocks and the head; BN modes follow', () => {
    const plan = lastBlocks(2).plan(model);
    expect(blocksOf(plan)).toEqual(['block_16', 'conv_head', 'head:car']);
    expect(plan.batchNorm.get('Conv_1_bn')).toBe('train');
    expect(plan.batchNorm.get('block_16_project_BN')).toBe('train');
    expect(plan.batchNorm.get('block_15_project_BN')).toBe('inference');
    expectEveryParamOnce(plan);
  });

  it('bnOnly() trains gamma and beta of the trunk plus the head', () => {
    const plan = bnOnly().plan(model);
    const kinds = new Set(
      model.params
        .filter((p) => plan.params.get(p.name)?.trainable && !p.block.startsWith('head'))
        .map((p) => p.kind),
    );
    expect(kinds).toEqual(new Set(['gamma', 'beta']));
    expect(plan.params.get('car/kernel')?.trainable).toBe(true);
    expectEveryParamOnce(plan);
  });

  it('discriminative() decays the rate geometrically from the last block down', () => {
    const plan = discriminative({ decay: 0.5 }).plan(model);
    const lr = (name: string) => plan.params.get(name)?.lrScale;
    expect(lr('car/kernel')).toBe(1);
    expect(lr('Conv_1/kernel')).toBe(1);
    expect(lr('block_16_project/kernel')).toBe(0.5);
    expect(lr('block_15_project/kernel')).toBe(0.25);
    expect(lr('Conv1/kernel')).toBeCloseTo(0.5 ** (trunk.blocks.length - 1), 12);
    expectEveryParamOnce(plan);
  });

  it('gradual() unfreezes one more block on exactly the stated epochs', () => {
    const plan = gradual({ every: 2 }).plan(model);
    expect(plan.changesAt.slice(0, 3)).toEqual([2, 4, 6]);
    expect(blocksOf(plan.at(0))).toEqual(['head:car']);
    expect(blocksOf(plan.at(1))).toEqual(['head:car']);
    expect(blocksOf(plan.at(2))).toEqual(['conv_head', 'head:car']);
    expect(blocksOf(plan.at(3))).toEqual(['conv_head', 'head:car']);
    expect(blocksOf(plan.at(4))).toEqual(['block_16', 'conv_head', 'head:car']);
    expect(blocksOf(plan.at(1000)).length).toBe(trunk.blocks.length + 1);
    expectEveryParamOnce(plan);
  });

  it('fineTune() warms up the heads, then fine-tunes everything at decayed rates', () => {
    const plan = fineTune({ warmupEpochs: 2, decay: 0.8 }).plan(model);
    expect(trainableNames(plan.at(1))).toEqual(['car/kernel', 'car/bias']);
    const later = plan.at(2);
    expect(later.params.get('Conv1/kernel')?.trainable).toBe(true);
    expect(later.params.get('block_16_project/kernel')?.lrScale).toBeCloseTo(0.8, 12);
    expect(plan.explain()[0]?.reason).toMatch(/then epoch 2: discriminative/);
  });

  it('ruleOfThumb() picks by data size relative to the trunk and says why', () => {
    const pick = (labelled: number, similar?: boolean) =>
      ruleOfThumb(
        similar === undefined ? { labelled } : { labelled, similarToPretraining: similar },
      ).plan(model);
    expect(pick(50).policy).toBe('ruleOfThumb -> headsOnly');
    expect(pick(200).policy).toBe('ruleOfThumb -> lastBlocks(2)');
    expect(pick(2000).policy).toBe('ruleOfThumb -> fineTune(warm-up 1)');
    expect(pick(20000).policy).toBe('ruleOfThumb -> all');
    // Tasks unlike the pre-training: everything from DISSIMILAR_RETRAIN_ALL images on, one
    // step more below it.
    expect(pick(200, false).policy).toBe('ruleOfThumb -> all');
    expect(pick(50, false).policy).toBe('ruleOfThumb -> all');
    expect(pick(49, false).policy).toBe('ruleOfThumb -> lastBlocks(2)');
    expect(pick(50, false).explain()[0]?.reason).toMatch(
      /unlike the pre-training task and 50 >= 50 labelled images: retrain everything/,
    );
    const row = pick(200).explain()[0];
    expect(row?.reason).toMatch(/200 labelled images for a 0\.41M-parameter trunk .* small data/);
    const multi = ruleOfThumb({ labelled: { car: 2000, light: 100 } }).plan(model);
    expect(multi.explain()[0]?.reason).toMatch(/scarcest task has only 100 labels/);
    expectEveryParamOnce(pick(2000));
  });
});

describe('freezing policies: bad input', () => {
  it('lastBlocks(n) with more blocks than the trunk has', () => {
    try {
      lastBlocks(99).plan(model);
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'FREEZE_BAD_BLOCK_COUNT')).toBe(true);
      expect((e as Error).message).toMatch(/lastBlocks\(99\).*19 blocks: stem, block_0/);
    }
  });

  it('a block that does not exist, with near names suggested', () => {
    try {
      blocks(['block_99']).plan(model);
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'FREEZE_UNKNOWN_BLOCK')).toBe(true);
      expect((e as Error).message).toMatch(/No trunk block named "block_99".*Blocks are: block_/);
    }
  });

  it('a plan that trains nothing', () => {
    const headless: FreezableModel = { params: trunk.params, blocks: trunk.blocks };
    expect(() => headsOnly().plan(headless)).toThrow(/headsOnly leaves no parameter trainable/);
  });
});
