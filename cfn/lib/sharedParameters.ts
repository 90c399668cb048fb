/**
 * Shared parameter definitions. A nested stack declares the ones it takes from
 * here (or its own); the root declares the union and passes each through by Ref,
 * so a parameter is defined exactly once.
 */
import { equals, ref } from './intrinsics';
import { Json, JsonObject } from './value';

export interface ParameterDef {
  readonly Type: string;
  readonly Description: string;
  readonly ConstraintDescription: string;
  readonly Default?: string | number;
  readonly AllowedValues?: ReadonlyArray<string | number>;
  readonly AllowedPattern?: string;
  readonly MinLength?: number;
  readonly MaxLength?: number;
  readonly MinValue?: number;
  readonly MaxValue?: number;
}

/**
 * Region codes. No default: templates never name a region; the Pulumi program
 * passes both from its configuration.
 */
export const REGION_PATTERN = '^[a-z]{2}(-gov)?-[a-z]+-\\d$';

/**
 * Longest suffix that keeps every global name under S3's 63 characters:
 * `tap-templates-<suffix>-<12-digit account>-<region up to 14>`.
 */
export const SUFFIX_MAX_LENGTH = 16;
export const SUFFIX_PATTERN = '^[a-z][a-z0-9-]*[a-z0-9]$';

export const SharedParameters = {
  EnvironmentSuffix: {
    Type: 'String',
    Description: 'Suffix appended to every resource name (for example prod, pr-1234).',
    AllowedPattern: SUFFIX_PATTERN,
    MinLength: 2,
    MaxLength: SUFFIX_MAX_LENGTH,
    ConstraintDescription: `2-${SUFFIX_MAX_LENGTH} lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it is part of S3 bucket names).`,
  },
  EnvironmentType: {
    Type: 'String',
    Description: 'Kind of environment; prod keeps Aurora readers and production alarm settings.',
    AllowedValues: ['dev', 'staging', 'prod'],
    Default: 'prod',
    ConstraintDescription: 'Must be dev, staging or prod.',
  },
  CostCenter: {
    Type: 'String',
    Description: 'Cost-allocation tag value applied to every taggable resource.',
    AllowedPattern: '^[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,127}$',
    Default: 'payments',
    ConstraintDescription: '1-128 characters: letters, digits, spaces and _ . : / = + @ -.',
  },
  PrimaryRegion: {
    Type: 'String',
    Description: 'Region that serves traffic in normal operation and replicates audit logs to the secondary.',
    AllowedPattern: REGION_PATTERN,
    ConstraintDescription: 'Must be a region code: two lowercase letters, a direction and a digit (templates never name a region literally).',
  },
  SecondaryRegion: {
    Type: 'String',
    Description: 'Failover region; receives audit-log replicas and the session-table replica.',
    AllowedPattern: REGION_PATTERN,
    ConstraintDescription: 'Must be a region code: two lowercase letters, a direction and a digit (templates never name a region literally).',
  },
  LogRetentionDays: {
    Type: 'Number',
    Description: 'Retention of every CloudWatch log group, in days (Control Tower CT.CLOUDWATCH.PR.2 asks for at least a year).',
    AllowedValues: [365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
    Default: 365,
    ConstraintDescription: 'Must be a CloudWatch Logs retention value of at least 365 days.',
  },
} as const satisfies Record<string, ParameterDef>;

export type SharedParameterName = keyof typeof SharedParameters;

/** Pick shared definitions by name, for a stack's parameter list. */
export const shared = (...names: SharedParameterName[]): Record<string, ParameterDef> =>
  Object.fromEntries(names.map((n) => [n, SharedParameters[n]]));

/** Condition expression "this is the primary region" from the region parameters. */
export const IS_PRIMARY_REGION = equals(ref('AWS::Region'), ref('PrimaryRegion'));
/** The name every template gives the {@link IS_PRIMARY_REGION} condition. */
export const IS_PRIMARY_REGION_CONDITION = 'IsPrimaryRegion';

/**
 * The Parameters section of a rendered template, read back as definitions
 * (the root redeclares its nested stacks' parameters), keys in rendered
 * (alphabetical) order so a definition read back equals the one rendered.
 * Throws naming the parameter whose definition TemplateBuilder.parameter could
 * not have written.
 */
export function parameterDefinitions(template: JsonObject): Record<string, ParameterDef> {
  const section = template.Parameters ?? {};
  if (!isJsonObject(section)) throw new Error('Parameters must be an object');
  return Object.fromEntries(Object.entries(section).map(([id, raw]) => [id, parameterDefinition(id, raw)]));
}

const isJsonObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function parameterDefinition(id: string, raw: Json): ParameterDef {
  if (!isJsonObject(raw)) throw new Error(`parameter ${id}: definition must be an object`);
  const problem = (key: string, what: string): Error => new Error(`parameter ${id}: ${key} must be ${what}`);
  const text = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || typeof v === 'string') return v;
    throw problem(key, 'a string');
  };
  const required = (key: string): string => {
    const v = text(key);
    if (v === undefined) throw problem(key, 'present');
    return v;
  };
  const num = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined || typeof v === 'number') return v;
    throw problem(key, 'a number');
  };
  const scalar = (v: Json): string | number => {
    if (typeof v === 'string' || typeof v === 'number') return v;
    throw problem('AllowedValues and Default', 'strings or numbers');
  };
  const allowed = raw.AllowedValues;
  if (allowed !== undefined && !Array.isArray(allowed)) throw problem('AllowedValues', 'a list');
  const optional = <K extends string, V>(key: K, v: V | undefined): { [k in K]?: V } => (v === undefined ? {} : ({ [key]: v } as { [k in K]: V }));
  return {
    ...optional('AllowedPattern', text('AllowedPattern')),
    ...optional('AllowedValues', allowed?.map(scalar)),
    ConstraintDescription: required('ConstraintDescription'),
    ...optional('Default', raw.Default === undefined ? undefined : scalar(raw.Default)),
    Description: required('Description'),
    ...optional('MaxLength', num('MaxLength')),
    ...optional('MaxValue', num('MaxValue')),
    ...optional('MinLength', num('MinLength')),
    ...optional('MinValue', num('MinValue')),
    Type: required('Type'),
  };
}
