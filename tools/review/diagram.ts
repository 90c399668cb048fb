/**
 * docs/architecture.md: a Mermaid flowchart of the root's nested stacks and
 * custom resources, the order CloudFormation deploys them in, and the exports
 * that flow between them, plus the exports table. Pure: templates in, Markdown
 * out; `npm run synth` writes it and tests/tools/review/docs.test.ts fails when the
 * file is stale.
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { NESTED_STACK_TYPE, deploymentWaves, isDeploymentUnit, unitGraph } from '../../cfn/lib/graph';
import { exportNamePattern } from '../../cfn/contract/names';
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import { findIntrinsics } from '../validate/json';
import { exportSites, importersByExport } from './exportsTable';
import { templateCounts } from './summary';

export interface ExportRow {
  /** Fn::Sub pattern of the export name. */
  readonly name: string;
  /** The name without the `tap-${EnvironmentSuffix}-` prefix (the key in `Exports`, cfn/contract/names.ts). */
  readonly key: string;
  readonly exporter: string;
  readonly output: string;
  readonly importers: readonly string[];
}

export interface ArchitectureModel {
  readonly root: string;
  /** Nested stacks and custom resources of the root, by logical ID. */
  readonly units: ReadonlyArray<{ readonly id: string; readonly type: string; readonly condition?: string }>;
  /** [from, to, outputs read]: `to` waits for `from` (DependsOn, or Ref/Fn::GetAtt in the root). */
  readonly order: ReadonlyArray<readonly [string, string, readonly string[]]>;
  /** [exporter, importer, export keys]. */
  readonly imports: ReadonlyArray<readonly [string, string, readonly string[]]>;
  readonly exports: readonly ExportRow[];
}

const EXPORT_PREFIX = exportNamePattern('');

/** GetAtt targets and attribute names inside a JSON value: `Fn::GetAtt [X, Outputs.Y]` gives [X, Outputs.Y]. */
function getAtts(value: Json | undefined): Array<[string, string]> {
  return findIntrinsics(value, 'Fn::GetAtt').flatMap(({ argument }) => {
    const parts = Array.isArray(argument) ? argument : typeof argument === 'string' ? argument.split(/\.(.*)/s, 2) : [];
    return parts.length === 2 && typeof parts[0] === 'string' && typeof parts[1] === 'string' ? [[parts[0], parts[1]] as [string, string]] : [];
  });
}

export function architectureModel(templates: ReadonlyMap<string, JsonObject>, rootName: string = ROOT_TEMPLATE_NAME): ArchitectureModel {
  const root = templates.get(rootName);
  if (root === undefined) throw new Error(`diagram: no root template named ${rootName}`);
  const resources = (root.Resources ?? {}) as Record<string, JsonObject>;
  const units = Object.entries(resources)
    .filter(([, r]) => isDeploymentUnit(String(r.Type)))
    .map(([id, r]) => ({ id, type: String(r.Type), ...(typeof r.Condition === 'string' ? { condition: r.Condition } : {}) }));

  // Direct ordering between units; edges through other root resources are collapsed.
  const unitDeps = unitGraph(root);
  const order: Array<readonly [string, string, readonly string[]]> = [];
  for (const u of units) {
    const outputs = getAtts(resources[u.id].Properties);
    for (const d of [...(unitDeps.get(u.id) ?? [])].sort()) {
      const read = [...new Set(outputs.filter(([target, attr]) => target === d && attr.startsWith('Outputs.')).map(([, attr]) => attr.slice('Outputs.'.length)))].sort();
      order.push([d, u.id, read]);
    }
  }

  // Exports and who imports them.
  const importers = importersByExport(templates);
  const keyOf = (name: string): string => (name.startsWith(EXPORT_PREFIX) ? name.slice(EXPORT_PREFIX.length) : name);
  const exports: ExportRow[] = [...exportSites(templates)]
    .map(([name, site]) => ({ name, key: keyOf(name), exporter: site.template, output: site.output, importers: [...(importers.get(name) ?? [])].sort() }))
    .sort((a, b) => a.exporter.localeCompare(b.exporter) || a.key.localeCompare(b.key));
  const pairs = new Map<string, string[]>();
  for (const e of exports) {
    for (const importer of e.importers) {
      const k = `${e.exporter}\u0000${importer}`;
      pairs.set(k, [...(pairs.get(k) ?? []), e.key]);
    }
  }
  const imports = [...pairs]
    .map(([k, keys]) => [...k.split('\u0000'), keys.sort()] as unknown as readonly [string, string, readonly string[]])
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  return { root: rootName, units, order, imports, exports };
}

