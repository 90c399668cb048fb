/**
 * The template builder every stack generator uses. It applies the rules that
 * hold for every resource, so no generator writes them by hand:
 * - the cost-allocation tags on every type AWS's resource specification marks
 *   taggable (TAG_PROPERTY, generated from @aws-cdk/aws-service-spec), and on each
 *   replica of a DynamoDB global table, whose tags live on the replicas;
 * - service roles with their trust policy and the `/tap/<suffix>/` path;
 * - outputs whose logical ID is their export key;
 * - the cfn-lint and cfn-guard exceptions of the registry (exceptions.ts).
 * It renders canonical, byte-stable JSON.
 */
import { ParameterDef } from './sharedParameters';
import { ref, sub, exportName } from './intrinsics';
import { IAM_ROLE_PATH_PATTERN } from '../contract/names';
import { IAMRoleProps, ResourcePropsByType, ResourceType, TAG_PROPERTY, TagProperty } from './cfnTypes.generated';
import { Intrinsic, Json, JsonLike, JsonObject, objectAt } from './value';
import { ExtraTags, tagList, tagMap } from './tags';
import { exceptionsFor, RULE_EXCEPTIONS, RuleException } from './exceptions';

export type { Json, JsonObject };

/** Metadata key holding cfn-guard (Control Tower) suppressions: `{ "<rule>": "<reason>" }`. */
export const GUARD_SUPPRESSIONS_KEY = 'tap:guard-suppressions';
/** Metadata key holding the reason for each cfn-lint rule ignored on a resource. */
export const LINT_REASONS_KEY = 'tap:lint-ignore-reasons';

export type Policy = 'Delete' | 'Snapshot';

/** Properties a generator may write: the tags are the builder's (every tag property name the spec knows). */
export type Untagged<P> = Omit<P, TagProperty>;
/** The same names at run time, for the check that a generator wrote none. */
const TAG_PROPERTY_NAMES: readonly string[] = [...new Set(Object.values(TAG_PROPERTY).map((t) => t.property))].sort();

/** Types that have a dedicated helper (serviceRole), so their cross-cutting parts cannot be written by hand. */
export type HelperOnlyType = 'AWS::IAM::Role';
export type PlainResourceType = Exclude<ResourceType, HelperOnlyType>;

/** Types whose tags are on each element of a list property rather than on the resource. */
const REPLICA_TAGS: { readonly [T in ResourceType]?: string } = {
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-globaltable-replicaspecification.html
  'AWS::DynamoDB::GlobalTable': 'Replicas',
};

export interface ResourceOptions {
  /** Condition name that decides whether the resource exists. */
  readonly condition?: string;
  readonly dependsOn?: readonly string[];
  readonly deletionPolicy?: Policy;
  /** @default the deletionPolicy, when one is given */
  readonly updateReplacePolicy?: Policy;
  readonly metadata?: Record<string, JsonLike>;
  /** Tags beyond the cost-allocation ones (for example Name); only on taggable types. */
  readonly tags?: ExtraTags;
}

/** A role that an AWS service assumes: the builder writes its trust policy, path and tags. */
export interface ServiceRoleProps extends Untagged<Omit<IAMRoleProps, 'AssumeRolePolicyDocument' | 'Path' | 'RoleName'>> {
  /** Service principal allowed to assume the role, for example `lambda.amazonaws.com`. */
  readonly service: string;
  /** Condition of the trust statement (aws:SourceAccount, aws:SourceArn), against the confused deputy. @default none */
  readonly trustCondition?: { readonly [operator: string]: JsonLike };
}

export interface OutputOptions {
  readonly description: string;
  readonly condition?: string;
}

/** A nested stack: its template generator and its place in the root template. */
export interface NestedStackDefinition {
  /** File name without .json in cfn/templates/, and the logical ID in TapStack.json. */
  readonly templateName: `${string}Stack`;
  /** Builds the template. Pure: no I/O, no clock, no randomness. */
  build(): TemplateBuilder;
}

