// Which public exports of graft's packages lack a doc comment with an `@example` block. Read
// from the TypeScript sources with the compiler API (the same sources TypeDoc renders into the
// API pages), so that the rule "every public export has a doc comment with an example" is a
// test that lists offenders instead of a wish.
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export interface UndocumentedExport {
  /** Package folder name under packages/ (`core`, `datasets`, ...). */
  pkg: string;
  /** The exported name (for a method: `Class.method`). */
  name: string;
  /** Source file of the declaration, relative to the package. */
  file: string;
  /** What is missing: the whole doc comment, or its `@example` block. */
  missing: 'comment' | 'example';
}

export interface ApiDocsOptions {
  /**
   * Also check the public methods of exported classes: all of them (`true`) or of the named
   * classes only. Default `false`.
   */
  methods?: boolean | readonly string[];
}

/**
 * Lists the exports of `<root>/packages/<pkg>/src/index.ts` (for each package in `packages`)
 * whose declaration has no doc comment, or one without an `@example` block.
 *
 * @example
 * ```ts
 * const offenders = undocumentedExports('/work/main', ['heads']);
 * for (const o of offenders) console.log(`${o.pkg}: ${o.name} (${o.missing})`);
 * ```
 */
export function undocumentedExports(
  root: string,
  packages: readonly string[],
  options: ApiDocsOptions = {},
): UndocumentedExport[] {
  const out: UndocumentedExport[] = [];
  for (const pkg of packages) {
    const pkgDir = join(root, 'packages', pkg);
    const entry = join(pkgDir, 'src/index.ts');
    const program = ts.createProgram([entry], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      allowJs: false,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry}`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls = (symbol.declarations ?? []).filter(
        (d) => !d.getSourceFile().fileName.includes('node_modules'),
      );
      // Re-exports of third-party symbols are documented upstream.
      if (decls.length === 0) continue;
      const file = relative(pkgDir, decls[0]?.getSourceFile().fileName ?? '');
      const missing = missingDocs(decls);
      if (missing) out.push({ pkg, name: exported.name, file, missing });
      const methods = options.methods;
      const checkMethods = Array.isArray(methods) ? methods.includes(exported.name) : methods;
      if (checkMethods && symbol.flags & ts.SymbolFlags.Class) {
        for (const m of publicMethods(decls)) {
          const miss = missingDocs([m.decl]);
          if (miss) out.push({ pkg, name: `${exported.name}.${m.name}`, file, missing: miss });
        }
      }
    }
  }
  return out;
}

/** The doc comment's state over all declarations of one symbol (overloads, merged). */
function missingDocs(decls: readonly ts.Declaration[]): UndocumentedExport['missing'] | undefined {
  let comment = false;
  for (const d of decls) {
    const docs = ts.getJSDocCommentsAndTags(docHost(d)).filter(ts.isJSDoc);
    if (docs.length === 0) continue;
    comment = true;
    if (docs.some((doc) => (doc.tags ?? []).some((t) => t.tagName.text === 'example'))) {
      return undefined;
    }
  }
  return comment ? 'example' : 'comment';
}

/** A `const` export's doc comment sits on its statement, not on the variable declaration. */
function docHost(d: ts.Declaration): ts.Node {
  if (ts.isVariableDeclaration(d) && ts.isVariableDeclarationList(d.parent)) {
    return d.parent.parent;
  }
  return d;
}

function publicMethods(decls: readonly ts.Declaration[]) {
  const out: { name: string; decl: ts.Declaration }[] = [];
  for (const d of decls) {
    if (!ts.isClassDeclaration(d)) continue;
    for (const m of d.members) {
      if (!ts.isMethodDeclaration(m) || !m.name || !ts.isIdentifier(m.name)) continue;
      const flags = ts.getCombinedModifierFlags(m);
      if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      if (m.name.text.startsWith('_')) continue;
      out.push({ name: m.name.text, decl: m });
    }
  }
  return out;
}

/**
 * The names `<root>/packages/<pkg>/src/index.ts` exports, per package.
 *
 * @example
 * ```ts
 * exportedNames('/work/main', ['freeze']).freeze?.includes('ruleOfThumb'); // true
 * ```
 */
export function exportedNames(root: string, packages: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const pkg of packages) {
    const entry = join(root, 'packages', pkg, 'src/index.ts');
    const program = ts.createProgram([entry], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry}`);
    out[pkg] = checker.getExportsOfModule(moduleSymbol).map((s) => s.name);
  }
  return out;
}

/** The repository root, from this file's location (apps/docs/src). */
export function repoRoot(from: string): string {
  return join(dirname(from), '../../..');
}
