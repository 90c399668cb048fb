/**
 * Every template check, in one call, for synth and for tests:
 * cfn-lint and the cross-template checks (a), Control Tower rules with cfn-guard
 * (b), project invariants (c) and size limits (d).
 */
import { JsonObject } from '../../cfn/lib/template';
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import { Finding } from './types';
import { validateLint, validateLintIgnores } from './validateLint';
import { validateCrossStack } from './validateCrossStack';
import { validateGuard, appliedGuardSuppressions, GuardSuppression } from './validateGuard';
import { validateInvariants } from './validateInvariants';
import { validateSize } from './validateSize';

export interface ValidateOptions {
  /** Run cfn-lint (slow: a Python process, ~3 s). @default true */
  readonly lint?: boolean;
  /** Run cfn-guard with the Control Tower rules (~1 s). @default true */
  readonly guard?: boolean;
  /** Name of the root template among `templates`. @default ROOT_TEMPLATE_NAME (TapStack) */
  readonly rootTemplate?: string;
}

export function validateAll(templates: ReadonlyMap<string, JsonObject>, options: ValidateOptions = {}): Finding[] {
  const root = options.rootTemplate ?? ROOT_TEMPLATE_NAME;
  const gates: Array<[string, boolean, () => Finding[]]> = [
    ['cfn-lint', options.lint ?? true, () => validateLint(templates)],
    ['cfn-lint ignores', true, () => validateLintIgnores(templates)],
    ['cross-stack', true, () => validateCrossStack(templates, root)],
    ['cfn-guard', options.guard ?? true, () => validateGuard(templates)],
    ['invariant', true, () => validateInvariants(templates)],
    ['size', true, () => validateSize(templates, root)],
  ];
  const findings: Finding[] = [];
  for (const [check, enabled, run] of gates) {
    if (!enabled) continue;
    try {
      findings.push(...run());
    } catch (e) {
      // A tool that cannot run is a finding too, so every other gate still reports.
      findings.push({ check, template: '(all)', path: '', message: e instanceof Error ? e.message : String(e) });
    }
  }
  return findings;
}

/** Synth's report of the Control Tower failures dropped by a suppression (reuses validateAll's cfn-guard run). */
export function guardSuppressionSummary(templates: ReadonlyMap<string, JsonObject>): string {
  const applied: GuardSuppression[] = appliedGuardSuppressions(templates);
  if (applied.length === 0) return 'guard suppressions: none\n';
  const lines = applied.map((s) => `  ${s.template} ${s.resource} ${s.rule}: ${s.reason}`);
  return `guard suppressions (${applied.length}):\n${lines.join('\n')}\n`;
}

export type { Finding, GuardSuppression };
