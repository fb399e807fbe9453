import { describe, expect, it } from 'vitest';
import { GraftError, isGraftError } from './graftError';

describe('GraftError', () => {
  it('reads "what (where). hint" and keeps the code, where, hint and cause', () => {
    const cause = new Error('ENOENT');
    const e = new GraftError('INVALID_ARGUMENT', 'Batch size must be positive', {
      where: 'config.batch',
      hint: 'Use 16.',
      cause,
    });
    expect(e.message).toBe('Batch size must be positive (config.batch). Use 16.');
    expect(e).toMatchObject({
      name: 'GraftError',
      code: 'INVALID_ARGUMENT',
      where: 'config.batch',
    });
    expect(e.cause).toBe(cause);
    expect(isGraftError(e)).toBe(true);
    expect(isGraftError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect(isGraftError(e, 'NAN_LOSS')).toBe(false);
    expect(isGraftError(new Error('x'))).toBe(false);
  });

  it('omits the parts that are not given', () => {
    expect(new GraftError('NAN_LOSS', 'Loss is NaN').message).toBe('Loss is NaN.');
  });
});
