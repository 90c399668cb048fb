/**
 * Template assertions in the spirit of aws-cdk-lib/assertions: small partial
 * matchers over the generated JSON.
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { synthesize } from '../../cfn/build';
import { exportNamePattern } from '../../cfn/contract/names';

let cached: Map<string, JsonObject> | undefined;

/** All templates, synthesized once per test file. */
export function templates(): Map<string, JsonObject> {
  cached ??= synthesize();
  return cached;
}

export function template(name: string): JsonObject {
  const t = templates().get(name);
  if (t === undefined) throw new Error(`no template named ${name}; have ${[...templates().keys()].join(', ')}`);
  return t;
}

export type Resource = { Type: string; Properties?: JsonObject; Condition?: string; DependsOn?: string | string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string; Metadata?: JsonObject };

export const resources = (t: JsonObject): Record<string, Resource> => (t.Resources ?? {}) as unknown as Record<string, Resource>;

/** Resources of one type, by logical ID. */
export function resourcesOfType(t: JsonObject, type: string): Record<string, Resource> {
  return Object.fromEntries(Object.entries(resources(t)).filter(([, r]) => r.Type === type));
}

/** Properties of resource `id` of `t`; fails if there is no such resource. */
export function propertiesOf(t: JsonObject, id: string): JsonObject {
  const r = resources(t)[id];
  if (r === undefined) throw new Error(`no resource ${id}; have ${Object.keys(resources(t)).join(', ')}`);
  return r.Properties ?? {};
}

/** `Fn::ImportValue` of the export `key`, as the templates write it. */
export const importOf = (key: string): JsonObject => ({ 'Fn::ImportValue': { 'Fn::Sub': exportNamePattern(key) } });

/** The single resource of `type`; fails if there is not exactly one. */
export function onlyResource(t: JsonObject, type: string): [string, Resource] {
  const found = Object.entries(resourcesOfType(t, type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}: ${found.map(([id]) => id).join(', ')}`);
  return found[0];
}

/** True when `actual` contains everything in `expected` (objects partially, arrays element-wise and in full). */
export function matchesPartial(actual: Json | undefined, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesPartial(actual[i], e));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([k, v]) => matchesPartial((actual as JsonObject)[k], v));
}

/** Asserts some resource of `type` has properties matching `partial`; returns its logical ID. */
export function hasResourceProperties(t: JsonObject, type: string, partial: Record<string, unknown>): string {
  const candidates = Object.entries(resourcesOfType(t, type));
  const hit = candidates.find(([, r]) => matchesPartial(r.Properties ?? {}, partial));
  if (hit === undefined) {
    throw new Error(
      `no ${type} matches ${JSON.stringify(partial)}; candidates:\n${candidates.map(([id, r]) => `${id}: ${JSON.stringify(r.Properties)}`).join('\n')}`,
    );
  }
  return hit[0];
}

/** Every value anywhere under `value` for which `pred` holds, with its JSON path. */
export function findValues(value: Json | undefined, pred: (v: Json, path: string) => boolean, path = ''): Array<{ path: string; value: Json }> {
  const out: Array<{ path: string; value: Json }> = [];
  if (value === undefined) return out;
  if (pred(value, path)) out.push({ path, value });
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...findValues(v as Json, pred, `${path}/${k}`));
  }
  return out;
}

/** One statement of an identity policy (IAM Role, Policy or ManagedPolicy), with where it sits. */
export interface PolicyStatementAt {
  readonly resource: string;
  readonly type: string;
  readonly statement: JsonObject;
}

const IDENTITY_POLICY_TYPES = ['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'];

/** Every statement of every identity policy in `t` (inline role policies included; trust policies not). */
export function identityPolicyStatements(t: JsonObject): PolicyStatementAt[] {
  const out: PolicyStatementAt[] = [];
  for (const [id, r] of Object.entries(resources(t))) {
    if (!IDENTITY_POLICY_TYPES.includes(r.Type)) continue;
    const props = r.Properties ?? {};
    const documents = r.Type === 'AWS::IAM::Role' ? ((props.Policies ?? []) as JsonObject[]).map((p) => p.PolicyDocument) : [props.PolicyDocument];
    for (const doc of documents) {
      const statements = ((doc as JsonObject | undefined)?.Statement ?? []) as Json;
      for (const s of Array.isArray(statements) ? statements : [statements]) out.push({ resource: id, type: r.Type, statement: s as JsonObject });
    }
  }
  return out;
}

/** A Json value as a list (IAM allows a single string where a list is expected). */
export const asList = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? [...v] : [v]);
