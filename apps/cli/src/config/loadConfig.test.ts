import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGraftError } from '@graft/core';
import { drivingSceneTasks } from '@graft/datasets';
import { describe, expect, it } from 'vitest';
import { applyOverrides, loadConfig, validateConfig } from './loadConfig';
import { STARTER_CONFIG } from './starterConfig';

const dir = mkdtempSync(join(tmpdir(), 'graft-config-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const minimal = {
  data: { adapter: 'manifest', path: 'labels.csv' },
  tasks: { car: { kind: 'multiLabel', labels: ['car'] } },
};

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('train config', () => {
  it('fills every default into a minimal config', () => {
    const c = validateConfig(minimal, 'x.yaml');
    expect(c.freeze).toBe('ruleOfThumb');
    expect(c.backbone).toEqual({ source: 'shipped', alpha: 0.35, inputSize: 64 });
    expect(c.data).toEqual({
      adapter: 'manifest',
      path: 'labels.csv',
      imageColumn: 'image',
      missing: ['', '?', 'NA', 'null'],
      skipInvalid: false,
    });
    expect(c.tasks.car).toMatchObject({ head: { hidden: [], dropout: 0 } });
  });

  it('the starter config that `graft init` writes is valid as written', async () => {
    const c = await loadConfig(write('starter.yaml', STARTER_CONFIG));
    expect(Object.keys(c.tasks)).toEqual(['presence', 'lightColour', 'carCount']);
    expect(c.data.adapter).toBe('drivingScenes');
    // ...and trains as is: its tasks name the generated scenes' labels, in their order.
    expect(c.tasks.presence).toMatchObject({ labels: [...drivingSceneTasks.presence.labels] });
    expect(c.tasks.lightColour).toMatchObject({
      classes: [...drivingSceneTasks.lightColour.classes],
    });
    expect(c.tasks.carCount).toMatchObject({ kind: 'regression', outputs: 1 });
  });

  it('points at the bad key, with what was expected', async () => {
    const bad = { ...minimal, tasks: { car: { kind: 'multilabel', labels: ['car'] } } };
    const e = await errorOf(loadConfig(write('bad.json', JSON.stringify(bad))));
    expect(isGraftError(e, 'CONFIG_INVALID')).toBe(true);
    expect(e.message).toMatch(/^Invalid config: tasks\.car\.kind: .*multiLabel.*\(.*bad\.json\)/);
  });

  it('names an unknown key (a typo is not silently ignored)', () => {
    expect(() => validateConfig({ ...minimal, epoch: 3 }, 'c.yaml')).toThrow(/unknown key "epoch"/);
    expect(() => validateConfig({ ...minimal, optimizer: { lr: 1 } }, 'c.yaml')).toThrow(
      /optimizer: unknown key "lr"/,
    );
  });

  it('reports YAML syntax errors with file, line and column', async () => {
    const e = await errorOf(loadConfig(write('broken.yaml', 'seed: 1\ntasks: [unclosed\n')));
    expect(e.message).toMatch(/not valid YAML.*broken\.yaml:\d+:\d+/);
  });

  it('says when the file cannot be read', async () => {
    const e = await errorOf(loadConfig(join(dir, 'nope.yaml')));
    expect(e.message).toMatch(/Cannot read the config file \(.*nope\.yaml\)/);
  });

  it('applies --set overrides with typed values before validating', async () => {
    const path = write('o.json', JSON.stringify(minimal));
    const c = await loadConfig(path, [
      'epochs=3',
      'optimizer.learningRate=0.01',
      'augment.flip=true',
    ]);
    expect([c.epochs, c.optimizer.learningRate, c.augment.flip]).toEqual([3, 0.01, true]);
    expect(() => applyOverrides({ seed: 1 }, ['seed.x=1'])).toThrow(/"seed" is not an object/);
    const e = await errorOf(loadConfig(path, ['epochs=-1']));
    expect(e.message).toMatch(/epochs: /);
    // A value YAML cannot parse is named as such, not validated as what YAML salvaged.
    expect(() => applyOverrides({}, ['tasks.car.labels=[car'])).toThrow(
      /^Override "tasks\.car\.labels=\[car": the value is not valid YAML \(.+[^:]\) \(--set\)\. Quote/,
    );
  });

  it('says where a file is not valid YAML or JSON, in one line', async () => {
    const e = await errorOf(loadConfig(write('broken.json', '{"data": {"adapter": "manifest",}')));
    expect(e.message).toMatch(/^Config is not valid JSON: .*[^:] \(.*broken\.json:\d+:\d+\)\.$/);
    expect(e.message.split('\n')).toHaveLength(1);
  });
});