/** The Mermaid flowchart alone (```mermaid block body). */
export function renderMermaid(model: ArchitectureModel, templates: ReadonlyMap<string, JsonObject>): string {
  const lines = ['flowchart LR', `  subgraph ${model.root}["${model.root}: root template, one StackSet instance per region"]`];
  for (const u of model.units) {
    const cond = u.condition === undefined ? '' : `<br/><i>if ${u.condition}</i>`;
    if (u.type === NESTED_STACK_TYPE) {
      const t = templates.get(u.id);
      const count = t === undefined ? '' : `<br/>${templateCounts(t).resources} resources`;
      lines.push(`    ${u.id}["${u.id}${count}${cond}"]`);
    } else {
      lines.push(`    ${u.id}{{"${u.id}<br/>${u.type}${cond}"}}`);
    }
  }
  lines.push('  end');
  for (const [from, to, read] of model.order) {
    lines.push(read.length === 0 ? `  ${from} --> ${to}` : `  ${from} -->|"${read.join('<br/>')}"| ${to}`);
  }
  for (const [from, to, keys] of model.imports) {
    if (from === model.root || to === model.root) continue;
    lines.push(`  ${from} -.->|"${keys.join('<br/>')}"| ${to}`);
  }
  return lines.join('\n');
}

export function renderArchitecture(templates: ReadonlyMap<string, JsonObject>, rootName: string = ROOT_TEMPLATE_NAME): string {
  const model = architectureModel(templates, rootName);
  const root = templates.get(rootName) as JsonObject;
  const waits = (id: string): string[] => model.order.filter(([, to]) => to === id).map(([from]) => from);
  const out = [
    '# Architecture',
    '',
    '<!-- Generated by `npm run synth` from the templates (tools/review/diagram.ts). Do not edit: tests/tools/review/docs.test.ts fails when this file is stale. -->',
    '',
    `The StackSet deploys \`${rootName}\` once per region, both regions in one parallel operation.`,
    'The root only nests stacks and runs custom resources; everything else lives in a nested stack.',
    '',
    '- Solid arrow `A --> B`: B waits for A (a `DependsOn` in the root, or a `Ref`/`Fn::GetAtt`; a label names the outputs B reads).',
    '- Dotted arrow `A -.-> B`: B imports A\'s exports with `Fn::ImportValue`, labelled with the export keys',
    '  (export names are `tap-${EnvironmentSuffix}-<key>`, so two environments never collide).',
    '',
    '```mermaid',
    renderMermaid(model, templates),
    '```',
    '',
    '## Deployment waves',
    '',
    ...deploymentWaves(root).map((w, i) => `${i + 1}. ${w.join(', ')}`),
    '',
    '## Nested stacks and custom resources',
    '',
    '| Unit | Type | Waits for | Condition | Resources | Exports |',
    '| --- | --- | --- | --- | --- | --- |',
    ...model.units.map((u) => {
      const t = templates.get(u.id);
      const counts = t === undefined ? undefined : templateCounts(t);
      return `| ${u.id} | ${u.type} | ${waits(u.id).join(', ')} | ${u.condition ?? ''} | ${counts?.resources ?? ''} | ${counts?.exports ?? ''} |`;
    }),
    '',
    '## Exports',
    '',
    'Who exports what, and who imports it. Values flow between sibling stacks only this way;',
    'an export that another stack imports cannot change while it is imported (`npm run diff` warns).',
    '',
    '| Export | Exported by (output) | Imported by |',
    '| --- | --- | --- |',
    ...model.exports.map((e) => `| \`${e.name}\` | ${e.exporter} (${e.output}) | ${e.importers.length === 0 ? '(not imported)' : e.importers.join(', ')} |`),
  ];
  return `${out.join('\n')}\n`;
}
