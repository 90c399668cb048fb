import { lintReports, runCfnLint, validateLintIgnores } from '../../../tools/validate/validateLint';
import { Finding } from '../../../tools/validate/types';
import { JsonObject } from '../../../cfn/lib/template';
import { fixture, templateWith, brief } from './support';

const FIXTURES = {
  misspelled: fixture('lint/misspelled-property.json'),
  redundantDependsOn: fixture('lint/redundant-depends-on.json'),
  ignoredOnResource: fixture('lint/redundant-depends-on-ignored.json'),
  informational: fixture('lint/join-with-empty-delimiter.json'),
} as const;
type FixtureName = keyof typeof FIXTURES;

// One cfn-lint process for every fixture; each set holds a template of the same
// name, which also proves findings map back to the right set.
let reports: Record<FixtureName, Finding[]>;
beforeAll(() => {
  const names = Object.keys(FIXTURES) as FixtureName[];
  const results = lintReports(names.map((n) => new Map([['FixtureStack', FIXTURES[n]]])));
  reports = Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<FixtureName, Finding[]>;
});

describe('cfn-lint gate', () => {
  test('GIVEN a misspelled property WHEN linted THEN E3002 names the template and the property path', () => {
    expect(reports.misspelled).toEqual([
      expect.objectContaining({ check: 'cfn-lint E3002', template: 'FixtureStack', path: 'Resources/Bucket/Properties/BucketNme' }),
    ]);
    expect(reports.misspelled[0].message).toMatch(/^Error: .*'BucketNme' was unexpected/);
  });

  test('GIVEN a warning-level problem WHEN linted THEN it is a finding too', () => {
    expect(reports.redundantDependsOn.map((f) => [f.check, f.path])).toEqual([['cfn-lint W3005', 'Resources/Subscription/DependsOn']]);
  });

  test('GIVEN an informational-level finding WHEN linted THEN it is a finding too (cfn-lint skips I rules unless asked)', () => {
    expect(reports.informational.map((f) => [f.check, f.path])).toEqual([['cfn-lint I1022', 'Resources/Topic/Properties/TopicName/Fn::Join/0']]);
  });

  test('GIVEN the same rule ignored on that resource with a reason WHEN linted THEN nothing is reported', () => {
    expect(reports.ignoredOnResource).toEqual([]);
    expect(validateLintIgnores(new Map([['FixtureStack', FIXTURES.ignoredOnResource]]))).toEqual([]);
  });

  test('GIVEN no cfn-lint executable WHEN linting THEN the error says it is missing and how to install it', () => {
    expect(() => runCfnLint(['x.json'], ['us-east-1'], 'tap-no-such-cfn-lint')).toThrow(
      /cfn-lint is not installed \(no tap-no-such-cfn-lint on PATH\); install it with: python3 -m pip install -r requirements-dev.txt/,
    );
  });
});

describe('per-resource ignores', () => {
  const withMetadata = (metadata: unknown, templateMetadata?: unknown): Map<string, JsonObject> =>
    new Map([['FixtureStack', templateWith({ Topic: { Type: 'AWS::SNS::Topic', Metadata: metadata } }, templateMetadata === undefined ? {} : { Metadata: templateMetadata })]]);

  test.each([
    ['an ignored rule without a reason', { 'cfn-lint': { config: { ignore_checks: ['W3005'] } } }, undefined, 'Resources/Topic/Metadata/cfn-lint: ignores W3005 without a reason'],
    [
      'an empty reason',
      { 'cfn-lint': { config: { ignore_checks: ['W3005'] } }, 'tap:lint-ignore-reasons': { W3005: ' ' } },
      undefined,
      'Resources/Topic/Metadata/cfn-lint: ignores W3005 without a reason',
    ],
    ['a reason for a rule that is not ignored', { 'tap:lint-ignore-reasons': { W3005: 'stale' } }, undefined, 'Resources/Topic/Metadata/tap:lint-ignore-reasons/W3005: gives a reason for W3005'],
    ['a template-level (global) ignore', {}, { 'cfn-lint': { config: { ignore_checks: ['W3005'] } } }, 'Metadata/cfn-lint: template-level cfn-lint configuration ignores rules globally'],
  ])('GIVEN %s WHEN checked THEN it is a finding', (_case, metadata, templateMetadata, expected) => {
    const found = brief(validateLintIgnores(withMetadata(metadata, templateMetadata)));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`cfn-lint ignores FixtureStack ${expected}`);
  });
});
