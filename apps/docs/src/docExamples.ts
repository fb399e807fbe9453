// Type-checks the `@example` blocks of graft's public exports against the packages' built
// declarations, so that an example calling an option or a function that does not exist fails
// a test instead of misleading a reader. Examples are fragments: the names they take for
// granted (`model`, `trunk`, `data`, ...) are declared `any`, every export of the four
// packages is imported (the example's own package first, when two export the same name),
// and the code runs inside an async function (so `await` works and local names may shadow
// imports).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface DocExample {
  pkg: string;
  /** The export (for a method: `Class.method`). */
  name: string;
  /** Source file of the declaration, relative to the repository. */
  file: string;
  code: string;
}

export interface DocExampleProblem {
  example: DocExample;
  /** TypeScript's message, e.g. `TS2561 Object literal may only specify known properties…`. */
  message: string;
}

/** Diagnostics that mean "this name is not declared": such names become `any`. */
const FREE_NAME_CODES = new Set([2304, 2552, 2580, 2593, 18004]);
/** Consequences of `any` free names and of fragments, not mistakes in the example. */
const IGNORED_CODES = new Set([6133, 6196, 7005, 7006, 7031, 7034, 18046]);

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
};

/**
 * The `@example` code of every export (and of the public methods of exported classes) of
 * `<root>/packages/<pkg>/src/index.ts`, with the export names of each package.
 *
 * @example
 * ```ts
 * const { examples } = collectDocExamples('/work/main', ['freeze']);
 * examples.map((e) => e.name); // ['FreezableModel', 'layerOf', ...]
 * ```
 */
export function collectDocExamples(
  root: string,
  packages: readonly string[],
): { examples: DocExample[]; exportsOf: Record<string, string[]> } {
  const examples: DocExample[] = [];
  const exportsOf: Record<string, string[]> = {};
  const seen = new Set<string>();
  for (const pkg of packages) {
    const entry = join(root, 'packages', pkg, 'src/index.ts');
    const program = ts.createProgram([entry], { ...compilerOptions, types: [] });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry}`);
    exportsOf[pkg] = [];
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      exportsOf[pkg].push(exported.name);
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls: { name: string; node: ts.Node }[] = [];
      for (const d of symbol.declarations ?? []) {
        if (d.getSourceFile().fileName.includes('node_modules')) continue;
        const host =
          ts.isVariableDeclaration(d) && ts.isVariableDeclarationList(d.parent)
            ? d.parent.parent
            : d;
        decls.push({ name: exported.name, node: host });
        if (ts.isClassDeclaration(d)) {
          for (const m of d.members) {
            if (ts.isMethodDeclaration(m) && ts.isIdentifier(m.name)) {
              decls.push({ name: `${exported.name}.${m.name.text}`, node: m });
            }
          }
        }
      }
      for (const { name, node } of decls) {
        for (const doc of ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc)) {
          for (const tag of doc.tags ?? []) {
            if (tag.tagName.text !== 'example') continue;
            const text = ts.getTextOfJSDocComment(tag.comment) ?? '';
            const code = text
              .replace(/^\s*```(ts|typescript)?\s*\n?/, '')
              .replace(/\n?```\s*$/, '');
            const key = `${pkg}\n${name}\n${code}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const file = relative(root, node.getSourceFile().fileName);
            examples.push({ pkg, name, file, code });
          }
        }
      }
    }
  }
  return { examples, exportsOf };
}

/**
 * Type-checks each example as described above (plus `options.extra`) and returns what
 * TypeScript objects to.
 *
 * @example
 * ```ts
 * const problems = docExampleProblems('/work/main', ['core', 'datasets', 'heads', 'freeze']);
 * for (const p of problems) console.log(`${p.example.pkg} ${p.example.name}: ${p.message}`);
 * ```
 */
