/**
 * Every template check, in one call, for synth and for tests.
 */
import { JsonObject } from '../lib/template';
import { Finding } from './types';
import { validateLint } from './validateLint';

export interface ValidateOptions {
  /** Run cfn-lint (slow: a Python process). @default true */
  readonly lint?: boolean;
}

export function validateAll(templates: ReadonlyMap<string, JsonObject>, options: ValidateOptions = {}): Finding[] {
  const findings: Finding[] = [];
  if (options.lint ?? true) findings.push(...validateLint(templates));
  return findings;
}

export type { Finding };
