import { readFile } from 'node:fs/promises';
import { GraftError } from '@graft/core';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type TrainConfig, trainConfigSchema } from './trainConfig';

/** `a.b[2].c` from a zod issue path. */
function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

/** The first problem of a failed parse, as one line naming the key. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.length > 0 ? keyPath(issue.path) : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return `${at === '(top level)' ? '' : `${at}: `}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${at}: ${issue.message}`;
}

/** Validates a parsed config object; on failure a CONFIG_INVALID error names the key. */
export function validateConfig(raw: unknown, source: string): TrainConfig {
  const parsed = trainConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const first = describeIssue(issues[0] as z.core.$ZodIssue);
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})`
        : '';
    throw new GraftError('CONFIG_INVALID', `Invalid config: ${first}${more}`, {
      where: source,
      hint: 'Run `graft init` for a commented starter config.',
    });
  }
  return parsed.data;
}

/**
 * Reads a JSON or YAML config file (YAML is a superset of JSON), applies `--set` overrides,
 * and validates the result.
 */
export async function loadConfig(
  path: string,
  overrides: readonly string[] = [],
): Promise<TrainConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new GraftError('CONFIG_INVALID', 'Cannot read the config file', {
      where: path,
      hint: 'Check the path, or run `graft init` to write one.',
      cause,
    });
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e?.linePos?.[0];
    throw new GraftError(
      'CONFIG_INVALID',
      `Config is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${firstLine(e?.message)}`,
      {
        where: line ? `${path}:${line.line}:${line.col}` : path,
      },
    );
  }
  const raw = doc.toJS() as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GraftError('CONFIG_INVALID', 'Config must be a mapping of keys to values', {
      where: path,
    });
  }
  return validateConfig(applyOverrides(raw as Record<string, unknown>, overrides), path);
}

/**
 * Applies `--set key.path=value` overrides (values parsed as YAML scalars, so numbers and
 * booleans keep their type) to a raw config before validation.
 */
export function applyOverrides(
  raw: Record<string, unknown>,
  overrides: readonly string[],
): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) {
      throw new GraftError('CONFIG_INVALID', `Override "${o}" is not key=value`, {
        where: '--set',
      });
    }
    const keys = o.slice(0, eq).split('.');
    // A value YAML cannot parse would otherwise come out as whatever YAML salvaged (`[cat`
    // as ['cat']) and fail validation for a reason the user did not write.
    const parsed = parseDocument(o.slice(eq + 1));
    if (parsed.errors.length > 0) {
      throw new GraftError(
        'CONFIG_INVALID',
        `Override "${o}": the value is not valid YAML (${firstLine(parsed.errors[0]?.message)})`,
        {
          where: '--set',
          hint: "Quote the whole argument for the shell, e.g. --set 'tasks.x.labels=[a, b]'.",
        },
      );
    }
    const value = parsed.toJS();
    let node: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      if (next === undefined) node[k] = {};
      else if (typeof next !== 'object' || next === null) {
        throw new GraftError('CONFIG_INVALID', `Override "${o}": "${k}" is not an object`, {
          where: '--set',
        });
      }
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = value;
  }
  return out;
}

/** A YAML parser message's first line, without the colon that introduces its code excerpt. */
function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n')[0]?.replace(/:\s*$/, '') ?? '';
}
