/**
 * The root template's parameter values that come from configuration, and what
 * CloudFormation would refuse about a value: the configuration checks and the
 * StackSet's parameter plan use the same rules, read from TapStack.json.
 */
import type { RootParameter } from './committedTemplates';
import type { TapConfig } from './validateConfig';

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
    // CloudFormation matches the whole value (Java regular expressions); the templates'
    // patterns must also be valid JavaScript, or this throws (a test compiles every one).
    const pattern = new RegExp(`^(?:${p.allowedPattern})$`, 'u');
    if (!pattern.test(value)) return `${JSON.stringify(value)} does not match ${p.allowedPattern}`;
  }
  return undefined;
}
