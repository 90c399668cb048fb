/**
 * Pure planning of the StackSet's parameter values. The list of parameters is
 * the root template's own (TapStack.json, read at run time), so a parameter a
 * nested stack adds needs no change here unless it lacks a Default and a value.
 */
import { RunError } from '@pulumi/pulumi';
import { templateUrlParameter } from '../cfn/lib/stack';
import { ROOT_TEMPLATE, RootParameter, TemplateFile, sha256, templateObjectKey } from './templates';
import type { TapConfig } from './validateConfig';

export const IMAGE_URI_PARAMETER = 'ImageUri';
export const DEPLOYMENT_STAMP_PARAMETER = 'DeploymentStamp';
export const COST_CENTER_TAG = 'CostCenter';

/** Root parameter values that are the same in every region, from configuration (undefined: the template's Default). */
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

/** What one region's own stack produced: its image and its uploaded templates. */
export interface RegionArtifacts {
  readonly imageUri: string;
  /** Nested template name (NetworkStack) -> https URL in that region's bucket. */
  readonly templateUrls: Readonly<Record<string, string>>;
}

/** Root parameter values that differ per region (before the DeploymentStamp is added). */
export const regionalParameterValues = (artifacts: RegionArtifacts): Record<string, string> => ({
  [IMAGE_URI_PARAMETER]: artifacts.imageUri,
  ...Object.fromEntries(Object.entries(artifacts.templateUrls).map(([name, url]) => [templateUrlParameter(name), url])),
});

/** Names of the per-region parameters for these nested templates: set by instance overrides. */
export const regionalParameterNames = (nestedTemplateNames: readonly string[]): string[] =>
  [IMAGE_URI_PARAMETER, DEPLOYMENT_STAMP_PARAMETER, ...nestedTemplateNames.map(templateUrlParameter)].sort();

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

/**
 * Hash of every template body and every parameter value of one region: the
 * deployment gate's DeploymentStamp, so the gate runs on every update that
 * changes anything in that region and on no other. Order-independent.
 */
