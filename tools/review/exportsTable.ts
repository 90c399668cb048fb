/**
 * The README's table of cross-stack values, generated from the templates so it
 * cannot go stale: every export (name, exporting stack and output, description)
 * and the stacks that import it. Pure: templates in, markdown out.
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { findIntrinsics, isObject } from '../validate/json';
import { namePatternOf } from '../validate/validateCrossStack';

export interface ExportSite {
  readonly template: string;
  readonly output: string;
  /** The Outputs entry itself. */
  readonly definition: JsonObject;
}

/** Export name pattern -> where it is exported, in template then output order. */
export function exportSites(templates: ReadonlyMap<string, JsonObject>): Map<string, ExportSite> {
  const out = new Map<string, ExportSite>();
  for (const [template, t] of templates) {
    for (const [output, o] of Object.entries((t.Outputs ?? {}) as JsonObject)) {
      if (!isObject(o) || !isObject(o.Export)) continue;
      const name = namePatternOf(o.Export.Name);
      if (name !== undefined) out.set(name, { template, output, definition: o });
    }
  }
  return out;
}

/** Every Fn::ImportValue name under `value`. */
const importedNames = (value: Json | undefined): string[] =>
  findIntrinsics(value, 'Fn::ImportValue').flatMap(({ argument }) => namePatternOf(argument) ?? []);

/** Export name pattern -> the templates importing it. */
export function importersByExport(templates: ReadonlyMap<string, JsonObject>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [template, t] of templates) {
    for (const name of importedNames(t)) {
      if (!out.has(name)) out.set(name, new Set());
      out.get(name)?.add(template);
    }
  }
  return out;
}

/** `[stack, output]` of every `Fn::GetAtt <stack>.Outputs.<output>` under `value` (how the root reads nested outputs). */
function outputReads(value: Json | undefined, out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(value)) value.forEach((v) => outputReads(v, out));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && v[1].startsWith('Outputs.')) {
        out.push([v[0], v[1].slice('Outputs.'.length)]);
      } else outputReads(v, out);
    }
  }
  return out;
}

export interface ExportRow {
  readonly exportName: string;
  readonly exporter: string;
  readonly output: string;
  readonly description: string;
  /** Importing templates, sorted; then `<Root> (GetAtt)` when a template reads the output directly. */
  readonly importers: readonly string[];
}

/** One row per export, in template order then output order. */
export function exportRows(templates: ReadonlyMap<string, JsonObject>): ExportRow[] {
  const importers = importersByExport(templates);
  const readers = new Map<string, Set<string>>();
  for (const [name, t] of templates) {
    for (const [stack, output] of outputReads(t)) {
      const key = `${stack}.${output}`;
      if (!readers.has(key)) readers.set(key, new Set());
      readers.get(key)?.add(`${name} (GetAtt)`);
    }
  }
  return [...exportSites(templates)].map(([exportName, { template: name, output, definition: o }]) => ({
    exportName,
    exporter: name,
    output,
    description: typeof o.Description === 'string' ? o.Description : '',
    importers: [...[...(importers.get(exportName) ?? [])].sort(), ...[...(readers.get(`${name}.${output}`) ?? [])].sort()],
  }));
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/**
 * The markdown table (with a trailing newline). "Used by" lists the importing
 * stacks, then templates that read the output with Fn::GetAtt (the root);
 * `-` means only operators use it. Imports that no template exports follow the
 * table, so they are seen.
 */
export function exportsTable(templates: ReadonlyMap<string, JsonObject>): string {
  const rows = exportRows(templates);
  const lines = [
    '| Export name | Exported by (output) | Used by | What |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${cell(r.exportName)}\` | ${r.exporter} (\`${r.output}\`) | ${r.importers.length === 0 ? '-' : r.importers.join(', ')} | ${cell(r.description)} |`),
  ];
  const exported = new Set(rows.map((r) => r.exportName));
  const dangling = [...templates].flatMap(([name, t]) =>
    [...new Set(importedNames(t))].filter((n) => !exported.has(n)).map((n) => `- \`${n}\`, imported by ${name}, is exported by no template`),
  );
  return `${[...lines, ...(dangling.length > 0 ? ['', ...dangling] : [])].join('\n')}\n`;
}
