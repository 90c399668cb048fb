import * as fs from 'fs';
import * as path from 'path';
import { synthesize } from '../cfn/build';
import { exportsTable } from '../tools/review/exportsTable';
import { EXPORTS_MARKER, readmeWithExports } from '../tools/review/docs';
import { deploymentWaves } from '../cfn/lib/graph';
import { ROOT_TEMPLATE_NAME } from '../cfn/contract/layout';

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const ciRun = fs.readFileSync(path.join(root, '.ci/run'), 'utf8');
const templates = synthesize();
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

describe('README architecture', () => {
  const waves = deploymentWaves(templates.get(ROOT_TEMPLATE_NAME) ?? {});

  test('GIVEN the wave table WHEN compared with the root template THEN it lists exactly the waves synth derives', () => {
    const rows = [...readme.matchAll(/^\| (\d+) \| ([A-Za-z, ]+) \| /gm)].map((m) => [Number(m[1]), m[2].split(', ').sort()]);
    expect(rows).toEqual(waves.map((w, i) => [i + 1, [...w].sort()]));
  });

  test('GIVEN the architecture drawing WHEN read THEN each unit sits in the wave synth derives for it', () => {
    const drawing = /^TapStack \(root;[\s\S]*?^```$/m.exec(readme)?.[0] ?? '';
    const byWave = drawing.split(/^[├└]─ wave /m).slice(1).map((part) => [...part.matchAll(/^(?:\d+ ── |│ {12})([A-Z][A-Za-z]+) ─/gm)].map((m) => m[1]).sort());
    expect(byWave).toEqual(waves.map((w) => [...w].sort()));
  });
});

describe('README exports table', () => {
  test('GIVEN the templates WHEN the exports table is regenerated THEN the README holds exactly it', () => {
    const start = readme.indexOf(EXPORTS_MARKER);
    expect(start).toBeGreaterThanOrEqual(0);
    const table = exportsTable(templates);
    expect(readme.slice(start + EXPORTS_MARKER.length, start + EXPORTS_MARKER.length + table.length)).toBe(table);
    expect(readmeWithExports(readme, templates)).toBe(readme);
  });

  test('GIVEN a README whose table is stale WHEN synth regenerates it THEN only the table changes', () => {
    const stale = readme.replace(/^\| `tap-\$\{EnvironmentSuffix\}-DatabaseSecurityGroupId` .*\n/m, '| old | row | - | gone |\n| another | stale | - | row |\n');
    expect(stale).not.toBe(readme);
    expect(readmeWithExports(stale, templates)).toBe(readme);
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
