/**
 * Pure validation of the stack configuration. It sees every key at once and
 * reports every problem in one error, so an operator fixes a stack file in one
 * pass instead of one `pulumi preview` per typo.
 */
import * as awsnative from '@pulumi/aws-native';
import { RunError } from '@pulumi/pulumi';
import { COMMERCIAL_REGIONS } from '../cfn/contract/regions';
import { PROJECT, repositoryName } from '../cfn/contract/names';
import { parameterValueProblem } from './parameters';
import { RootParameter, rootParameters } from './committedTemplates';

export const ROLES = ['primary', 'secondary'] as const;
export type Role = (typeof ROLES)[number];
export type EnvironmentType = string;

/**
 * Configuration keys whose values become root template parameters, and those
 * parameters: their checks come from the template's own definitions (pattern,
 * allowed values, length, bounds), read from the committed TapStack.json, so
 * configuration and template cannot drift apart.
 */
export const TEMPLATE_CHECKED_KEYS = {
  environmentSuffix: 'EnvironmentSuffix',
  environmentType: 'EnvironmentType',
  primaryRegion: 'PrimaryRegion',
  secondaryRegion: 'SecondaryRegion',
  alarmEmail: 'AlarmEmail',
  hostedZoneId: 'HostedZoneId',
  domainName: 'DomainName',
  bakeMinutes: 'BakeMinutes',
  'tags.CostCenter': 'CostCenter',
  // The stack's own image: PrimaryImageUri in the primary, SecondaryImageUri (the same rule) through
  // the primary's StackReference in the secondary.
  imageUri: 'PrimaryImageUri',
} as const;

