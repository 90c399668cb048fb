/**
 * Checks cfn-lint cannot make, because it reads one file at a time: how the root
 * wires its nested stacks, and how Export / Fn::ImportValue connect templates.
 *
 * - every parameter the root passes to a nested stack exists there, and every
 *   nested parameter without a Default is passed;
 * - every root `Fn::GetAtt X.Outputs.Y` names an output Y that template X declares;
 * - every Fn::ImportValue names an export some other template provides, and the
 *   exporting stack is deployed first: it is an ancestor of the importing stack in
 *   the root (DependsOn, or a Ref/GetAtt, which CloudFormation orders the same way);
 * - no export name is declared twice, and no dependency cycle runs across templates.
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { NESTED_STACK_TYPE, ancestors, dependsOnGraph, resourceGraph, waves } from '../../cfn/lib/graph';
import { Finding } from './types';
import { findIntrinsics, isObject, join, resourcesOf, section } from './json';

const CHECK = 'cross-stack';

/**
 * An export name or other string-valued intrinsic as one comparable Fn::Sub-style
 * pattern: `{"Fn::Sub": "tap-${EnvironmentSuffix}-VpcId"}`, the equivalent Fn::Join
 * and `{"Fn::Sub": ["tap-${S}-VpcId", {"S": {"Ref": "EnvironmentSuffix"}}]}` all give
 * `tap-${EnvironmentSuffix}-VpcId`. Undefined when the value cannot be resolved statically.
 */
export function namePatternOf(value: Json | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (!isObject(value) || Object.keys(value).length !== 1) return undefined;
  const [fn, arg] = Object.entries(value)[0];
  switch (fn) {
    case 'Ref':
      return typeof arg === 'string' ? `\${${arg}}` : undefined;
    case 'Fn::GetAtt': {
      const parts = Array.isArray(arg) ? arg : typeof arg === 'string' ? arg.split(/\.(.*)/s, 2) : [];
      return parts.length === 2 && parts.every((p) => typeof p === 'string') ? `\${${parts[0] as string}.${parts[1] as string}}` : undefined;
    }
    case 'Fn::Sub': {
      if (typeof arg === 'string') return arg;
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !isObject(arg[1])) return undefined;
      const vars = arg[1];
      let unresolved = false;
      const out = arg[0].replace(/\$\{([^}!]+)\}/g, (whole, name: string) => {
        if (!(name in vars)) return whole;
        const v = namePatternOf(vars[name]);
        if (v === undefined) unresolved = true;
        return v ?? whole;
      });
      return unresolved ? undefined : out;
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1])) return undefined;
      const parts = arg[1].map(namePatternOf);
      return parts.every((p): p is string => p !== undefined) ? parts.join(arg[0]) : undefined;
    }
    default:
      return undefined;
  }
}

interface ExportSite {
  readonly template: string;
  readonly output: string;
}

