import { describe, expect, it } from 'vitest';
import { asGraftLine, main } from './main';

describe('graft command line', () => {
  it('rejects a non-numeric step count before doing any work', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => {
      errors.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    const exit = process.exit;
    process.exit = ((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as typeof process.exit;
    try {
      await expect(main(['node', 'graft', 'demo', '--epochs', 'many'])).rejects.toThrow(/exit 1/);
    } finally {
      process.stderr.write = write;
      process.exit = exit;
    }
    expect(errors.join('')).toMatch(
      /^graft: option '--epochs <n>' argument 'many' is invalid\. epochs must be a positive integer\n$/,
    );
  });

  it("words commander's errors as one graft line", () => {
    expect(asGraftLine("error: unknown command 'trian'\n(Did you mean train?)\n")).toBe(
      "graft: unknown command 'trian' (did you mean train?)\n",
    );
    expect(asGraftLine("error: missing required argument 'config'\n")).toBe(
      "graft: missing required argument 'config'\n",
    );
  });
});
