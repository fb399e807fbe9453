import { GraftError } from '../errors';

/** Any JSON value, as parsed from model.json or graft.json. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses JSON text, turning a syntax error into MODEL_MALFORMED that names the file and the
 * position, so a truncated download reads as what it is.
 */
export function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new GraftError('MODEL_MALFORMED', `Not valid JSON: ${detail}`, {
      where,
      hint: 'The file may be truncated or not a model.json; re-export or re-download it.',
      cause,
    });
  }
}

/**
 * Typed reads of a JSON object with errors that say which key of which thing was wrong:
 * `MODEL_MALFORMED ... (layer "Conv1" (Conv2D) config.kernel_size)`.
 */
export class JsonReader {
  constructor(
    readonly value: JsonObject,
    /** Where the object is, e.g. `model.json layer "Conv1" (Conv2D) config`. */
    readonly where: string,
  ) {}

  static of(value: JsonValue | undefined, where: string): JsonReader {
    if (!isJsonObject(value)) {
      throw new GraftError('MODEL_MALFORMED', `Expected an object, got ${describe(value)}`, {
        where,
      });
    }
    return new JsonReader(value, where);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  raw(key: string): JsonValue | undefined {
    return this.value[key];
  }

  object(key: string): JsonReader {
    return JsonReader.of(this.value[key], this.at(key));
  }

  optionalObject(key: string): JsonReader | undefined {
    return this.has(key) ? this.object(key) : undefined;
  }

  array(key: string): JsonValue[] {
    const v = this.value[key];
    if (!Array.isArray(v)) throw this.bad(key, 'an array', v);
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.missing(key);
    }
    if (typeof v !== 'string') throw this.bad(key, 'a string', v);
    return v;
  }

  number(key: string, fallback?: number): number {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.missing(key);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.bad(key, 'a number', v);
    return v;
  }

  /** A number that may be null (Keras writes `max_value: null`). */
  optionalNumber(key: string): number | undefined {
    return this.has(key) ? this.number(key) : undefined;
  }

  boolean(key: string, fallback?: boolean): boolean {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.missing(key);
    }
    if (typeof v !== 'boolean') throw this.bad(key, 'true or false', v);
    return v;
  }

  /** Keras's int-or-tuple arguments (`kernel_size: 3` or `[3, 3]`) as a pair. */
  intPair(key: string, fallback?: number): [number, number] {
    const v = this.value[key];
    if ((v === undefined || v === null) && fallback !== undefined) return [fallback, fallback];
    if (isPositiveInt(v)) return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every(isPositiveInt)) {
      return [v[0] as number, v[1] as number];
    }
    if (v === undefined || v === null) throw this.missing(key);
    throw this.bad(key, 'a positive integer or a pair of them', v);
  }

  /** A list of integers (shapes), where `null` stands for an unknown size. */
  shape(key: string): (number | null)[] {
    const v = this.array(key);
    if (!v.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d)))) {
      throw this.bad(key, 'a list of integers or nulls', v);
    }
    return v as (number | null)[];
  }

  at(key: string): string {
    return `${this.where}.${key}`;
  }

  missing(key: string): GraftError {
    return new GraftError('MODEL_MALFORMED', `Missing "${key}"`, { where: this.at(key) });
  }

  bad(key: string, expected: string, got: unknown): GraftError {
    return new GraftError('MODEL_MALFORMED', `Expected ${expected}, got ${describe(got)}`, {
      where: this.at(key),
    });
  }
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** A short rendering of a JSON value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
