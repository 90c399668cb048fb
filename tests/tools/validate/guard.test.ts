import * as fs from 'fs';
import * as path from 'path';
import { guardReports, GuardReport, failuresOf } from '../../../tools/validate/validateGuard';
import { GUARD_RULES_DIR, guardBinaryPath } from '../../../tools/validate/guardPaths';
import { GUARD_SUPPRESSIONS_KEY, JsonObject } from '../../../cfn/lib/template';
import { fixture, variant, brief } from './support';

const PUBLIC_ACCESS_RULE = 's3_bucket_level_public_access_prohibited_check';
const REASON = 'requirement 9: the bucket serves a public website';

const compliant = fixture('guard/compliant-bucket.json');
const withoutPublicAccessBlock = variant(compliant, (t) => {
  delete t.Resources.Bucket.Properties.PublicAccessBlockConfiguration;
});
const suppress = (t: JsonObject, reason: string): JsonObject =>
  variant(t, (c) => {
    c.Resources.Bucket.Metadata = { [GUARD_SUPPRESSIONS_KEY]: { [PUBLIC_ACCESS_RULE]: reason } };
  });

const FIXTURES = {
  compliant,
  withoutPublicAccessBlock,
  suppressed: suppress(withoutPublicAccessBlock, REASON),
  stale: suppress(compliant, REASON),
  emptyReason: suppress(withoutPublicAccessBlock, '  '),
} as const;
type FixtureName = keyof typeof FIXTURES;

// One cfn-guard process for every fixture; all use the template name BucketStack,
// which also proves results map back to their own set.
let reports: Record<FixtureName, GuardReport>;
beforeAll(() => {
  const names = Object.keys(FIXTURES) as FixtureName[];
  const results = guardReports(names.map((n) => new Map([['BucketStack', FIXTURES[n]]])));
  reports = Object.fromEntries(names.map((n, i) => [n, results[i]])) as Record<FixtureName, GuardReport>;
});

describe('cfn-guard with the Control Tower rules', () => {
  test('GIVEN a bucket meeting every S3 control WHEN checked THEN there are no findings and no suppressions', () => {
    expect(reports.compliant).toEqual({ findings: [], suppressed: [] });
  });

  test('GIVEN a bucket without its public-access block WHEN checked THEN CT.S3.PR.1 fails on that bucket', () => {
    expect(brief(reports.withoutPublicAccessBlock.findings)).toEqual([
      expect.stringMatching(new RegExp(`^cfn-guard BucketStack Resources/Bucket: ${PUBLIC_ACCESS_RULE} FAIL: \\[CT\\.S3\\.PR\\.1\\]`)),
    ]);
  });

  test('GIVEN that failure suppressed on the bucket with a reason WHEN checked THEN it is dropped and reported as applied', () => {
    expect(reports.suppressed).toEqual({
      findings: [],
      suppressed: [{ template: 'BucketStack', resource: 'Bucket', rule: PUBLIC_ACCESS_RULE, reason: REASON }],
    });
  });

  test('GIVEN a suppression that matches no failure WHEN checked THEN the stale suppression fails', () => {
    expect(brief(reports.stale.findings)).toEqual([
      `cfn-guard BucketStack Resources/Bucket/Metadata/${GUARD_SUPPRESSIONS_KEY}/${PUBLIC_ACCESS_RULE}: stale suppression: ${PUBLIC_ACCESS_RULE} no longer fails on Bucket; remove it`,
    ]);
    expect(reports.stale.suppressed).toEqual([]);
  });

  test('GIVEN a suppression with an empty reason WHEN checked THEN it is refused and the failure stays', () => {
    expect(brief(reports.emptyReason.findings)).toEqual([
      expect.stringContaining(`${PUBLIC_ACCESS_RULE}: suppression of ${PUBLIC_ACCESS_RULE} has no reason`),
      expect.stringContaining(`Resources/Bucket: ${PUBLIC_ACCESS_RULE} FAIL`),
    ]);
  });
});

describe('cfn-guard structured output', () => {
  test('GIVEN a failing rule whose checks name no resource WHEN mapped THEN it is one template-level failure', () => {
    const output = [{ Rule: { name: 'some_rule', checks: [{ Clause: { messages: { custom_message: '\n  [CT.X.PR.1]: text\n  [FIX]: do it\n' }, path: '' } }] } }];
    expect(failuresOf('T', output)).toEqual([{ template: 'T', resource: '', rule: 'some_rule', message: '[CT.X.PR.1]: text [FIX]: do it' }]);
  });

  test('GIVEN checks on two resources WHEN mapped THEN each resource gets one failure', () => {
    const at = (p: string): unknown => ({ traversed_to: { path: p } });
    const output = { 0: { Rule: { name: 'r', checks: [at('/Resources/B/Properties/X'), at('/Resources/A/Properties'), at('/Resources/B/Properties/Y')] } } };
    expect(failuresOf('T', output as never).map((f) => f.resource)).toEqual(['A', 'B']);
  });
});

describe('cfn-guard location', () => {
  test.each([
    ['linux', 'x64', 'ubuntu/x86_64'],
    ['linux', 'arm64', 'ubuntu/aarch64'],
    ['darwin', 'x64', 'macos/x86_64'],
    ['darwin', 'arm64', 'macos/aarch64'],
  ])('GIVEN %s on %s WHEN resolved THEN the packaged %s binary is used', (platform, arch, dir) => {
    const binary = guardBinaryPath(platform, arch);
    expect(binary.endsWith(path.join('bin', dir, 'cfn-guard'))).toBe(true);
    expect(fs.existsSync(binary)).toBe(true);
  });

  test.each([
    ['win32', 'x64'],
    ['linux', 'ia32'],
  ])('GIVEN %s on %s WHEN resolved THEN the error names the unsupported platform', (platform, arch) => {
    expect(() => guardBinaryPath(platform, arch)).toThrow(`cfn-guard: no packaged binary for platform ${platform}/${arch}`);
  });

  test('GIVEN the rules directory WHEN listed THEN it holds the Control Tower rules', () => {
    const rules = fs.readdirSync(GUARD_RULES_DIR, { recursive: true }).filter((f) => String(f).endsWith('.guard'));
    expect(rules).toContain(path.join('s3', 'ct-s3-pr-1.guard'));
  });
});
