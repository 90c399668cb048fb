import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const ciRun = fs.readFileSync(path.join(root, '.ci/run'), 'utf8');
const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The lines of the first ```sh block under "## Quick start". */
function quickStart(): string[] {
  const section = readme.split(/^## Quick start$/m)[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  return (block?.[1] ?? '').split('\n').filter((l) => l.trim() !== '');
}

describe('README', () => {
  test('GIVEN the quick start WHEN read THEN it is exactly two lines: synth, then every test', () => {
    const lines = quickStart();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/npm run synth$/);
    expect(lines[1]).toMatch(/npm test$/);
  });

  test('GIVEN .ci/run WHEN read THEN it runs the README test command verbatim', () => {
    const testLine = quickStart()[1];
    expect(ciRun.split('\n').map((l) => l.trim())).toContain(testLine);
  });

  test('GIVEN every `npm run X` in README and docs WHEN checked THEN package.json defines X', () => {
    const docs = [readme, ...listMarkdown(path.join(root, 'docs')).map((f) => fs.readFileSync(f, 'utf8'))].join('\n');
    const named = new Set([...docs.matchAll(/npm run ([a-z][a-z0-9:-]*)/g)].map((m) => m[1]));
    expect([...named].filter((n) => scripts[n] === undefined)).toEqual([]);
  });
});

function listMarkdown(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'readme-parts' ? [] : listMarkdown(p);
    return e.name.endsWith('.md') ? [p] : [];
  });
}
