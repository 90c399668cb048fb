/**
 * Pure planning of the StackSet's parameter values. One parameter set serves both
 * regions (the root template picks each region's values from AWS::Region), so
 * every value is set at StackSet level and no stack instance carries an override.
 * The list of parameters is the root template's own (TapStack.json, read at run
 * time), so a parameter a nested stack adds needs no change here unless it lacks
 * a Default and a value.
 */
import { RunError } from '@pulumi/pulumi';
import { RootParameter, TEMPLATES_DIR, parseTemplate, readTemplates, templateParameters } from './committedTemplates';
import { parameterValueProblem } from './parameters';

export const PRIMARY_IMAGE_PARAMETER = 'PrimaryImageUri';
export const SECONDARY_IMAGE_PARAMETER = 'SecondaryImageUri';

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
      problems.push(`${p.name}: has no Default and no value; give it a Default in its generator (cfn/) or a configuration key that sets it (program/parameters.ts sharedParameterValues)`);
      continue;
    }
    const problem = parameterValueProblem(p, value);
    if (problem !== undefined) problems.push(`${p.name}: ${problem}`);
    values[p.name] = value;
  }
  if (problems.length > 0) throw new StackSetParameterError(problems);
  return values;
}

/**
 * What can be known before any resource: every root parameter without a Default
 * has a source, and every configured value is one CloudFormation accepts. Throws a
 * {@link StackSetParameterError} naming every problem; returns the root's parameters.
 */
export function checkStackSetParameters(shared: Readonly<Record<string, string | undefined>>, templatesDir: string = TEMPLATES_DIR): ReturnType<typeof templateParameters> {
  const parameters = templateParameters(parseTemplate(readTemplates(templatesDir).root));
  const configured = Object.entries(shared).filter((e): e is [string, string] => e[1] !== undefined);
  const available = new Set([...configured.map(([k]) => k), ...ARTIFACT_PARAMETERS]);
  const problems = parametersWithoutValue(parameters, available).map(
    (p) => `${p}: has no Default and the program gives it no value; give it a Default in its generator (cfn/) or set it from configuration (program/parameters.ts sharedParameterValues)`,
  );
  for (const [name, value] of configured) {
    const p = parameters.find((q) => q.name === name);
    const problem = p === undefined ? undefined : parameterValueProblem(p, value);
    if (problem !== undefined) problems.push(`${name}: ${problem}`);
  }
  if (problems.length > 0) throw new StackSetParameterError(problems);
  return parameters;
}
