/**
 * A small template builder over cloudform-types resources. It keeps the
 * template-level pieces (parameters, conditions, outputs with exports, resource
 * attributes) in one place and renders canonical, byte-stable JSON.
 */
import { ResourceBase } from 'cloudform-types';
import { ParameterDef } from './params';
import { ref, IntrinsicFunction, exportName } from './intrinsics';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Metadata key holding cfn-guard (Control Tower) suppressions: `{ "<rule>": "<reason>" }`. */
export const GUARD_SUPPRESSIONS_KEY = 'tap:guard-suppressions';
/** Metadata key holding the reason for each cfn-lint rule ignored on a resource. */
export const LINT_REASONS_KEY = 'tap:lint-ignore-reasons';

export type Policy = 'Delete' | 'Snapshot';

export interface ResourceOptions {
  /** Condition name that decides whether the resource exists. */
  readonly condition?: string;
  readonly dependsOn?: readonly string[];
  readonly deletionPolicy?: Policy;
  /** @default the deletionPolicy, when one is given */
  readonly updateReplacePolicy?: Policy;
  readonly metadata?: Record<string, unknown>;
  /** cfn-guard rule name -> the requirement that forces the exception. */
  readonly guardSuppressions?: Record<string, string>;
  /** cfn-lint rule id -> why this resource may break it. */
  readonly lintIgnores?: Record<string, string>;
}

export interface OutputOptions {
  readonly description: string;
  /** Export key from `Exports` in names.ts; exported as `tap-${EnvironmentSuffix}-<key>`. */
  readonly exportKey?: string;
  readonly condition?: string;
}

export class TemplateBuilder {
  private readonly parameters = new Map<string, ParameterDef>();
  private readonly conditions = new Map<string, unknown>();
  private readonly mappings = new Map<string, unknown>();
  private readonly resources = new Map<string, Record<string, unknown>>();
  private readonly outputs = new Map<string, Record<string, unknown>>();
  private readonly metadata = new Map<string, unknown>();

  constructor(
    public readonly name: string,
    private readonly description: string,
  ) {}

