/**
 * The README's table of cross-stack values, generated from the templates so it
 * cannot go stale: every export (name, exporting stack and output, description)
 * and the stacks that import it. Pure: templates in, markdown out.
 */
import { Json, JsonObject } from './template';

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `{"Fn::Sub": "tap-${EnvironmentSuffix}-VpcId"}` (the form exportName() writes) -> the pattern; other forms as JSON. */
const exportNameText = (name: Json | undefined): string => (isObject(name) && typeof name['Fn::Sub'] === 'string' ? name['Fn::Sub'] : JSON.stringify(name));

/** Every Fn::ImportValue argument under `value`. */
function importedNames(value: Json | undefined, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => importedNames(v, out));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Fn::ImportValue') out.push(exportNameText(v));
      else importedNames(v, out);
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
  const importers = new Map<string, Set<string>>();
  for (const [name, t] of templates) {
    for (const imported of importedNames(t)) {
      if (!importers.has(imported)) importers.set(imported, new Set());
      importers.get(imported)?.add(name);
    }
  }
  const readers = new Map<string, Set<string>>();
  for (const [name, t] of templates) {
    for (const [stack, output] of outputReads(t)) {
      const key = `${stack}.${output}`;
      if (!readers.has(key)) readers.set(key, new Set());
      readers.get(key)?.add(`${name} (GetAtt)`);
    }
  }
  const rows: ExportRow[] = [];
  for (const [name, t] of templates) {
    for (const [output, o] of Object.entries((t.Outputs ?? {}) as JsonObject)) {
      if (!isObject(o) || !isObject(o.Export)) continue;
      const exportName = exportNameText(o.Export.Name);
      rows.push({
        exportName,
        exporter: name,
        output,
        description: typeof o.Description === 'string' ? o.Description : '',
        importers: [...[...(importers.get(exportName) ?? [])].sort(), ...[...(readers.get(`${name}.${output}`) ?? [])].sort()],
      });
    }
  }
  return rows;
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
