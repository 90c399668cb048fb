import * as fs from 'fs';
import * as path from 'path';
import { covers, RULE_EXCEPTIONS } from '../../cfn/lib/exceptions';
import { synthesize } from '../../cfn/build';
import { JsonObject } from '../../cfn/lib/template';

const GUARD_RULES = path.join(__dirname, '..', '..', 'node_modules', '@cdklabs', 'cdk-validator-cfnguard', 'rules', 'control-tower', 'cfn-guard');
const templates = synthesize();

/** Every resource of the synthesized templates, with its rendered properties. */
const allResources = [...templates].flatMap(([template, t]) =>
  Object.entries(t.Resources as Record<string, JsonObject>).map(([id, r]) => ({ template, id, type: String(r.Type), properties: (r.Properties ?? {}) as JsonObject })),
);

/** `rule <name>` -> the control its file implements (ct-s3-pr-9.guard -> CT.S3.PR.9). */
function guardRuleControls(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.guard')) {
        const control = entry.name.replace(/\.guard$/, '').toUpperCase().replace(/-/g, '.');
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/^rule ([a-z0-9_]+)/gm)) out.set(m[1], control);
      }
    }
  };
  walk(GUARD_RULES);
  return out;
}

describe('rule exception registry', () => {
  test.each(RULE_EXCEPTIONS.map((e) => [`${e.engine} ${e.rule} (${'template' in e.scope ? e.scope.resources.join(', ') : e.scope.type})`, e]))(
    'GIVEN %s WHEN the templates are synthesized THEN it covers a resource (an exception for nothing is stale)',
    (_name, exception) => {
      const covered = allResources.filter((r) => covers(exception, r.template, r.id, r.type, r.properties));
      const named = 'template' in exception.scope ? exception.scope.resources.length : 1;
      expect(covered.length).toBeGreaterThanOrEqual(named);
    },
  );

  test('GIVEN every cfn-guard exception WHEN compared with the Control Tower rule files THEN the rule exists and implements the control named', () => {
    const controls = guardRuleControls();
    const guard = RULE_EXCEPTIONS.filter((e) => e.engine === 'cfn-guard');
    expect(guard.map((e) => [e.rule, e.control])).toEqual(guard.map((e) => [e.rule, controls.get(e.rule)]));
  });

  test('GIVEN every exception WHEN read THEN its link is an HTTPS AWS document, a guard link names its control, and lint rules are cfn-lint IDs', () => {
    for (const e of RULE_EXCEPTIONS) {
      expect(e.link).toMatch(/^https:\/\/(docs\.aws\.amazon\.com|github\.com\/aws-cloudformation)\//);
      if (e.engine === 'cfn-guard') expect(e.link).toContain(`#${(e.control ?? '').toLowerCase().replace(/\./g, '-')}-description`);
      else expect(e.rule).toMatch(/^[EWI][0-9]{4}$/);
    }
  });

  test('GIVEN every exception WHEN read THEN its reason is a sentence of its own, never a reference to a tracker', () => {
    for (const e of RULE_EXCEPTIONS) {
      expect(e.reason.length).toBeGreaterThan(60);
      expect(e.reason).not.toMatch(/\b(issue|item|ticket)\s*#?[0-9]/i);
    }
  });

  test('GIVEN two exceptions WHEN compared THEN none covers the same rule on the same resource twice', () => {
    const seen = allResources.flatMap((r) => RULE_EXCEPTIONS.filter((e) => covers(e, r.template, r.id, r.type, r.properties)).map((e) => `${r.template}/${r.id}/${e.engine}/${e.rule}`));
    expect(seen.filter((k, i) => seen.indexOf(k) !== i)).toEqual([]);
  });
});
