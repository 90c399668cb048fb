/**
 * Security rules: AWS Control Tower proactive controls, run by cfn-guard, both from
 * @cdklabs/cdk-validator-cfnguard. The controls have no suppression mechanism of
 * their own, so tap defines one: resource Metadata[GUARD_SUPPRESSIONS_KEY] =
 * { "<rule name>": "<reason naming the requirement>" }. Exactly those
 * (resource, rule) failures are dropped and reported; a suppression with an
 * empty reason, or one that no longer matches a failure, is itself a finding.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { GUARD_SUPPRESSIONS_KEY, Json, JsonObject } from '../../cfn/lib/template';
import { Finding } from './types';
import { isObject, resourcesOf } from './json';
import { GUARD_RULES_DIR, guardBinaryPath } from './guardPaths';
import { withTemplateFiles } from './templateFiles';

const CHECK = 'cfn-guard';

/** One failing (template, resource, rule) triple from cfn-guard. */
export interface GuardFailure {
  readonly template: string;
  /** Logical ID, or "" when the rule failed on the template as a whole. */
  readonly resource: string;
  readonly rule: string;
  /** The control's own text: "[CT.S3.PR.1]: ... [FIX]: ...". */
  readonly message: string;
}

export interface GuardSuppression {
  readonly template: string;
  readonly resource: string;
  readonly rule: string;
  readonly reason: string;
}

export interface GuardReport {
  /** Unsuppressed failures and invalid or stale suppressions. */
  readonly findings: Finding[];
  /** Failures dropped by a suppression, with the reason given. */
  readonly suppressed: GuardSuppression[];
}

interface GuardFileResult {
  readonly name: string;
  readonly not_compliant?: Json;
}

/**
 * Runs cfn-guard once over every template of every set (one process for all, which
 * is most of the cost) and returns one report per set, in order.
 */
export function guardReports(sets: ReadonlyArray<ReadonlyMap<string, JsonObject>>): GuardReport[] {
  const failures = runGuard(sets);
  return sets.map((templates, i) => applySuppressions(templates, failures[i]));
}

const reports = new WeakMap<ReadonlyMap<string, JsonObject>, GuardReport>();

/** The guard report of one template set; memoized per set object, so synth runs cfn-guard once. */
export function guardReport(templates: ReadonlyMap<string, JsonObject>): GuardReport {
  const cached = reports.get(templates);
  if (cached !== undefined) return cached;
  const [report] = guardReports([templates]);
  reports.set(templates, report);
  return report;
}

export const validateGuard = (templates: ReadonlyMap<string, JsonObject>): Finding[] => guardReport(templates).findings;

/** The suppressions that dropped a failure (runs cfn-guard unless this set was already checked). */
export const appliedGuardSuppressions = (templates: ReadonlyMap<string, JsonObject>): GuardSuppression[] => guardReport(templates).suppressed;

/** Failures per set (same order as `sets`), from one cfn-guard process. */
export function runGuard(sets: ReadonlyArray<ReadonlyMap<string, JsonObject>>, binary: string = guardBinaryPath()): GuardFailure[][] {
  const result: GuardFailure[][] = sets.map(() => []);
  if (sets.every((s) => s.size === 0)) return result;
  return withTemplateFiles('tap-guard-', sets, (files) => {
    const res = spawnSync(
      binary,
      ['validate', '--rules', GUARD_RULES_DIR, ...[...files.keys()].flatMap((f) => ['--data', f]), '--output-format', 'json', '--structured', '--show-summary', 'none'],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
    );
    if (res.error !== undefined) {
      throw new Error(`cannot run cfn-guard at ${binary} (${res.error.message}); run npm install to install @cdklabs/cdk-validator-cfnguard`);
    }
    // cfn-guard 3.x: 0 all rules pass, 19 some rule failed (5 in earlier 3.x releases); anything else is an error.
    if (res.status !== 0 && res.status !== 19 && res.status !== 5) {
      throw new Error(`cfn-guard failed (exit ${res.status ?? res.signal}): ${(res.stderr || res.stdout).trim()}`);
    }
    let parsed: GuardFileResult[];
    try {
      parsed = JSON.parse(res.stdout) as GuardFileResult[];
    } catch {
      throw new Error(`cfn-guard printed no JSON (exit ${res.status}): ${res.stdout.slice(0, 500)}`);
    }
    for (const fileResult of parsed) {
      const where = files.get(fileResult.name) ?? files.get(path.resolve(fileResult.name));
      if (where === undefined) throw new Error(`cfn-guard reported on an unknown file ${fileResult.name}`);
      result[where.set].push(...failuresOf(where.template, fileResult.not_compliant));
    }
    return result;
  });
}

