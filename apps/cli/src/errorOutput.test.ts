import { GraftError } from '@graft/core';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { errorOutput, isVerbose, withoutVerbose } from './errorOutput';

describe('errorOutput', () => {
  const user = new GraftError('DATASET_FILE_NOT_FOUND', 'The dataset path does not exist: x', {
    where: 'data.path',
    hint: 'Paths in a config are relative to the config file.',
    cause: new Error('ENOENT: no such file'),
  });

  it('prints a GraftError as one line, with no stack', () => {
    const out = errorOutput(user, { verbose: false });
    expect(out).toBe(
      'graft: The dataset path does not exist: x (data.path). Paths in a config are relative to the config file.',
    );
  });

  it("prints a bad option value (commander's InvalidArgumentError from an action) as one line", () => {
    const out = errorOutput(
      new InvalidArgumentError('--split must be test, validation, train or all'),
      {
        verbose: false,
      },
    );
    expect(out).toBe('graft: --split must be test, validation, train or all');
  });

  it('calls anything else a bug, in one line, pointing at --verbose', () => {
    const out = errorOutput(
      new TypeError("Cannot read properties of undefined (reading 'x')\nmore"),
      {
        verbose: false,
      },
    );
    expect(out.split('\n')).toHaveLength(1);
    expect(out).toMatch(
      /^graft: unexpected error: Cannot read properties of undefined \(reading 'x'\) \[a bug in graft: run again with --verbose/,
    );
    expect(errorOutput('a thrown string', { verbose: false })).toMatch(
      /^graft: unexpected error: a thrown string \[/,
    );
  });

  it('adds the stack and every cause when verbose', () => {
    const lines = errorOutput(user, { verbose: true }).split('\n');
    expect(lines[0]).toMatch(/^graft: The dataset path does not exist/);
    expect(lines[1]).toMatch(/^GraftError: /);
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(true);
    expect(lines.some((l) => l === 'caused by: Error: ENOENT: no such file')).toBe(true);
  });
});

describe('isVerbose / withoutVerbose', () => {
  const argv = ['node', 'graft', 'train', 'a.yaml'];
  it('reads --verbose (before --), GRAFT_DEBUG and DEBUG', () => {
    expect(isVerbose(argv, {})).toBe(false);
    expect(isVerbose([...argv, '--verbose'], {})).toBe(true);
    expect(isVerbose([...argv, '--', '--verbose'], {})).toBe(false);
    expect(isVerbose(argv, { GRAFT_DEBUG: '1' })).toBe(true);
    expect(isVerbose(argv, { GRAFT_DEBUG: '0' })).toBe(false);
    expect(isVerbose(argv, { DEBUG: 'express,graft' })).toBe(true);
    expect(isVerbose(argv, { DEBUG: '*' })).toBe(true);
    expect(isVerbose(argv, { DEBUG: 'graftish' })).toBe(false);
  });
  it('takes --verbose out of the arguments a command sees', () => {
    expect(withoutVerbose(['node', 'graft', '--verbose', 'train', 'a.yaml'])).toEqual(argv);
    expect(withoutVerbose([...argv, '--', '--verbose'])).toEqual([...argv, '--', '--verbose']);
  });
});
