import { type GraftError, type GraftErrorCode, isGraftError } from '@graft/errors';

/**
 * One example `skipInvalid` left out: where, the error code, and why.
 *
 * @example
 * ```ts
 * const data = await imageFolder('photos', { skipInvalid: true });
 * for (const s of data.skipped.examples) console.log(s.where, s.code, s.reason);
 * ```
 */
export interface SkippedExample {
  /** File, row and column, as the error named them. */
  where: string;
  code: GraftErrorCode;
  reason: string;
}

/**
 * What `skipInvalid` left out, and why.
 *
 * @example
 * ```ts
 * const { skipped, byCode }: SkipReport = (await imageFolder('photos', { skipInvalid: true })).skipped;
 * byCode.DATASET_IMAGE_CORRUPT; // e.g. 2
 * ```
 */
export interface SkipReport {
  skipped: number;
  /** Error code -> how many examples it removed. */
  byCode: Partial<Record<GraftErrorCode, number>>;
  examples: SkippedExample[];
}

export function emptySkipReport(): SkipReport {
  return { skipped: 0, byCode: {}, examples: [] };
}

/**
 * Runs `read`; with `skipInvalid`, a GraftError is recorded in `report` and undefined is
 * returned instead of the error being thrown. Other errors (bugs) always propagate.
 */
export async function orSkip<T>(
  skipInvalid: boolean,
  report: SkipReport,
  read: () => T | Promise<T>,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!skipInvalid || !isGraftError(e)) throw e;
    recordSkip(report, e);
    return undefined;
  }
}

/** Adds one left-out example to the report. */
export function recordSkip(report: SkipReport, e: GraftError): void {
  report.skipped++;
  report.byCode[e.code] = (report.byCode[e.code] ?? 0) + 1;
  report.examples.push({ where: e.where ?? '', code: e.code, reason: e.message });
}

/**
 * One line for people: "3 examples skipped: 2 DATASET_IMAGE_CORRUPT, 1 DATASET_LABEL_UNKNOWN".
 *
 * @example
 * ```ts
 * describeSkips(data.skipped); // '3 examples skipped: 2 DATASET_IMAGE_CORRUPT, 1 DATASET_LABEL_UNKNOWN'
 * ```
 */
export function describeSkips(report: SkipReport): string {
  if (report.skipped === 0) return 'no examples skipped';
  const parts = Object.entries(report.byCode).map(([code, n]) => `${n} ${code}`);
  return `${report.skipped} example${report.skipped === 1 ? '' : 's'} skipped: ${parts.join(', ')}`;
}