/**
 * cfn-guard's structured output nests each failing rule's checks differently
 * depending on how the rule is written (clauses, parameterized rules, blocks), so
 * this does not follow a schema: it collects every `path` under a failing rule
 * (`/Resources/<logical ID>/...`) and the control's custom message.
 */
export function failuresOf(template: string, notCompliant: Json | undefined): GuardFailure[] {
  const entries = Array.isArray(notCompliant) ? notCompliant : isObject(notCompliant) ? Object.values(notCompliant) : [];
  const out = new Map<string, GuardFailure>();
  for (const entry of entries) {
    if (!isObject(entry)) continue;
    const rule = Object.values(entry).find((v): v is JsonObject => isObject(v) && typeof v.name === 'string');
    if (rule === undefined) continue;
    const resources = new Set<string>();
    const messages = new Set<string>();
    collect(rule, resources, messages);
    const message = [...messages].join(' ');
    for (const resource of resources.size > 0 ? [...resources].sort() : ['']) {
      out.set(`${rule.name as string}\0${resource}`, { template, resource, rule: rule.name as string, message });
    }
  }
  return [...out.values()];
}

function collect(value: Json, resources: Set<string>, messages: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collect(v, resources, messages);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'path' && typeof v === 'string') {
        const m = /^\/Resources\/([A-Za-z0-9]+)/.exec(v);
        if (m !== null) resources.add(m[1]);
      } else if (k === 'custom_message' && typeof v === 'string' && v.trim() !== '') {
        messages.add(v.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' '));
      } else collect(v, resources, messages);
    }
  }
}

/** Suppressions declared in resource Metadata, including malformed ones (reported by applySuppressions). */
export function declaredGuardSuppressions(templates: ReadonlyMap<string, JsonObject>): Array<GuardSuppression & { readonly problem: string | undefined }> {
  const out: Array<GuardSuppression & { problem: string | undefined }> = [];
  for (const [template, t] of templates) {
    for (const [resource, res] of resourcesOf(t)) {
      const metadata = isObject(res.Metadata) ? res.Metadata : {};
      const declared = metadata[GUARD_SUPPRESSIONS_KEY];
      if (declared === undefined) continue;
      if (!isObject(declared)) {
        out.push({ template, resource, rule: '', reason: '', problem: `Metadata ${GUARD_SUPPRESSIONS_KEY} must be an object of rule name -> reason` });
        continue;
      }
      for (const [rule, reason] of Object.entries(declared)) {
        const text = typeof reason === 'string' ? reason.trim() : '';
        out.push({ template, resource, rule, reason: text, problem: text === '' ? `suppression of ${rule} has no reason (name the requirement that forces it)` : undefined });
      }
    }
  }
  return out;
}

export function applySuppressions(templates: ReadonlyMap<string, JsonObject>, failures: readonly GuardFailure[]): GuardReport {
  const findings: Finding[] = [];
  const suppressed: GuardSuppression[] = [];
  const key = (f: { template: string; resource: string; rule: string }): string => `${f.template}\0${f.resource}\0${f.rule}`;
  const valid = new Map<string, GuardSuppression>();
  for (const s of declaredGuardSuppressions(templates)) {
    const at = `Resources/${s.resource}/Metadata/${GUARD_SUPPRESSIONS_KEY}`;
    if (s.problem !== undefined) findings.push({ check: CHECK, template: s.template, path: s.rule === '' ? at : `${at}/${s.rule}`, message: s.problem });
    else valid.set(key(s), { template: s.template, resource: s.resource, rule: s.rule, reason: s.reason });
  }
  const matched = new Set<string>();
  for (const f of failures) {
    const s = valid.get(key(f));
    if (s !== undefined) {
      matched.add(key(f));
      suppressed.push(s);
    } else {
      findings.push({ check: CHECK, template: f.template, path: f.resource === '' ? '' : `Resources/${f.resource}`, message: `${f.rule} FAIL: ${f.message}` });
    }
  }
  for (const [k, s] of valid) {
    if (!matched.has(k)) {
      findings.push({
        check: CHECK,
        template: s.template,
        path: `Resources/${s.resource}/Metadata/${GUARD_SUPPRESSIONS_KEY}/${s.rule}`,
        message: `stale suppression: ${s.rule} no longer fails on ${s.resource}; remove it`,
      });
    }
  }
  return { findings, suppressed };
}