/** Every `tap:*` key the program reads (Pulumi.yaml declares the same set; a test keeps them equal). */
export const CONFIG_KEYS = [
  'role',
  'environmentSuffix',
  'environmentType',
  'primaryRegion',
  'secondaryRegion',
  'tags',
  'alarmEmail',
  'hostedZoneId',
  'domainName',
  'createStackSetRoles',
  'stackSetAdministrationRoleArn',
  'stackSetExecutionRoleName',
  'secondaryStack',
  'imageUri',
  'imageRetainCount',
  'bakeMinutes',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Tag keys tap sets itself from other keys; config tags may not override them. */
export const RESERVED_TAG_KEYS = ['Project', 'Environment', 'EnvironmentType'] as const;
export const PROJECT_TAG = PROJECT;

/**
 * Raw configuration as Pulumi hands it over: strings (objects as JSON text).
 * An absent key and an empty string both mean "not set": Pulumi.yaml gives
 * every optional key the default "", because the CLI refuses a stack that lacks
 * a declared key without a default.
 */
export interface RawConfig {
  /** `tap:<key>` values, keyed by the part after `tap:`; unknown keys are reported. */
  readonly tap: Readonly<Record<string, string | undefined>>;
  /** `aws:region` of the stack. */
  readonly awsRegion: string | undefined;
}

/** Existing StackSet roles, or ask the program to create them. */
export type StackSetRolesConfig =
  | { readonly create: true }
  | { readonly create: false; readonly administrationRoleArn: string; readonly executionRoleName: string };

interface CommonConfig {
  /** The stack's own region (aws:region): primaryRegion or secondaryRegion, by role; one the aws-native provider accepts. */
  readonly region: awsnative.Region;
  readonly environmentSuffix: string;
  readonly environmentType: EnvironmentType;
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  /** Cost-allocation tags: Project, Environment, EnvironmentType plus the configured ones. */
  readonly tags: Readonly<Record<string, string>>;
  readonly alarmEmail?: string;
  readonly dns?: { readonly hostedZoneId: string; readonly domainName: string };
  /** An image already pushed (by CI), pinned by digest: replaces the Docker build. */
  readonly imageUri?: string;
  readonly imageRetainCount: number;
  /** Unset: the template's BakeMinutes default applies. */
  readonly bakeMinutes?: number;
}

/** The primary region's stack: owns the StackSet and both instances. */
export interface PrimaryConfig extends CommonConfig {
  readonly role: 'primary';
  readonly stackSetRoles: StackSetRolesConfig;
  /** Fully qualified name of the secondary region's stack (org/project/stack). */
  readonly secondaryStack: string;
}

/** The secondary region's stack: owns its image and template artifacts only. */
export interface SecondaryConfig extends CommonConfig {
  readonly role: 'secondary';
}

export type TapConfig = PrimaryConfig | SecondaryConfig;

/** A RunError: Pulumi prints its message and exits, with no stack trace or program source. */
export class ConfigValidationError extends RunError {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid tap configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

const ROLE_ARN = /^arn:aws:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** org/project/stack, as `pulumi stack ls --all` prints it. */
const QUALIFIED_STACK = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** ECR image pinned by digest; group 1 is the registry's region, group 2 the repository. */
export const IMAGE_URI = /^\d{12}\.dkr\.ecr\.([a-z]{2}-[a-z]+-\d)\.amazonaws\.com\/((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)@sha256:[a-f0-9]{64}$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
/** CloudFormation StackSets propagate at most 50 tags; tap sets three itself. */
const MAX_CONFIG_TAGS = 50 - RESERVED_TAG_KEYS.length;
export const IMAGE_RETAIN_COUNT = { min: 1, max: 1000 } as const;

const show = (v: string): string => JSON.stringify(v);
const NATIVE_REGIONS: readonly string[] = Object.values(awsnative.Region);
const isNativeRegion = (r: string): r is awsnative.Region => NATIVE_REGIONS.includes(r);

/**
 * Validates the raw configuration and returns the typed one, or throws one
 * {@link ConfigValidationError} naming every bad key and what it expects.
 */
export function validateConfig(raw: RawConfig, parameters: readonly RootParameter[] = rootParameters()): TapConfig {
  const problems: string[] = [];
  const bad = (key: string, message: string): undefined => {
    problems.push(`${key}: ${message}`);
    return undefined;
  };
  const value = (key: ConfigKey): string | undefined => {
    const v = raw.tap[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const required = (key: ConfigKey, expected: string): string | undefined =>
    value(key) ?? bad(`tap:${key}`, `is required: ${expected}`);
  const oneOf = <T extends string>(key: ConfigKey, allowed: readonly T[]): T | undefined => {
    const v = required(key, `one of ${allowed.join(', ')}`);
    if (v === undefined) return undefined;
    return (allowed as readonly string[]).includes(v) ? (v as T) : bad(`tap:${key}`, `${show(v)} is not one of ${allowed.join(', ')}`);
  };
  const matching = (key: ConfigKey, pattern: RegExp, expected: string, isRequired = false): string | undefined => {
    const v = isRequired ? required(key, expected) : value(key);
    if (v === undefined) return undefined;
    return pattern.test(v) ? v : bad(`tap:${key}`, `${show(v)} is not ${expected}`);
  };
  const integer = (key: ConfigKey, range: { min: number; max: number }, isRequired: boolean): number | undefined => {
    const expected = `an integer from ${range.min} to ${range.max}`;
    const v = isRequired ? required(key, expected) : value(key);
    if (v === undefined) return undefined;
    const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= range.min && n <= range.max ? n : bad(`tap:${key}`, `${show(v)} is not ${expected}`);
  };
  const region = (key: 'primaryRegion' | 'secondaryRegion'): string | undefined => {
    const v = fromTemplate(key, true);
    if (v === undefined) return undefined;
    // Beyond the template's pattern: a region code that exists (a typo would fail only at deploy time).
    return COMMERCIAL_REGIONS.includes(v) ? v : bad(`tap:${key}`, `${show(v)} is not a known AWS region code (expected one of ${COMMERCIAL_REGIONS.join(', ')})`);
  };
  /** A value the template's parameter of the same meaning would refuse, named with what the template expects. */
  const templateProblem = (key: keyof typeof TEMPLATE_CHECKED_KEYS, v: string): string | undefined => {
    const name = TEMPLATE_CHECKED_KEYS[key];
    const p = parameters.find((q) => q.name === name);
    // The program and the committed templates disagree: a defect of tap, not of the configuration.
    if (p === undefined) throw new Error(`tap:${key} becomes TapStack.json's ${name}, which the committed template does not declare`);
    const problem = parameterValueProblem(p, v);
    return problem === undefined ? undefined : `${problem} (TapStack.json ${name}: ${p.constraintDescription ?? 'see its definition'})`;
  };
  /** A configured value checked against its root parameter; required ones must be set. */
  const fromTemplate = (key: keyof typeof TEMPLATE_CHECKED_KEYS & ConfigKey, isRequired: boolean): string | undefined => {
    const v = isRequired ? required(key, `a value for TapStack.json ${TEMPLATE_CHECKED_KEYS[key]}`) : value(key);
    if (v === undefined) return undefined;
    const problem = templateProblem(key, v);
    return problem === undefined ? v : bad(`tap:${key}`, problem);
  };
  const boolean = (key: ConfigKey): boolean | undefined => {
    const v = value(key);
    if (v === undefined) return undefined;
    if (v === 'true' || v === 'false') return v === 'true';
    return bad(`tap:${key}`, `${show(v)} is not a boolean (true or false)`);
  };

  for (const key of Object.keys(raw.tap)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) bad(`tap:${key}`, `is not a tap configuration key (known keys: ${CONFIG_KEYS.join(', ')})`);
  }

  const role = oneOf('role', ROLES);
  const environmentSuffix = fromTemplate('environmentSuffix', true);
  const environmentType = fromTemplate('environmentType', true);
  const primaryRegion = region('primaryRegion');
  const secondaryRegion = region('secondaryRegion');
  if (primaryRegion !== undefined && primaryRegion === secondaryRegion) {
    bad('tap:secondaryRegion', `must differ from tap:primaryRegion (both are ${primaryRegion}); the secondary region is the failover target`);
  }

  const stackRegion = raw.awsRegion?.trim() === '' ? undefined : raw.awsRegion?.trim();
  const ownRegion = role === 'primary' ? primaryRegion : role === 'secondary' ? secondaryRegion : undefined;
  if (stackRegion === undefined) {
    bad('aws:region', `is required: the region this stack deploys to${ownRegion === undefined ? '' : ` (${ownRegion} for role ${role})`}`);
  } else if (ownRegion !== undefined && stackRegion !== ownRegion) {
    bad('aws:region', `${show(stackRegion)} must equal tap:${role === 'primary' ? 'primaryRegion' : 'secondaryRegion'} (${ownRegion}) for role ${role}`);
  } else if (ownRegion !== undefined && !isNativeRegion(stackRegion)) {
    // The ECR repository is an aws-native resource; its provider refuses a region its version does not list.
    bad('aws:region', `${show(stackRegion)} is not a region @pulumi/aws-native knows yet (its Region list); upgrade the package to deploy there`);
  }
  const nativeRegion = stackRegion !== undefined && isNativeRegion(stackRegion) ? stackRegion : undefined;

  const tags = parseTags(value('tags'), bad);
  if (tags.CostCenter !== undefined) {
    const problem = templateProblem('tags.CostCenter', tags.CostCenter);
    if (problem !== undefined) bad('tap:tags.CostCenter', `${problem}; it also fills the templates' CostCenter parameter`);
  }

  const alarmEmail = fromTemplate('alarmEmail', false);
  const hostedZoneId = fromTemplate('hostedZoneId', false);
  const domainName = fromTemplate('domainName', false);
  if ((value('hostedZoneId') === undefined) !== (value('domainName') === undefined)) {
    const missing = value('hostedZoneId') === undefined ? 'hostedZoneId' : 'domainName';
    bad(`tap:${missing}`, 'is required when DNS failover is configured: set both tap:hostedZoneId and tap:domainName, or neither');
  }

  const createRoles = boolean('createStackSetRoles');
  const adminArn = matching('stackSetAdministrationRoleArn', ROLE_ARN, 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
  const executionName = matching('stackSetExecutionRoleName', ROLE_NAME, 'an IAM role name (1-64 characters: letters, digits and +=,.@_-)');
  const secondaryStack = matching('secondaryStack', QUALIFIED_STACK, 'a fully qualified stack name <organization>/<project>/<stack>, such as acme/tap/prod-eu');
  let stackSetRoles: StackSetRolesConfig | undefined;
  const existingKeys = (['stackSetAdministrationRoleArn', 'stackSetExecutionRoleName'] as const).filter((k) => value(k) !== undefined);
  if (role === 'secondary') {
    // createStackSetRoles defaults to false in Pulumi.yaml, so only true is a mistake here.
    for (const key of [...(createRoles === true ? (['createStackSetRoles'] as const) : []), ...existingKeys, ...(value('secondaryStack') === undefined ? [] : (['secondaryStack'] as const))]) {
      bad(`tap:${key}`, 'applies to role primary only (the secondary stack owns no StackSet); remove it');
    }
  } else if (role === 'primary') {
    if (value('secondaryStack') === undefined) bad('tap:secondaryStack', 'is required for role primary: the fully qualified name of the secondary stack (<organization>/<project>/<stack>, such as acme/tap/prod-eu)');
    if (createRoles === true && existingKeys.length > 0) {
      bad('tap:createStackSetRoles', `is true, but ${existingKeys.map((k) => `tap:${k}`).join(' and ')} name existing roles; use one or the other`);
    } else if (createRoles === true) {
      stackSetRoles = { create: true };
    } else if (existingKeys.length === 2) {
      if (adminArn !== undefined && executionName !== undefined) stackSetRoles = { create: false, administrationRoleArn: adminArn, executionRoleName: executionName };
    } else if (existingKeys.length === 1) {
      const missing = existingKeys[0] === 'stackSetAdministrationRoleArn' ? 'stackSetExecutionRoleName' : 'stackSetAdministrationRoleArn';
      bad(`tap:${missing}`, `is required with tap:${existingKeys[0]}: existing StackSet roles need both the administration role ARN and the execution role name`);
    } else if (createRoles === false || value('createStackSetRoles') === undefined) {
      bad('tap:createStackSetRoles', 'must be true, or set tap:stackSetAdministrationRoleArn and tap:stackSetExecutionRoleName to existing roles (the self-managed StackSet needs both roles)');
    }
  }

  // The template's rule first, then what this stack needs of the URI (its region, its repository).
  let imageUri = fromTemplate('imageUri', false);
  if (imageUri !== undefined) {
    const match = IMAGE_URI.exec(imageUri);
    if (match === null) {
      imageUri = bad('tap:imageUri', `${show(imageUri)} is not an ECR image pinned by digest (<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>); a tag is refused`);
    } else if (stackRegion !== undefined && match[1] !== stackRegion) {
      imageUri = bad('tap:imageUri', `is in ${match[1]} but this stack deploys to ${stackRegion}; Lambda pulls images from its own region's registry`);
    } else if (environmentSuffix !== undefined && match[2] !== repositoryName(environmentSuffix)) {
      imageUri = bad('tap:imageUri', `is in repository ${match[2]}; expected ${repositoryName(environmentSuffix)}, the repository this stack declares and the StackSet execution role may pull from`);
    }
  }
  const imageRetainCount = integer('imageRetainCount', IMAGE_RETAIN_COUNT, true);
  // What the template's BakeMinutes takes decides (auto, or 0-10); its default (auto) is the same as unset.
  const bakeText = fromTemplate('bakeMinutes', false);
  const bakeDefault = parameters.find((p) => p.name === TEMPLATE_CHECKED_KEYS.bakeMinutes)?.default;
  const bakeMinutes = bakeText === undefined || bakeText === bakeDefault ? undefined : /^\d+$/.test(bakeText) ? Number(bakeText) : bad('tap:bakeMinutes', `${show(bakeText)} is not a whole number of minutes`);

  if (problems.length > 0) throw new ConfigValidationError(problems);
  // Every value below was checked above; the assertions only narrow the types.
  const common: CommonConfig = {
    region: nativeRegion!,
    environmentSuffix: environmentSuffix!,
    environmentType: environmentType!,
    primaryRegion: primaryRegion!,
    secondaryRegion: secondaryRegion!,
    tags: { Project: PROJECT_TAG, Environment: environmentSuffix!, EnvironmentType: environmentType!, ...tags },
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
    ...(hostedZoneId === undefined || domainName === undefined ? {} : { dns: { hostedZoneId, domainName } }),
    ...(imageUri === undefined ? {} : { imageUri }),
    imageRetainCount: imageRetainCount!,
    ...(bakeMinutes === undefined ? {} : { bakeMinutes }),
  };
  return role === 'primary' ? { ...common, role, stackSetRoles: stackSetRoles!, secondaryStack: secondaryStack! } : { ...common, role: 'secondary' };
}

function parseTags(text: string | undefined, bad: (key: string, message: string) => undefined): Record<string, string> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    bad('tap:tags', 'is not an object of tag keys to string values');
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    bad('tap:tags', 'is not an object of tag keys to string values');
    return {};
  }
  const tags: Record<string, string> = {};
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > MAX_CONFIG_TAGS) bad('tap:tags', `has ${entries.length} tags; at most ${MAX_CONFIG_TAGS} fit beside tap's own (a StackSet propagates at most 50)`);
  for (const [key, v] of entries) {
    if ((RESERVED_TAG_KEYS as readonly string[]).includes(key)) bad(`tap:tags.${key}`, `is set by tap itself (${RESERVED_TAG_KEYS.join(', ')}); remove it`);
    else if (!TAG_KEY.test(key) || key.toLowerCase().startsWith('aws:')) bad(`tap:tags.${key}`, 'is not a valid tag key (1-128 letters, digits, spaces and _.:/=+-@, not starting with aws:)');
    else if (typeof v !== 'string' || !TAG_VALUE.test(v)) bad(`tap:tags.${key}`, 'must be a string of at most 256 letters, digits, spaces and _.:/=+-@');
    else tags[key] = v;
  }
  return tags;
}
