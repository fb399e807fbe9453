import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './apiDocs';
import { type DocExample, docExampleProblems } from './docExamples';

const root = repoRoot(fileURLToPath(import.meta.url));
const packages = ['core', 'datasets', 'heads', 'freeze'] as const;

// Two probes ride along with the real examples (one compile): the misuse must be the only
// problem reported, which shows the check can fail and that the real examples pass.
const probe = (code: string): DocExample => ({ pkg: 'heads', name: 'probe', file: '-', code });
const wrong = probe("const presence = multiLabel({ label: ['car'] }); // should be 'labels'");
const right = probe("const presence = multiLabel({ labels: ['car'], hidden: [8] });");

describe('doc comment examples', () => {
  it('type-check against the packages they document (free names taken as any)', () => {
    const problems = docExampleProblems(root, packages, { extra: [wrong, right] });
    const real = problems
      .filter((p) => p.example.name !== 'probe')
      .map((p) => `${p.example.pkg} ${p.example.name} (${p.example.file}): ${p.message}`);
    expect(real).toEqual([]);
    const probes = problems.filter((p) => p.example.name === 'probe');
    expect(probes.map((p) => p.example.code)).toEqual([wrong.code]);
    expect(probes[0]?.message).toMatch(
      /TS2561 .*'label' does not exist in type 'MultiLabelOptions'/,
    );
  });
});
