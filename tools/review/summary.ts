/** The synth summary: per-template counts, then the nested-stack deployment waves. */
import { JsonObject } from '../../cfn/lib/template';
import { deploymentWaves } from '../../cfn/lib/graph';
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';

const count = (o: unknown): number => (o === undefined ? 0 : Object.keys(o as object).length);

export function templateCounts(t: JsonObject): Record<string, number> {
  const outputs = (t.Outputs ?? {}) as Record<string, JsonObject>;
  return {
    parameters: count(t.Parameters),
    resources: count(t.Resources),
    outputs: count(t.Outputs),
    exports: Object.values(outputs).filter((o) => o.Export !== undefined).length,
    conditions: count(t.Conditions),
  };
}

export function summarize(templates: ReadonlyMap<string, JsonObject>): string {
  const cols = ['parameters', 'resources', 'outputs', 'exports', 'conditions'];
  const width = Math.max(...[...templates.keys()].map((n) => n.length), 'template'.length);
  const lines = [`${'template'.padEnd(width)}  ${cols.join('  ')}`];
  for (const [name, t] of templates) {
    const c = templateCounts(t);
    lines.push(`${name.padEnd(width)}  ${cols.map((k) => String(c[k]).padStart(k.length)).join('  ')}`);
  }
  const root = templates.get(ROOT_TEMPLATE_NAME);
  if (root !== undefined) {
    lines.push('', 'deployment waves (from the root DependsOn and references):');
    deploymentWaves(root).forEach((w, i) => lines.push(`  wave ${i + 1}: ${w.join(', ')}`));
  }
  return `${lines.join('\n')}\n`;
}