  /** Declares a parameter (idempotent for an identical definition) and returns its Ref. */
  parameter(id: string, def: ParameterDef): IntrinsicFunction {
    const existing = this.parameters.get(id);
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(def)) {
      throw new Error(`${this.name}: parameter ${id} declared twice with different definitions`);
    }
    this.parameters.set(id, def);
    return ref(id);
  }

  /** Declares several parameters at once. */
  parametersFrom(defs: Record<string, ParameterDef>): this {
    for (const [id, def] of Object.entries(defs)) this.parameter(id, def);
    return this;
  }

  condition(id: string, expression: unknown): string {
    this.unique(this.conditions, id, 'condition');
    this.conditions.set(id, expression);
    return id;
  }

  mapping(id: string, map: Record<string, Record<string, string | number | string[]>>): this {
    this.unique(this.mappings, id, 'mapping');
    this.mappings.set(id, map);
    return this;
  }

  /** Adds a typed cloudform-types resource; returns its logical ID. */
  resource(id: string, resource: ResourceBase, options: ResourceOptions = {}): string {
    this.unique(this.resources, id, 'resource');
    const entry: Record<string, unknown> = { Type: resource.Type };
    if (options.condition !== undefined) entry.Condition = options.condition;
    if (options.dependsOn !== undefined && options.dependsOn.length > 0) {
      entry.DependsOn = options.dependsOn.length === 1 ? options.dependsOn[0] : [...options.dependsOn];
    }
    if (options.deletionPolicy !== undefined) {
      entry.DeletionPolicy = options.deletionPolicy;
      entry.UpdateReplacePolicy = options.updateReplacePolicy ?? options.deletionPolicy;
    }
    const metadata: Record<string, unknown> = { ...(options.metadata ?? {}) };
    if (options.guardSuppressions !== undefined) metadata[GUARD_SUPPRESSIONS_KEY] = options.guardSuppressions;
    if (options.lintIgnores !== undefined) {
      metadata['cfn-lint'] = { config: { ignore_checks: Object.keys(options.lintIgnores) } };
      metadata[LINT_REASONS_KEY] = options.lintIgnores;
    }
    if (Object.keys(metadata).length > 0) entry.Metadata = metadata;
    if (resource.Properties !== undefined && Object.keys(resource.Properties).length > 0) {
      entry.Properties = resource.Properties;
    }
    this.resources.set(id, entry);
    return id;
  }

  /** Adds a resource whose type cloudform-types does not know yet (raw properties). */
  rawResource(id: string, type: string, properties: Record<string, unknown>, options: ResourceOptions = {}): string {
    return this.resource(id, { Type: type, Properties: properties } as unknown as ResourceBase, options);
  }

  output(id: string, value: unknown, options: OutputOptions): string {
    this.unique(this.outputs, id, 'output');
    const entry: Record<string, unknown> = { Description: options.description, Value: value };
    if (options.condition !== undefined) entry.Condition = options.condition;
    if (options.exportKey !== undefined) entry.Export = { Name: exportName(options.exportKey) };
    this.outputs.set(id, entry);
    return id;
  }

  addMetadata(key: string, value: unknown): this {
    this.metadata.set(key, value);
    return this;
  }

  hasResource(id: string): boolean {
    return this.resources.has(id);
  }

  /** The properties of a resource declared earlier, as they will be rendered; throws for an unknown ID. */
  resourceProperties(id: string): JsonObject {
    const r = this.resources.get(id);
    if (r === undefined) throw new Error(`${this.name}: no resource ${id}`);
    return canonicalize(JSON.parse(JSON.stringify(r.Properties ?? {})) as Json) as JsonObject;
  }

  /** Canonical JSON object of the template. */
  toJSON(): JsonObject {
    const doc: Record<string, unknown> = {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: this.description,
    };
    if (this.metadata.size > 0) doc.Metadata = Object.fromEntries(this.metadata);
    if (this.parameters.size > 0) doc.Parameters = Object.fromEntries(this.parameters);
    if (this.mappings.size > 0) doc.Mappings = Object.fromEntries(this.mappings);
    if (this.conditions.size > 0) doc.Conditions = Object.fromEntries(this.conditions);
    doc.Resources = Object.fromEntries(this.resources);
    if (this.outputs.size > 0) doc.Outputs = Object.fromEntries(this.outputs);
    return canonicalize(JSON.parse(JSON.stringify(doc)) as Json) as JsonObject;
  }

  private unique(map: Map<string, unknown>, id: string, what: string): void {
    if (map.has(id)) throw new Error(`${this.name}: ${what} ${id} declared twice`);
  }
}

const TOP_LEVEL_ORDER = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Resources',
  'Outputs',
];
const RESOURCE_ORDER = ['Type', 'Condition', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'Metadata', 'Properties'];

/**
 * Stable key order: CloudFormation's conventional order for the top level and for
 * resource attributes, alphabetical everywhere else. Arrays keep their order.
 */
export function canonicalize(value: Json, path: readonly string[] = []): Json {
  if (Array.isArray(value)) return value.map((v) => canonicalize(v, [...path, '[]']));
  if (value === null || typeof value !== 'object') return value;
  const isResource = path.length === 2 && path[0] === 'Resources';
  const order = path.length === 0 ? TOP_LEVEL_ORDER : isResource ? RESOURCE_ORDER : [];
  const rank = (k: string): number => {
    const i = order.indexOf(k);
    return i === -1 ? order.length : i;
  };
  const keys = Object.keys(value).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: JsonObject = {};
  for (const k of keys) out[k] = canonicalize(value[k], [...path, k]);
  return out;
}

/** The exact bytes written to cfn/templates/<name>.json. */
export const renderTemplate = (template: JsonObject): string => `${JSON.stringify(template, null, 2)}\n`;
