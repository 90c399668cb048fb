import { spawnSync } from 'child_process';
import * as path from 'path';
import { dataAtRisk, exitCode, formatReview, isStatefulType, leafChanges, reviewDiff, ResourceChange, ReviewDiff, EXIT_REPLACEMENT } from '../../../tools/review/templateDiff';
import { renderTemplate } from '../../../cfn/lib/template';
import { templatesAtRef, templatesInDir } from '../../../tools/review/baseline';

const REPO = path.join(__dirname, '..', '..', '..');
const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'review');
const base = templatesInDir('--base-dir', path.join(FIXTURES, 'base'));
const head = templatesInDir('--head-dir', path.join(FIXTURES, 'head'));
const review = reviewDiff(base, head);

const change = (r: ReviewDiff, template: string, id: string): ResourceChange | undefined =>
  r.templates.find((t) => t.name === template)?.resources.find((c) => c.logicalId === id);

/** One-template sets holding an Aurora cluster with the given properties. */
const clusterSet = (props: Record<string, unknown>): Map<string, string> =>
  new Map([
    [
      'DatabaseStack',
      renderTemplate({
        Resources: {
          Cluster: {
            Type: 'AWS::RDS::DBCluster',
            DeletionPolicy: 'Snapshot',
            UpdateReplacePolicy: 'Snapshot',
            Properties: { DBClusterIdentifier: 'aurora-cluster-dev', Engine: 'aurora-mysql', BackupRetentionPeriod: 7, ...props },
          },
        },
      } as never),
    ],
  ]);

