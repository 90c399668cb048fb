/**
 * Shared parameter definitions. A nested stack declares the ones it takes from
 * here (or its own); the root declares the union and passes each through by Ref,
 * so a parameter is defined exactly once.
 */
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
export const IS_PRIMARY_REGION = { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'PrimaryRegion' }] } as const;
/** The name every template gives the {@link IS_PRIMARY_REGION} condition. */
export const IS_PRIMARY_REGION_CONDITION = 'IsPrimaryRegion';
