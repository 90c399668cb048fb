/**
 * The deployment graph of the root template: which nested stacks and custom
 * resources wait for which. Edges come from DependsOn and from Ref/Fn::GetAtt
 * between root resources (CloudFormation orders both).
 */
import { Json, JsonObject } from './template';
import { objectAt } from './value';

export interface RootGraph {
  /** node -> the nodes it waits for */
  readonly edges: ReadonlyMap<string, ReadonlySet<string>>;
}

const asArray = (v: Json | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** Logical IDs referenced by Ref / Fn::GetAtt / Fn::Sub inside a JSON value. */
export function referencedIds(value: Json | undefined, out = new Set<string>()): Set<string> {
  if (value === null || value === undefined || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, out);
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'Ref' && typeof v === 'string') out.add(v);
    else if (k === 'Fn::GetAtt') {
      const target = Array.isArray(v) ? v[0] : typeof v === 'string' ? v.split('.')[0] : undefined;
      if (typeof target === 'string') out.add(target);
    } else if (k === 'Fn::Sub') {
      const pattern = Array.isArray(v) ? v[0] : v;
      if (typeof pattern === 'string') {
        for (const m of pattern.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g)) out.add(m[1]);
      }
      if (Array.isArray(v)) referencedIds(v[1], out);
    } else referencedIds(v, out);
  }
  return out;
}

/** Dependencies between all resources of a template (DependsOn plus references). */
export function resourceGraph(template: JsonObject): Map<string, Set<string>> {
  const resources = objectAt(template.Resources, 'Resources');
  const ids = new Set(Object.keys(resources));
  const edges = new Map<string, Set<string>>();
  for (const [id, res] of Object.entries(resources)) {
    const r = objectAt(res, `resource ${id}`);
    const deps = new Set<string>(asArray(r.DependsOn));
    for (const ref of referencedIds(r.Properties)) if (ids.has(ref)) deps.add(ref);
    edges.set(id, deps);
  }
  return edges;
}

/** Edges from DependsOn only: the order a template states outright, not the one its references imply. */
export function dependsOnGraph(template: JsonObject): Map<string, Set<string>> {
  const resources = objectAt(template.Resources, 'Resources');
  return new Map(Object.entries(resources).map(([id, res]) => [id, new Set<string>(asArray(objectAt(res, `resource ${id}`).DependsOn))]));
}

/** Nodes that `node` waits for, directly or transitively. */
export function ancestors(edges: ReadonlyMap<string, ReadonlySet<string>>, node: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(edges.get(node) ?? [])];
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(edges.get(n) ?? []));
  }
  return seen;
}

/**
 * Topological layers: wave 1 waits for nothing, wave n for waves < n.
 * Throws naming the nodes of a cycle.
 */
export function waves(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const remaining = new Map([...edges].map(([k, v]) => [k, new Set([...v].filter((d) => edges.has(d)))]));
  const result: string[][] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([k]) => k).sort();
    if (ready.length === 0) {
      throw new Error(`dependency cycle among: ${[...remaining.keys()].sort().join(', ')}`);
    }
    result.push(ready);
    for (const r of ready) remaining.delete(r);
    for (const deps of remaining.values()) for (const r of ready) deps.delete(r);
  }
  return result;
}

export const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack';
export const isCustomResourceType = (type: string): boolean => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
/** Root-level deployment units: nested stacks and custom resources. */
export const isDeploymentUnit = (type: string): boolean => type === NESTED_STACK_TYPE || isCustomResourceType(type);

/** Deployment unit -> the units it waits for, with edges through other root resources collapsed. */
export function unitGraph(root: JsonObject): Map<string, Set<string>> {
  const resources = objectAt(root.Resources, 'Resources');
  const units = new Set(Object.entries(resources).filter(([, r]) => isDeploymentUnit(String(objectAt(r, 'resource').Type))).map(([id]) => id));
  const all = resourceGraph(root);
  // Collapse edges through non-unit root resources so the waves keep transitive order.
  const closure = (id: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>();
    for (const d of all.get(id) ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      if (units.has(d)) out.add(d);
      else for (const x of closure(d, seen)) out.add(x);
    }
    return out;
  };
  return new Map([...units].map((u) => [u, closure(u)]));
}

export const deploymentWaves = (root: JsonObject): string[][] => waves(unitGraph(root));
