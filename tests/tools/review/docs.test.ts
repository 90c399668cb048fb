import * as fs from 'fs';
import * as path from 'path';
import { JsonObject } from '../../../cfn/lib/template';
import { ROOT_TEMPLATE_NAME } from '../../../cfn/stacks';
import { DOCS_DIR, reviewDocs } from '../../../tools/review/docs';
import { architectureModel, renderArchitecture, renderMermaid } from '../../../tools/review/diagram';
import { findIntrinsics } from '../../../tools/validate/json';
import { namePatternOf } from '../../../tools/validate/validateCrossStack';
import { template, templates } from '../../support/assertions';

describe('generated docs', () => {
  test.each([...reviewDocs(templates())])('GIVEN docs/%s WHEN compared with a fresh render THEN it is identical (run `npm run synth`)', (file, body) => {
    const committed = fs.readFileSync(path.join(DOCS_DIR, file), 'utf8');
    expect({ file, body: committed }).toEqual({ file, body });
  });
});

describe('architecture diagram', () => {
  const all = templates();
  const root = template(ROOT_TEMPLATE_NAME);
  const mermaid = renderMermaid(architectureModel(all), all);
  const edges = mermaid.split('\n').map((l) => l.trim());

  test.each(
    Object.entries((root.Resources ?? {}) as Record<string, JsonObject>).flatMap(([id, r]) => {
      const deps = r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? (r.DependsOn as string[]) : [r.DependsOn as string];
      return deps.map((d) => [d, id]);
    }),
  )('GIVEN %s in DependsOn of %s WHEN drawn THEN a solid arrow joins them', (from, to) => {
    expect(edges.some((e) => e === `${from} --> ${to}` || (e.startsWith(`${from} -->|`) && e.endsWith(`| ${to}`)))).toBe(true);
  });

  test.each(
    [...all].flatMap(([name, t]) =>
      findIntrinsics(t, 'Fn::ImportValue').map(({ argument }) => [name, (namePatternOf(argument) ?? '').replace('tap-${EnvironmentSuffix}-', '')]),
    ),
  )('GIVEN %s imports %s WHEN drawn THEN a dotted arrow into it carries the key', (importer, key) => {
    expect(edges.some((e) => e.includes(' -.->|"') && e.endsWith(`| ${importer}`) && e.includes(key))).toBe(true);
  });

  test('GIVEN every export WHEN the architecture is rendered THEN the exports table lists it', () => {
    const doc = renderArchitecture(all);
    const exported = [...all.values()].flatMap((t) =>
      Object.values((t.Outputs ?? {}) as Record<string, JsonObject>).flatMap((o) => (o.Export === undefined ? [] : [namePatternOf((o.Export as JsonObject).Name)])),
    );
    expect(exported.length).toBeGreaterThan(0);
    for (const name of exported) expect(doc).toContain(`| \`${name}\` |`);
  });
});