export function docExampleProblems(
  root: string,
  packages: readonly string[],
  options: { extra?: readonly DocExample[] } = {},
): DocExampleProblem[] {
  for (const pkg of packages) {
    // Examples are checked against what a user installs: the built declarations.
    if (!existsSync(join(root, 'packages', pkg, 'dist/index.d.ts'))) {
      throw new Error(`@graft/${pkg} is not built (no dist/index.d.ts): run npm run build`);
    }
  }
  const collected = collectDocExamples(root, packages);
  const { exportsOf } = collected;
  const examples = [...collected.examples, ...(options.extra ?? [])];
  const dir = join(root, 'apps/docs/.doc-examples');
  // One file per package (its own exports win name clashes), one async function per example:
  // a handful of files type-check far faster than one per example.
  const files = new Map<string, { examples: DocExample[]; free: Set<string>; starts: number[] }>();
  for (const example of examples) {
    const file = join(dir, `${example.pkg}.ts`);
    const entry = files.get(file) ?? { examples: [], free: new Set<string>(), starts: [] };
    entry.examples.push(example);
    files.set(file, entry);
  }
  const text = (file: string): string => {
    const entry = files.get(file) as {
      examples: DocExample[];
      free: Set<string>;
      starts: number[];
    };
    const pkg = entry.examples[0]?.pkg ?? '';
    const imported = new Set(['tf', 'readFile', 'writeFile']);
    const lines = [
      "import * as tf from '@tensorflow/tfjs-core';",
      "import { readFile, writeFile } from 'node:fs/promises';",
    ];
    for (const p of [pkg, ...packages.filter((q) => q !== pkg)]) {
      const names = (exportsOf[p] ?? []).filter((n) => !imported.has(n));
      for (const n of names) imported.add(n);
      if (names.length > 0) lines.push(`import { ${names.join(', ')} } from '@graft/${p}';`);
    }
    for (const n of entry.free) lines.push(`declare const ${n}: any;`);
    entry.starts = [];
    entry.examples.forEach((example, i) => {
      entry.starts.push(lines.length);
      lines.push(`export async function example${i}() {`);
      // Imports inside an example are there for the reader; the preamble has them all.
      for (const l of example.code.split('\n')) if (!/^\s*import\s/.test(l)) lines.push(l);
      lines.push('}');
    });
    return `${lines.join('\n')}\n`;
  };
  const exampleAt = (entry: { examples: DocExample[]; starts: number[] }, line: number) => {
    let i = 0;
    while (i + 1 < entry.starts.length && (entry.starts[i + 1] as number) <= line) i++;
    return entry.examples[i] as DocExample;
  };
  let problems: DocExampleProblem[] = [];
  // Each pass declares the free names the previous one found; a few passes settle it.
  for (let pass = 0; pass < 5; pass++) {
    const base = ts.createCompilerHost(compilerOptions);
    const host: ts.CompilerHost = {
      ...base,
      fileExists: (f) => files.has(f) || base.fileExists(f),
      readFile: (f) => (files.has(f) ? text(f) : base.readFile(f)),
      getSourceFile: (f, language) =>
        files.has(f)
          ? ts.createSourceFile(f, text(f), language, true)
          : base.getSourceFile(f, language),
    };
    const program = ts.createProgram([...files.keys()], compilerOptions, host);
    problems = [];
    let declared = 0;
    for (const [file, entry] of files) {
      const source = program.getSourceFile(file);
      const diagnostics = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ];
      for (const d of diagnostics) {
        const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
        if (FREE_NAME_CODES.has(d.code)) {
          const name = /(?:name|property) '([^']+)'/.exec(message)?.[1];
          if (name && !entry.free.has(name)) {
            entry.free.add(name);
            declared++;
            continue;
          }
        }
        if (IGNORED_CODES.has(d.code)) continue;
        const line =
          d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
        problems.push({ example: exampleAt(entry, line), message: `TS${d.code} ${message}` });
      }
    }
    if (declared === 0) break;
  }
  return problems;
}