export function validateCrossStack(templates: ReadonlyMap<string, JsonObject>, rootName: string): Finding[] {
  const findings: Finding[] = [];
  const add = (template: string, path: string, message: string): void => {
    findings.push({ check: CHECK, template, path, message });
  };
  const root = templates.get(rootName);

  // Nested stacks: root logical ID == template name (cfn/contract/layout.ts).
  const nestedIds = new Set<string>();
  if (root !== undefined) {
    for (const [id, res] of resourcesOf(root)) {
      if (res.Type !== NESTED_STACK_TYPE) continue;
      nestedIds.add(id);
      const nested = templates.get(id);
      if (nested === undefined) {
        add(rootName, `Resources/${id}`, `nested stack ${id} has no template named ${id}`);
        continue;
      }
      const declared = section(nested, 'Parameters');
      const properties = isObject(res.Properties) ? res.Properties : {};
      const passed = isObject(properties.Parameters) ? properties.Parameters : {};
      for (const p of Object.keys(passed).sort()) {
        if (!(p in declared)) add(rootName, `Resources/${id}/Properties/Parameters/${p}`, `passes parameter ${p}, which ${id} does not declare`);
      }
      for (const [p, def] of Object.entries(declared).sort(([a], [b]) => a.localeCompare(b))) {
        if (!(p in passed) && !(isObject(def) && 'Default' in def)) {
          add(rootName, `Resources/${id}/Properties/Parameters`, `does not pass parameter ${p}, which ${id} declares without a Default`);
        }
      }
    }
    for (const name of templates.keys()) {
      if (name !== rootName && !nestedIds.has(name)) add(rootName, 'Resources', `template ${name} is not nested by ${rootName} (no ${NESTED_STACK_TYPE} with logical ID ${name})`);
    }
    for (const { path, argument } of findIntrinsics(root, 'Fn::GetAtt')) checkOutputRef(namePatternOf({ 'Fn::GetAtt': argument }), path);
    for (const { path, argument } of findIntrinsics(root, 'Fn::Sub')) {
      const pattern = Array.isArray(argument) ? argument[0] : argument;
      if (typeof pattern !== 'string') continue;
      for (const m of pattern.matchAll(/\$\{([A-Za-z0-9]+\.Outputs\.[A-Za-z0-9]+)\}/g)) checkOutputRef(`\${${m[1]}}`, path);
    }
  }

  function checkOutputRef(pattern: string | undefined, path: string): void {
    const m = /^\$\{([A-Za-z0-9]+)\.Outputs\.([A-Za-z0-9]+)\}$/.exec(pattern ?? '');
    if (m === null) return;
    const [, stack, output] = m;
    const nested = templates.get(stack);
    if (!nestedIds.has(stack) || nested === undefined) add(rootName, path, `reads output ${output} of ${stack}, which is not a nested stack with a template`);
    else if (!(output in section(nested, 'Outputs'))) add(rootName, path, `reads output ${output} of ${stack}, which ${stack} does not declare`);
  }

  // Exports by name pattern.
  const exportsByName = new Map<string, ExportSite>();
  for (const [name, t] of templates) {
    for (const [output, o] of Object.entries(section(t, 'Outputs'))) {
      if (!isObject(o) || !isObject(o.Export)) continue;
      const path = `Outputs/${output}/Export/Name`;
      const exportName = namePatternOf(o.Export.Name);
      if (exportName === undefined) {
        add(name, path, 'export name cannot be resolved statically (use a string, Fn::Sub or Fn::Join)');
        continue;
      }
      const previous = exportsByName.get(exportName);
      if (previous !== undefined) add(name, path, `export ${exportName} is also exported by ${previous.template} (output ${previous.output})`);
      else exportsByName.set(exportName, { template: name, output });
    }
  }

  // Imports: resolvable, exported elsewhere, exporter deployed first.
  // DependsOn only (every import edge has an explicit DependsOn in the root): an order
  // that holds only through a Ref or GetAtt disappears when that property is edited.
  const explicitEdges = root === undefined ? new Map<string, Set<string>>() : dependsOnGraph(root);
  const rootEdges = root === undefined ? new Map<string, Set<string>>() : resourceGraph(root);
  const importEdges = new Map<string, Set<string>>();
  for (const [name, t] of templates) {
    for (const { path, argument } of findIntrinsics(t, 'Fn::ImportValue')) {
      const location = join(path, 'Fn::ImportValue');
      const imported = namePatternOf(argument);
      if (imported === undefined) {
        add(name, location, 'import name cannot be resolved statically (use Fn::Sub with the export name pattern)');
        continue;
      }
      const site = exportsByName.get(imported);
      if (site === undefined) {
        add(name, location, `imports ${imported}, which no template exports`);
        continue;
      }
      if (site.template === name) {
        add(name, location, `imports its own export ${imported} (use a Ref or Fn::GetAtt inside the template)`);
        continue;
      }
      if (!importEdges.has(name)) importEdges.set(name, new Set());
      importEdges.get(name)?.add(site.template);
      if (root !== undefined && nestedIds.has(name) && nestedIds.has(site.template) && !ancestors(explicitEdges, name).has(site.template)) {
        add(
          name,
          location,
          `imports ${imported} from ${site.template}, but ${site.template} is not an ancestor of ${name} in ${rootName} (add DependsOn: ${site.template} to ${name})`,
        );
      }
    }
  }

  // One graph over templates: root ordering between nested stacks plus import edges.
  const edges = new Map<string, Set<string>>();
  for (const name of templates.keys()) if (name !== rootName) edges.set(name, new Set(importEdges.get(name) ?? []));
  for (const id of nestedIds) {
    if (!edges.has(id)) continue;
    for (const a of ancestors(rootEdges, id)) if (nestedIds.has(a) && edges.has(a)) edges.get(id)?.add(a);
  }
  try {
    waves(edges);
  } catch (e) {
    add(rootName, '', `cross-template ${e instanceof Error ? e.message : String(e)} (imports and root DependsOn)`);
  }
  return findings;
}
