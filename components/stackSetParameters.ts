/**
 * Pure planning of the StackSet's parameter values, and the checks on what the
 * secondary region's stack staged. One parameter set serves both regions (the
 * root template picks each region's values from AWS::Region), so every value is
 * set at StackSet level and no stack instance carries an override. The list of
 * parameters is the root template's own (TapStack.json, read at run time), so a
 * parameter a nested stack adds needs no change here unless it lacks a Default
 * and a value.
 */
import { RunError } from '@pulumi/pulumi';
import { ROOT_TEMPLATE, RootParameter, TemplateFile, templateObjectKey, templateUrl } from './templates';
import { repositoryName, templateBucketName } from '../cfn/contract/names';
import type { TapConfig } from '../program/validateConfig';

export const PRIMARY_IMAGE_PARAMETER = 'PrimaryImageUri';
export const SECONDARY_IMAGE_PARAMETER = 'SecondaryImageUri';
export const COST_CENTER_TAG = 'CostCenter';

/** Root parameter values from configuration (undefined: the template's Default). */
export function sharedParameterValues(config: TapConfig): Record<string, string | undefined> {
  return {
    EnvironmentSuffix: config.environmentSuffix,
    EnvironmentType: config.environmentType,
    PrimaryRegion: config.primaryRegion,
    SecondaryRegion: config.secondaryRegion,
    CostCenter: config.tags[COST_CENTER_TAG],
    AlarmEmail: config.alarmEmail,
    HostedZoneId: config.dns?.hostedZoneId,
    DomainName: config.dns?.domainName,
    BakeMinutes: config.bakeMinutes === undefined ? undefined : String(config.bakeMinutes),
  };
}

/** Root parameters the program fills from the regions' artifacts, not from configuration. */
export const ARTIFACT_PARAMETERS: readonly string[] = [PRIMARY_IMAGE_PARAMETER, SECONDARY_IMAGE_PARAMETER];

/**
 * Root parameters that have neither a Default nor a source of value: the
 * StackSet could not be created. `available` are the names the program fills.
 */
export const parametersWithoutValue = (parameters: readonly RootParameter[], available: ReadonlySet<string>): string[] =>
  parameters.filter((p) => p.default === undefined && !available.has(p.name)).map((p) => p.name);

/**
 * A RunError (the SDK's way to end a program with a message), so `pulumi up`
 * prints the problems alone, without a stack trace.
 */