describe('template diff (fixtures base -> head)', () => {
  test.each([
    ['NetworkStack', 'EndpointSg', 'add'],
    ['DatabaseStack', 'EndpointParam', 'add'],
    ['StorageStack', 'Bucket', 'add'],
    ['TapStack', 'StorageStack', 'add'],
    ['DatabaseStack', 'SlowLogGroup', 'remove'],
    ['LegacyStack', 'Topic', 'remove'],
    ['TapStack', 'LegacyStack', 'remove'],
    ['DatabaseStack', 'SubnetGroup', 'update'],
    ['DatabaseStack', 'Cluster', 'replace'],
    ['NetworkStack', 'Vpc', 'replace'],
    ['NetworkStack', 'Subnet', 'replace'],
  ])('GIVEN the fixtures WHEN diffed THEN %s %s is marked %s', (template, id, action) => {
    expect(change(review, template, id)?.action).toBe(action);
  });

  test('GIVEN unchanged resources WHEN diffed THEN they are not listed', () => {
    expect(review.templates.find((t) => t.name === 'ComputeStack')?.resources).toEqual([]);
  });

  test('GIVEN a changed DBClusterIdentifier WHEN diffed THEN that property is marked as requiring replacement and the others are not', () => {
    const props = change(review, 'DatabaseStack', 'Cluster')?.properties ?? [];
    expect(props.find((p) => p.name === 'Properties.DBClusterIdentifier')?.replacement).toBe('will');
    expect(props.find((p) => p.name === 'Properties.BackupRetentionPeriod')?.replacement).toBeUndefined();
  });

  test('GIVEN the fixtures WHEN diffed THEN exactly the stateful replacements and removals are data at risk, with their policies', () => {
    expect(dataAtRisk(review).map((r) => [r.template, r.logicalId, r.action, r.policy])).toEqual([
      ['DatabaseStack', 'Cluster', 'replace', 'Snapshot'],
      ['DatabaseStack', 'SlowLogGroup', 'remove', 'Delete'],
      ['TapStack', 'LegacyStack', 'remove', 'Delete'],
    ]);
  });

  test('GIVEN template bytes WHEN compared THEN changed nested stacks are updated, identical ones left alone', () => {
    expect({ updated: review.nestedUpdated, unchanged: review.nestedUnchanged, created: review.nestedNew, removed: review.nestedRemoved }).toEqual({
      updated: ['DatabaseStack', 'NetworkStack'],
      unchanged: ['ComputeStack'],
      created: ['StorageStack'],
      removed: ['LegacyStack'],
    });
  });

  test('GIVEN exports imported elsewhere WHEN removed or their resource is replaced THEN each is flagged with its importers', () => {
    expect(review.exportConflicts.map((x) => [x.exportName, x.exporter, x.importers])).toEqual([
      ['tap-${EnvironmentSuffix}-SubnetId', 'NetworkStack', ['DatabaseStack']],
      ['tap-${EnvironmentSuffix}-VpcId', 'NetworkStack', ['ComputeStack']],
    ]);
    expect(review.exportConflicts[0].reason).toMatch(/no longer exports/);
    expect(review.exportConflicts[1].reason).toMatch(/Vpc.*replaced/);
  });

  test('GIVEN an export whose Value expression changes WHEN it is imported THEN it is flagged', () => {
    const t = (value: unknown, importer: boolean): string =>
      renderTemplate({
        Resources: importer ? { Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::ImportValue': 'x' } } } } : { T: { Type: 'AWS::SNS::Topic' } },
        ...(importer ? {} : { Outputs: { O: { Value: value, Export: { Name: 'x' } } } }),
      } as never);
    const r = reviewDiff(
      new Map([['A', t({ Ref: 'T' }, false)], ['B', t(null, true)]]),
      new Map([['A', t({ 'Fn::GetAtt': ['T', 'TopicName'] }, false)], ['B', t(null, true)]]),
    );
    expect(r.exportConflicts.map((x) => [x.exportName, x.importers])).toEqual([['x', ['B']]]);
  });

  test.each([
    { prop: 'DBClusterIdentifier', props: { DBClusterIdentifier: 'aurora-dev' }, action: 'replace', sameName: [] },
    { prop: 'Engine', props: { Engine: 'aurora-postgresql' }, action: 'may-replace', sameName: ['DBClusterIdentifier'] },
    { prop: 'BackupRetentionPeriod', props: { BackupRetentionPeriod: 30 }, action: 'update', sameName: [] },
  ])('GIVEN an Aurora cluster WHEN its $prop changes THEN the action is $action', ({ props, action, sameName }) => {
    const r = reviewDiff(clusterSet({}), clusterSet(props));
    const c = change(r, 'DatabaseStack', 'Cluster');
    expect({ action: c?.action, dataAtRisk: c?.dataAtRisk, sameName: c?.sameNameReplacement }).toEqual({
      action,
      dataAtRisk: action !== 'update',
      sameName,
    });
  });

  test.each([
    { situation: 'no flag, data at risk', failOnReplacement: false, headSet: clusterSet({ Engine: 'aurora-postgresql' }), expected: 0 },
    { situation: '--fail-on-replacement, data at risk', failOnReplacement: true, headSet: clusterSet({ Engine: 'aurora-postgresql' }), expected: EXIT_REPLACEMENT },
    { situation: '--fail-on-replacement, in-place update only', failOnReplacement: true, headSet: clusterSet({ BackupRetentionPeriod: 30 }), expected: 0 },
  ])('GIVEN $situation WHEN the exit code is computed THEN it is $expected', ({ failOnReplacement, headSet, expected }) => {
    expect(exitCode(reviewDiff(clusterSet({}), headSet), { failOnReplacement })).toBe(expected);
  });

  test('GIVEN a fetched template with other formatting and key order WHEN diffed THEN it is unchanged', () => {
    const text = base.get('NetworkStack') as string;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(text)).reverse()), null, 4);
    const r = reviewDiff(new Map([['NetworkStack', reordered]]), new Map([['NetworkStack', text]]));
    expect(r.templates.map((t) => t.status)).toEqual(['unchanged']);
  });

  test('GIVEN a base template that is not JSON WHEN diffed THEN the error names it', () => {
    expect(() => reviewDiff(new Map([['NetworkStack', '{oops']]), head)).toThrow(/base template NetworkStack is not valid JSON/);
  });

  test.each(['AWS::RDS::DBCluster', 'AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret', 'AWS::KMS::Key', 'AWS::Logs::LogGroup'])(
    'GIVEN %s WHEN classified THEN it is stateful (the invariant validator\'s predicate)',
    (type) => expect(isStatefulType(type)).toBe(true),
  );

  test.each(['AWS::Lambda::Function', 'AWS::EC2::SecurityGroup', 'AWS::SSM::Parameter'])('GIVEN %s WHEN classified THEN it is not stateful', (type) => {
    expect(isStatefulType(type)).toBe(false);
  });

  test('GIVEN nested values WHEN compared THEN only the differing leaves are reported', () => {
    expect(leafChanges({ A: [1, { B: 'x' }], C: 1 }, { A: [1, { B: 'y' }], C: 1 })).toEqual([{ path: '.A[1].B', oldValue: 'x', newValue: 'y' }]);
  });

  test('GIVEN the fixtures WHEN printed THEN data at risk is loud, replacements are marked, and there are no colour codes', () => {
    const text = formatReview(review);
    expect(text).toMatch(/!! DATA AT RISK: 3 stateful resources/);
    expect(text).toMatch(/DBClusterIdentifier.*\(requires replacement\)/);
    expect(text).toMatch(/left alone.*ComputeStack/);
    expect(text).toMatch(/cannot be updated as it is in use/);
    expect(text.includes('\u001b[')).toBe(false);
  });
});

describe('baseline readers', () => {
  test.each([
    ['a missing directory', () => templatesInDir('--base-dir', path.join(FIXTURES, 'missing')), /--base-dir .*missing: no such directory/],
    ['a file', () => templatesInDir('--base-dir', path.join(FIXTURES, 'base', 'TapStack.json')), /not a directory/],
    ['an unknown git ref', () => templatesAtRef('no-such-ref-xyz'), /--base no-such-ref-xyz: not a commit/],
    ['an option-like ref', () => templatesAtRef('--output=x'), /not a commit/],
  ])('GIVEN %s WHEN read THEN the error names the option and value', (_case, read, message) => {
    expect(read).toThrow(message);
  });

  test('GIVEN HEAD WHEN read THEN the committed root template is among the baseline', () => {
    expect([...templatesAtRef('HEAD').keys()]).toContain('TapStack');
  });
});

describe('npm run diff (CLI)', () => {
  test('GIVEN the fixture directories and --fail-on-replacement WHEN run THEN it prints the review and exits 2', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'tools/cli/diff.ts', '--base-dir', path.join(FIXTURES, 'base'), '--head-dir', path.join(FIXTURES, 'head'), '--fail-on-replacement'],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: EXIT_REPLACEMENT, stderr: '' });
    expect(r.stdout).toMatch(/DATA AT RISK/);
  });
});