export function deploymentStamp(templates: readonly TemplateFile[], parameters: Readonly<Record<string, string>>): string {
  const canonical = {
    templates: templates.map((t) => [t.name, sha256(t.body)]).sort(([a], [b]) => a.localeCompare(b)),
    parameters: Object.entries(parameters)
      .filter(([name]) => name !== DEPLOYMENT_STAMP_PARAMETER)
      .sort(([a], [b]) => a.localeCompare(b)),
  };
  return sha256(JSON.stringify(canonical));
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

export interface RegionValues {
  readonly region: string;
  readonly artifacts: RegionArtifacts;
  /**
   * The Pulumi stack (org/project/stack) that uploaded the artifacts, named in
   * the fix when its templates are stale.
   * @default none: the fix names "the region's stack"
   */
  readonly stack?: string;
}

export interface ParameterPlan {
  /**
   * StackSet-level values: every root parameter, Defaults included (the provider
   * requires all of them), with the first region's regional values.
   */
  readonly stackSet: Record<string, string>;
  /** Region -> the regional parameters (ImageUri, TemplateUrls, DeploymentStamp) as instance overrides. */
  readonly overrides: Record<string, Record<string, string>>;
  /** Region -> DeploymentStamp (also in overrides when the root declares the parameter). */
  readonly stamps: Record<string, string>;
}

/**
 * Fills every root parameter for every region: configuration first, then the
 * region's own artifacts, then the template's Default. Throws one
 * {@link StackSetParameterError} listing every parameter without a value, every
 * value CloudFormation would refuse, and every region whose uploaded nested
 * templates are not the committed ones ({@link staleTemplatesProblem}).
 */
export function planParameters(args: {
  readonly parameters: readonly RootParameter[];
  readonly shared: Readonly<Record<string, string | undefined>>;
  /** The first region's values are also the StackSet-level values. */
  readonly regions: readonly RegionValues[];
  /** The committed root and nested templates: the stamps hash them, the uploads must match them. */
  readonly templates: readonly TemplateFile[];
}): ParameterPlan {
  const problems: string[] = [];
  const declared = new Set(args.parameters.map((p) => p.name));
  const stackSet: Record<string, string> = {};
  const overrides: Record<string, Record<string, string>> = {};
  const stamps: Record<string, string> = {};
  const nested = args.templates.filter((t) => t.name !== ROOT_TEMPLATE);

  for (const [index, { region, artifacts, stack }] of args.regions.entries()) {
    problems.push(...artifactProblems(region, artifacts));
    const stale = staleTemplatesProblem(region, artifacts.templateUrls, nested, stack);
    if (stale !== undefined) problems.push(stale);
    const regional = Object.fromEntries(Object.entries(regionalParameterValues(artifacts)).filter(([name]) => declared.has(name)));
    const effective: Record<string, string> = {};
    for (const p of args.parameters) {
      if (p.name === DEPLOYMENT_STAMP_PARAMETER) continue;
      const value = args.shared[p.name] ?? regional[p.name] ?? p.default;
      if (value === undefined) {
        problems.push(`${p.name} (${region}): has no Default and no value; ${describeSource(p.name)}`);
        continue;
      }
      const problem = parameterValueProblem(p, value);
      if (problem !== undefined) problems.push(`${p.name} (${region}): ${problem}`);
      effective[p.name] = value;
    }
    stamps[region] = deploymentStamp(args.templates, effective);
    if (declared.has(DEPLOYMENT_STAMP_PARAMETER)) {
      effective[DEPLOYMENT_STAMP_PARAMETER] = stamps[region];
      regional[DEPLOYMENT_STAMP_PARAMETER] = stamps[region];
    }
    overrides[region] = regional;
    if (index === 0) Object.assign(stackSet, effective);
  }
  if (problems.length > 0) throw new StackSetParameterError(problems);
  return { stackSet, overrides, stamps };
}

/**
 * A region's artifacts must live in that region: Lambda pulls images from its
 * own region's registry, and a wrong StackReference would show up here first.
 */
export function artifactProblems(region: string, artifacts: RegionArtifacts): string[] {
  const problems: string[] = [];
  if (!artifacts.imageUri.includes(`.dkr.ecr.${region}.amazonaws.com/`)) {
    problems.push(`${IMAGE_URI_PARAMETER} (${region}): ${JSON.stringify(artifacts.imageUri)} is not an image in ${region}'s registry`);
  }
  for (const [name, url] of Object.entries(artifacts.templateUrls)) {
    if (!url.startsWith('https://') || !url.includes(`.s3.${region}.amazonaws.com/`)) {
      problems.push(`${templateUrlParameter(name)} (${region}): ${JSON.stringify(url)} is not an object in a ${region} bucket`);
    }
  }
  return problems;
}

/** The object name at the end of a URL or key (`NetworkStack-0123456789abcdef.json`). */
const objectName = (urlOrKey: string): string => urlOrKey.slice(urlOrKey.lastIndexOf('/') + 1);

/**
 * A region's uploaded nested templates must be the committed ones. The primary
 * reads the secondary's template URLs through a StackReference: when a nested
 * template changed and the secondary's stack was not updated first, the
 * StackSet would deploy the new root over the secondary's previous nested
 * templates. Each URL must end with the content-hash key the committed file
 * gives (templateObjectKey, what TemplateArtifacts uploads it under).
 * Returns one problem naming every stale or missing template, or undefined.
 */
export function staleTemplatesProblem(
  region: string,
  templateUrls: Readonly<Record<string, string>>,
  nested: readonly TemplateFile[],
  stack?: string,
): string | undefined {
  const stale = nested.flatMap((file) => {
    const key = templateObjectKey(file);
    const url: unknown = templateUrls[file.name];
    if (typeof url !== 'string') return [`${file.name} (none)`];
    return url.endsWith(`/${key}`) ? [] : [`${file.name} (it has ${objectName(url)}, expected ${objectName(key)})`];
  });
  if (stale.length === 0) return undefined;
  const uploader = stack ?? `${region}'s stack`;
  const fix = stack === undefined ? `run \`pulumi up\` on ${uploader} first` : `run \`pulumi up -s ${stack}\` first`;
  return `Nested templates (${region}): ${uploader} has not uploaded the committed version of ${stale.join(', ')}; ${fix}, then this stack again`;
}

function describeSource(name: string): string {
  if (name.endsWith('TemplateUrl')) return `no template ${name.slice(0, -'TemplateUrl'.length)}.json was uploaded (run \`npm run synth\`, then \`pulumi up\` on the region's stack)`;
  return 'give it a Default in its generator (cfn/) or a configuration key that sets it (components/stackSetParameters.ts sharedParameterValues)';
}