export class StackSetParameterError extends RunError {
  constructor(readonly problems: readonly string[]) {
    super(`TapStack.json parameters cannot be filled (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackSetParameterError';
  }
}

/** What CloudFormation would refuse about `value` for `p`, or undefined. */
export function parameterValueProblem(p: RootParameter, value: string): string | undefined {
  if (p.allowedValues !== undefined && !p.allowedValues.includes(value)) return `${JSON.stringify(value)} is not one of ${p.allowedValues.join(', ')}`;
  if (p.type === 'Number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) return `${JSON.stringify(value)} is not a number`;
    if (p.minValue !== undefined && n < p.minValue) return `${value} is below the minimum ${p.minValue}`;
    if (p.maxValue !== undefined && n > p.maxValue) return `${value} is above the maximum ${p.maxValue}`;
    return undefined;
  }
  if (p.minLength !== undefined && value.length < p.minLength) return `${JSON.stringify(value)} is shorter than ${p.minLength} characters`;
  if (p.maxLength !== undefined && value.length > p.maxLength) return `${JSON.stringify(value)} is longer than ${p.maxLength} characters`;
  if (p.allowedPattern !== undefined) {
    // CloudFormation matches the whole value (Java regular expressions); the
    // templates' patterns are also valid JavaScript, else the check is skipped.
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(`^(?:${p.allowedPattern})$`, 'u');
    } catch {
      pattern = undefined;
    }
    if (pattern !== undefined && !pattern.test(value)) return `${JSON.stringify(value)} does not match ${p.allowedPattern}`;
  }
  return undefined;
}

/**
 * Every root parameter's StackSet-level value: configuration first, then the two
 * regions' images, then the template's Default (the provider needs all of them).
 * Throws one {@link StackSetParameterError} naming every parameter without a value
 * and every value CloudFormation would refuse.
 */
export function planParameters(args: {
  readonly parameters: readonly RootParameter[];
  readonly shared: Readonly<Record<string, string | undefined>>;
  readonly images: { readonly primary: string; readonly secondary: string };
}): Record<string, string> {
  const problems: string[] = [];
  const fromArtifacts: Record<string, string> = { [PRIMARY_IMAGE_PARAMETER]: args.images.primary, [SECONDARY_IMAGE_PARAMETER]: args.images.secondary };
  const values: Record<string, string> = {};
  for (const p of args.parameters) {
    const value = args.shared[p.name] ?? fromArtifacts[p.name] ?? p.default;
    if (value === undefined) {
      problems.push(`${p.name}: has no Default and no value; give it a Default in its generator (cfn/) or a configuration key that sets it (components/stackSetParameters.ts sharedParameterValues)`);
      continue;
    }
    const problem = parameterValueProblem(p, value);
    if (problem !== undefined) problems.push(`${p.name}: ${problem}`);
    values[p.name] = value;
  }
  if (problems.length > 0) throw new StackSetParameterError(problems);
  return values;
}

/** What the secondary region's stack exports, as its StackReference reads it (anything may be missing). */
export interface SecondaryOutputs {
  readonly imageUri?: unknown;
  readonly templateUrls?: unknown;
}

/** The object name at the end of a URL or key (`NetworkStack-0123456789abcdef.json`). */
const objectName = (urlOrKey: string): string => urlOrKey.slice(urlOrKey.lastIndexOf('/') + 1);

/**
 * One problem that names the fix, or undefined, for what the secondary region's
 * stack staged. The root template reads the secondary's nested templates from the
 * secondary's bucket under the committed templates' keys, and runs the image the
 * secondary pushed; so before anything is registered the primary checks that the
 * secondary has been deployed, that its image lives in its own region's registry of
 * this account, and that it uploaded exactly the committed templates to the bucket
 * the root derives (`tap-templates-<suffix>-<account>-<region>`).
 */
export function secondaryArtifactsProblem(args: {
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  readonly environmentSuffix: string;
  readonly outputs: SecondaryOutputs;
  readonly nested: readonly TemplateFile[];
}): string | undefined {
  const { stack, region, accountId, environmentSuffix, outputs } = args;
  const fix = `run \`pulumi up -s ${stack}\` first, then this stack again`;
  const missing = (['imageUri', 'templateUrls'] as const).filter((k) => outputs[k] === undefined || outputs[k] === null);
  if (missing.length > 0) {
    return `${stack} has not been deployed (its stack exports no ${missing.join(' and no ')}): ${fix}.`;
  }
  const problems: string[] = [];
  const repository = `${accountId}.dkr.ecr.${region}.amazonaws.com/${repositoryName(environmentSuffix)}@sha256:`;
  if (typeof outputs.imageUri !== 'string' || !outputs.imageUri.startsWith(repository)) {
    problems.push(`its imageUri ${JSON.stringify(outputs.imageUri)} is not an image of ${repository.slice(0, -'@sha256:'.length)} pinned by digest`);
  }
  const urls = typeof outputs.templateUrls === 'object' && !Array.isArray(outputs.templateUrls) ? (outputs.templateUrls as Record<string, unknown>) : {};
  const bucket = templateBucketName(environmentSuffix, accountId, region);
  const stale = args.nested.flatMap((file) => {
    const expected = templateUrl(bucket, region, templateObjectKey(file));
    const url = urls[file.name];
    if (typeof url !== 'string') return [`${file.name} (none)`];
    return url === expected ? [] : [`${file.name} (it has ${url.startsWith(`https://${bucket}.`) ? objectName(url) : url}, expected ${objectName(expected)} in ${bucket})`];
  });
  if (stale.length > 0) problems.push(`it has not uploaded the committed version of ${stale.join(', ')}`);
  return problems.length === 0 ? undefined : `Secondary region ${region} (${stack}): ${problems.join('; ')}: ${fix}.`;
}

/** The names the root template reads: every template except the root itself. */
export const nestedTemplates = (files: readonly TemplateFile[]): TemplateFile[] => files.filter((t) => t.name !== ROOT_TEMPLATE);
