/**
 * cfn-lint, AWS's own template linter (Python, pinned in requirements-dev.txt).
 * Zero errors, warnings and informational findings on every template for every
 * deployment region; nothing is ignored globally, and a rule ignored on one
 * resource carries its reason in that resource's Metadata (LINT_REASONS_KEY).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { JsonObject, LINT_REASONS_KEY } from '../../cfn/lib/template';
import { Finding } from './types';
import { DEPLOYMENT_REGIONS } from '../../cfn/contract/regions';
import { isObject, resourcesOf } from './json';
import { withTemplateFiles } from './templateFiles';

interface LintMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Location: { Path?: Array<string | number> | null; Start?: { LineNumber: number } };
  Filename: string | null;
}

/** The cfn-lint executable; CFN_LINT overrides it (for example a virtualenv's bin/cfn-lint). */
export const CFN_LINT_COMMAND = process.env.CFN_LINT ?? 'cfn-lint';

const INSTALL_HINT = 'install it with: python3 -m pip install -r requirements-dev.txt (or point CFN_LINT at the executable)';

/** Lints templates given as JSON; returns one finding per cfn-lint match. */
export function validateLint(templates: ReadonlyMap<string, JsonObject>, regions: readonly string[] = DEPLOYMENT_REGIONS): Finding[] {
  return lintReports([templates], regions)[0];
}

/**
 * Lints several template sets with one cfn-lint process (its start-up is most of
 * the cost) and returns the findings of each set, in order.
 */
export function lintReports(
  sets: ReadonlyArray<ReadonlyMap<string, JsonObject>>,
  regions: readonly string[] = DEPLOYMENT_REGIONS,
  command: string = CFN_LINT_COMMAND,
): Finding[][] {
  const result: Finding[][] = sets.map(() => []);
  if (sets.every((s) => s.size === 0)) return result;
  return withTemplateFiles('tap-lint-', sets, (files) => {
    for (const m of runCfnLint([...files.keys()], regions, command)) {
      const where = m.Filename === null ? undefined : files.get(path.resolve(m.Filename));
      if (where === undefined) throw new Error(`cfn-lint ${m.Rule.Id} on ${m.Filename ?? 'no file'}: ${m.Message}`);
      result[where.set].push({
        check: `cfn-lint ${m.Rule.Id}`,
        template: where.template,
        path: (m.Location.Path ?? []).join('/'),
        message: `${m.Level}: ${m.Message}`,
      });
    }
    return result;
  });
}

/** Runs cfn-lint with JSON output; throws a readable error if it cannot run. */
export function runCfnLint(files: readonly string[], regions: readonly string[], command: string = CFN_LINT_COMMAND): LintMatch[] {
  // cfn-lint leaves informational (I) rules out unless asked; tap fails on them too.
  const res = spawnSync(command, ['--format', 'json', '--include-checks', 'I', '--regions', ...regions, '--', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error !== undefined) {
    const missing = (res.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(`${missing ? `cfn-lint is not installed (no ${command} on PATH)` : `cannot run ${command} (${res.error.message})`}; ${INSTALL_HINT}`);
  }
  // 127: a shell or pyenv shim found no such command in the active Python.
  if (res.status === 127) throw new Error(`cfn-lint is not installed (${command}: ${res.stderr.trim()}); ${INSTALL_HINT}`);
  // cfn-lint exits with a bit mask of the levels it found (2 error, 4 warning, 8 info); 1 is a crash.
  if (res.status === 1 || res.status === null || (res.stdout.trim() === '' && res.status !== 0)) {
    throw new Error(`cfn-lint failed (exit ${res.status ?? res.signal}): ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res.stdout.trim() === '' ? [] : (JSON.parse(res.stdout) as LintMatch[]);
}

/**
 * The per-resource ignore discipline, without running cfn-lint: no template-level
 * `cfn-lint` Metadata (that would ignore a rule globally), and every rule in a
 * resource's `cfn-lint.config.ignore_checks` has a reason under LINT_REASONS_KEY
 * (TemplateBuilder writes both from the exception registry, cfn/lib/exceptions.ts).
 */
export function validateLintIgnores(templates: ReadonlyMap<string, JsonObject>): Finding[] {
  const findings: Finding[] = [];
  for (const [name, t] of templates) {
    const add = (p: string, message: string): void => {
      findings.push({ check: 'cfn-lint ignores', template: name, path: p, message });
    };
    if (isObject(t.Metadata) && t.Metadata['cfn-lint'] !== undefined) {
      add('Metadata/cfn-lint', 'template-level cfn-lint configuration ignores rules globally; ignore a rule on the one resource that needs it (an entry in cfn/lib/exceptions.ts)');
    }
    for (const [id, res] of resourcesOf(t)) {
      const metadata = isObject(res.Metadata) ? res.Metadata : {};
      const lint = metadata['cfn-lint'];
      const config = isObject(lint) && isObject(lint.config) ? lint.config : {};
      const ignored = Array.isArray(config.ignore_checks) ? config.ignore_checks.filter((r): r is string => typeof r === 'string') : [];
      const reasons = isObject(metadata[LINT_REASONS_KEY]) ? metadata[LINT_REASONS_KEY] : {};
      for (const rule of ignored) {
        const reason = reasons[rule];
        if (typeof reason !== 'string' || reason.trim() === '') {
          add(`Resources/${id}/Metadata/cfn-lint`, `ignores ${rule} without a reason in Metadata ${LINT_REASONS_KEY}`);
        }
      }
      for (const rule of Object.keys(reasons)) {
        if (!ignored.includes(rule)) add(`Resources/${id}/Metadata/${LINT_REASONS_KEY}/${rule}`, `gives a reason for ${rule}, which cfn-lint.config.ignore_checks does not ignore`);
      }
    }
  }
  return findings;
}
