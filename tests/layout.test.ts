/**
 * The tree shows the architecture: the README's layout table names folders that
 * exist, the name contracts import nothing, the generators never reach into the
 * tools or the program, and the program never loads the tools.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
const rel = (p: string): string => path.relative(ROOT, p).split(path.sep).join('/');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The repository files (relative, without extension resolution) that `file` imports. */
function localImports(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier !== undefined && ts.isStringLiteral(n.moduleSpecifier)) specifiers.push(n.moduleSpecifier.text);
    if (ts.isCallExpression(n) && n.expression.getText(source) === 'require' && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) specifiers.push(n.arguments[0].text);
    ts.forEachChild(n, visit);
  };
  visit(source);
  return specifiers.map((s) => (s.startsWith('.') ? rel(path.resolve(ROOT, path.dirname(file), s)) : `package:${s}`));
}

const inside = (target: string, folders: readonly string[]): boolean => folders.some((f) => target === f || target.startsWith(`${f}/`));

describe('layout', () => {
  test('GIVEN the README layout table WHEN its folders and files are read THEN each exists', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('## Quick start'));
    const named = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !fs.existsSync(path.join(ROOT, n)))).toEqual([]);
  });

  test('GIVEN cfn/contract WHEN its imports are read THEN they are Node built-ins and other contract files only (plain contracts any layer may load)', () => {
    const allowed = (i: string): boolean => ['package:crypto', 'package:path'].includes(i) || inside(i, ['cfn/contract']);
    expect(tsFiles('cfn/contract').flatMap((f) => localImports(f).filter((i) => !allowed(i)).map((i) => `${f} -> ${i}`))).toEqual([]);
  });

  test('GIVEN the generators WHEN their imports are read THEN none reaches tools/, program/, components/ or index.ts', () => {
    const offending = tsFiles('cfn').flatMap((f) => localImports(f).filter((i) => inside(i, ['tools', 'program', 'components', 'index'])).map((i) => `${f} -> ${i}`));
    expect(offending).toEqual([]);
  });

  test('GIVEN the Pulumi program WHEN its imports are read THEN none reaches tools/ or the generators in cfn/stacks', () => {
    const program = ['index.ts', ...tsFiles('program'), ...tsFiles('components')];
    const offending = program.flatMap((f) => localImports(f).filter((i) => inside(i, ['tools', 'cfn/stacks', 'cfn/build'])).map((i) => `${f} -> ${i}`));
    expect(offending).toEqual([]);
  });
});