export class TemplateBuilder {
  private readonly parameters = new Map<string, ParameterDef>();
  private readonly conditions = new Map<string, JsonLike>();
  private readonly mappings = new Map<string, unknown>();
  private readonly resources = new Map<string, Record<string, unknown>>();
  private readonly outputs = new Map<string, Record<string, unknown>>();
  private readonly metadata = new Map<string, JsonLike>();

  constructor(
    public readonly name: string,
    private readonly description: string,
    /** The exception registry to apply. @default RULE_EXCEPTIONS */
    private readonly exceptions: readonly RuleException[] = RULE_EXCEPTIONS,
  ) {}

  /** Declares a parameter (idempotent for an identical definition) and returns its Ref. */
  parameter(id: string, def: ParameterDef): Intrinsic {
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

  condition(id: string, expression: Intrinsic): string {
    this.unique(this.conditions, id, 'condition');
    this.conditions.set(id, expression);
    return id;
  }

  mapping(id: string, map: Record<string, Record<string, string | number | string[]>>): this {
    this.unique(this.mappings, id, 'mapping');
    this.mappings.set(id, map);
    return this;
  }

  /**
   * Adds a resource of a type AWS's resource specification knows; returns its
   * logical ID. The cost-allocation tags (and `options.tags`) are added when
   * the type is taggable; the registry's exceptions for it land in Metadata.
   */
  resource<T extends PlainResourceType>(id: string, type: T, properties: Untagged<ResourcePropsByType[T]>, options: ResourceOptions = {}): string {
    const helperOnly: readonly string[] = ['AWS::IAM::Role'] satisfies HelperOnlyType[];
    if (helperOnly.includes(type)) throw new Error(`${this.name}: ${id}: declare roles with serviceRole(), which writes the trust policy and path`);
    return this.add(id, type, this.tagged(id, type, properties, options.tags), options);
  }

  /** Adds a custom resource (`Custom::<Name>`); it has no spec, hence no tags. */
  customResource(id: string, type: `Custom::${string}`, properties: { readonly ServiceToken: JsonLike; readonly [key: string]: JsonLike }, options: Omit<ResourceOptions, 'tags'> = {}): string {
    return this.add(id, type, properties, options);
  }

  /**
   * Adds an IAM role that `props.service` assumes, with the `/tap/<suffix>/` path
   * and the tags. No RoleName: CloudFormation names it, so deploying needs no
   * CAPABILITY_NAMED_IAM.
   */
  serviceRole(id: string, props: ServiceRoleProps, options: ResourceOptions = {}): string {
    const { service, trustCondition, ...rest } = props;
    const statement: Record<string, JsonLike> = { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' };
    if (trustCondition !== undefined) statement.Condition = trustCondition;
    const properties = { ...rest, Path: sub(IAM_ROLE_PATH_PATTERN), AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [statement] } };
    return this.add(id, 'AWS::IAM::Role', this.tagged(id, 'AWS::IAM::Role', properties, options.tags), options);
  }

  /** An output exported as `tap-${EnvironmentSuffix}-<key>`, whose logical ID is `key`. */
  export(key: string, value: JsonLike, options: OutputOptions): string {
    return this.addOutput(key, value, options, { Name: exportName(key) });
  }

  /** An output nothing imports (the root's outputs, values read with Fn::GetAtt Outputs.<id>). */
  output(id: string, value: JsonLike, options: OutputOptions): string {
    return this.addOutput(id, value, options);
  }

  addMetadata(key: string, value: JsonLike): this {
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
    return objectAt(rendered(r.Properties ?? {}), `${this.name}: ${id} Properties`);
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
    return objectAt(rendered(doc), this.name);
  }

  /** `properties` with the tags of a taggable `type` added; throws if the generator wrote tags itself. */
  private tagged(id: string, type: ResourceType, given: object, extra: ExtraTags | undefined): Record<string, unknown> {
    const properties: Record<string, unknown> = Object.fromEntries(Object.entries(given));
    const tagging = TAG_PROPERTY[type];
    const replicas = REPLICA_TAGS[type];
    for (const p of TAG_PROPERTY_NAMES) {
      if (p in properties) throw new Error(`${this.name}: ${id}: ${p} is set by the builder (pass extra tags as options.tags)`);
    }
    if (tagging?.variant === 'asg') {
      // Auto Scaling tags also need PropagateAtLaunch, a choice per tag the builder cannot make.
      throw new Error(`${this.name}: ${id}: ${type} takes Auto Scaling tags (PropagateAtLaunch per tag); teach TemplateBuilder.tagged that variant first`);
    }
    if (tagging !== undefined) {
      return { ...properties, [tagging.property]: tagging.variant === 'map' ? tagMap(extra) : tagList(extra) };
    }
    if (replicas !== undefined) {
      const list = properties[replicas];
      if (!Array.isArray(list)) throw new Error(`${this.name}: ${id}: ${replicas} must be a literal list so that each replica gets the tags`);
      return {
        ...properties,
        [replicas]: list.map((r: Record<string, unknown>) => {
          if ('Tags' in r) throw new Error(`${this.name}: ${id}: ${replicas}[].Tags is set by the builder`);
          return { ...r, Tags: tagList(extra) };
        }),
      };
    }
    if (extra !== undefined) throw new Error(`${this.name}: ${id}: ${type} is not taggable, so options.tags has nowhere to go`);
    return properties;
  }

  private add(id: string, type: string, properties: Record<string, unknown>, options: Omit<ResourceOptions, 'tags'>): string {
    this.unique(this.resources, id, 'resource');
    const entry: Record<string, unknown> = { Type: type };
    if (options.condition !== undefined) entry.Condition = options.condition;
    if (options.dependsOn !== undefined && options.dependsOn.length > 0) {
      entry.DependsOn = options.dependsOn.length === 1 ? options.dependsOn[0] : [...options.dependsOn];
    }
    if (options.deletionPolicy !== undefined) {
      entry.DeletionPolicy = options.deletionPolicy;
      entry.UpdateReplacePolicy = options.updateReplacePolicy ?? options.deletionPolicy;
    }
    const metadata: Record<string, unknown> = { ...(options.metadata ?? {}) };
    const applying = exceptionsFor(this.name, id, type, objectAt(rendered(properties), `${this.name}: ${id} Properties`), this.exceptions);
    const guard = applying.filter((e) => e.engine === 'cfn-guard');
    const lint = applying.filter((e) => e.engine === 'cfn-lint').sort((a, b) => (a.rule < b.rule ? -1 : 1));
    if (guard.length > 0) metadata[GUARD_SUPPRESSIONS_KEY] = Object.fromEntries(guard.map((e) => [e.rule, e.reason]));
    if (lint.length > 0) {
      metadata['cfn-lint'] = { config: { ignore_checks: lint.map((e) => e.rule) } };
      metadata[LINT_REASONS_KEY] = Object.fromEntries(lint.map((e) => [e.rule, e.reason]));
    }
    if (Object.keys(metadata).length > 0) entry.Metadata = metadata;
    if (Object.keys(properties).length > 0) entry.Properties = properties;
    this.resources.set(id, entry);
    return id;
  }

  private addOutput(id: string, value: JsonLike, options: OutputOptions, exported?: { Name: Intrinsic }): string {
    this.unique(this.outputs, id, 'output');
    const entry: Record<string, unknown> = { Description: options.description, Value: value };
    if (options.condition !== undefined) entry.Condition = options.condition;
    if (exported !== undefined) entry.Export = exported;
    this.outputs.set(id, entry);
    return id;
  }

  private unique(map: Map<string, unknown>, id: string, what: string): void {
    if (map.has(id)) throw new Error(`${this.name}: ${what} ${id} declared twice`);
  }
}

/** A value with every Intrinsic written out, in canonical key order. */
const rendered = (value: unknown): Json => canonicalize(JSON.parse(JSON.stringify(value)) as Json);

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
