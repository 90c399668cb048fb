import { validateInvariants, literalProblems, parameterProblems } from '../../../tools/validate/validateInvariants';
import { factsFor } from '../../../tools/validate/spec';
import { JsonObject } from '../../../cfn/lib/template';
import { SharedParameters } from '../../../cfn/lib/sharedParameters';
import { TAG_KEYS } from '../../../cfn/lib/tags';
import { templateWith, brief } from './support';

const TAGS = TAG_KEYS.map((Key) => ({ Key, Value: 'v' }));
const TAG_MAP = Object.fromEntries(TAG_KEYS.map((k) => [k, 'v']));
const sub = (s: string): JsonObject => ({ 'Fn::Sub': s });

/** A bucket meeting every invariant; cases change one thing. */
const bucket = (props: JsonObject = {}, attrs: JsonObject = {}): JsonObject => ({
  Type: 'AWS::S3::Bucket',
  DeletionPolicy: 'Delete',
  UpdateReplacePolicy: 'Delete',
  ...attrs,
  Properties: { BucketName: sub('audit-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}'), Tags: TAGS, ...props },
});

const check = (resources: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] =>
  brief(validateInvariants(new Map([['FixtureStack', templateWith(resources, extra)]])));

describe('resource facts from the AWS resource specification', () => {
  test.each([
    ['AWS::S3::Bucket', { tags: { property: 'Tags', variant: 'standard' }, stateful: true, nameProperties: ['BucketName'] }],
    ['AWS::SSM::Parameter', { tags: { property: 'Tags', variant: 'map' }, stateful: false, nameProperties: ['Name'] }],
    ['AWS::SNS::Topic', { tags: { property: 'Tags', variant: 'standard' }, stateful: false, nameProperties: ['TopicName'] }],
    ['AWS::RDS::DBCluster', { tags: { property: 'Tags', variant: 'standard' }, stateful: true, nameProperties: ['DBClusterIdentifier'] }],
    ['AWS::KMS::Alias', { tags: undefined, stateful: false, nameProperties: ['AliasName'] }],
    ['AWS::EC2::SecurityGroup', { tags: { property: 'Tags', variant: 'standard' }, stateful: false, nameProperties: ['GroupName'] }],
    ['AWS::Route53::HealthCheck', { tags: { property: 'HealthCheckTags', variant: 'standard' }, stateful: false, nameProperties: [] }],
    ['AWS::S3::BucketPolicy', { tags: undefined, stateful: false, nameProperties: [] }],
  ])('GIVEN %s WHEN looked up THEN taggable, stateful and name properties are known', (type, expected) => {
    expect(factsFor(type)).toEqual(expected);
  });
});

describe('named resources carry ${EnvironmentSuffix}', () => {
  test.each([
    ['Fn::Sub with the suffix', bucket()],
    ['Fn::Join with Ref EnvironmentSuffix', bucket({ BucketName: { 'Fn::Join': ['-', ['audit', { Ref: 'EnvironmentSuffix' }]] } })],
    ['no name at all (CloudFormation generates one)', bucket({ BucketName: undefined as never })],
    ['an SSM parameter under the suffix path', { Type: 'AWS::SSM::Parameter', Properties: { Name: sub('/tap/${EnvironmentSuffix}/x'), Type: 'String', Value: 'v', Tags: TAG_MAP } }],
  ])('GIVEN %s WHEN checked THEN the name passes', (_case, resource) => {
    expect(check({ Res: resource })).toEqual([]);
  });

  test.each([
    ['a literal bucket name', bucket({ BucketName: 'audit-logs' }), 'BucketName'],
    ['a Sub without the suffix', bucket({ BucketName: sub('audit-${AWS::AccountId}') }), 'BucketName'],
    ['a Ref to another parameter', bucket({ BucketName: { Ref: 'CostCenter' } }), 'BucketName'],
    ['a security group name (supplement list)', { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'd', GroupName: 'tap-lambda', Tags: TAGS } }, 'GroupName'],
    ['a KMS alias', { Type: 'AWS::KMS::Alias', Properties: { AliasName: 'alias/tap', TargetKeyId: 'k' } }, 'AliasName'],
  ])('GIVEN %s WHEN checked THEN the name property is named', (_case, resource, property) => {
    expect(check({ Res: resource })).toEqual([expect.stringMatching(new RegExp(`^invariant:name-suffix FixtureStack Resources/Res/Properties/${property}: .* does not contain \\$\\{EnvironmentSuffix\\}`))]);
  });
});

describe('deletion policies', () => {
  test.each([
    ['DeletionPolicy Retain', { DeletionPolicy: 'Retain' }, 'invariant:retain FixtureStack Resources/Res/DeletionPolicy'],
    ['UpdateReplacePolicy Retain', { UpdateReplacePolicy: 'Retain' }, 'invariant:retain FixtureStack Resources/Res/UpdateReplacePolicy'],
    ['DeletionPolicy RetainExceptOnCreate', { DeletionPolicy: 'RetainExceptOnCreate' }, 'invariant:retain FixtureStack Resources/Res/DeletionPolicy'],
  ])('GIVEN %s WHEN checked THEN it is refused', (_case, attrs, expected) => {
    expect(check({ Res: bucket({}, attrs) })).toEqual([expect.stringContaining(expected)]);
  });

  test('GIVEN Retain on a stateless resource WHEN checked THEN it is refused as well', () => {
    expect(check({ Res: { Type: 'AWS::SNS::Topic', DeletionPolicy: 'Retain', Properties: { Tags: TAGS } } })).toEqual([expect.stringContaining('invariant:retain')]);
  });

  test('GIVEN a stateful resource without policies WHEN checked THEN both missing attributes are named', () => {
    expect(check({ Res: bucket({}, { DeletionPolicy: undefined as never, UpdateReplacePolicy: undefined as never }) })).toEqual([
      'invariant:stateful-policy FixtureStack Resources/Res: stateful AWS::S3::Bucket declares no DeletionPolicy (expected Delete; ResourceOptions.deletionPolicy sets both)',
      'invariant:stateful-policy FixtureStack Resources/Res: stateful AWS::S3::Bucket declares no UpdateReplacePolicy (expected Delete; ResourceOptions.deletionPolicy sets both)',
    ]);
  });

  test.each([
    ['Aurora cluster with Delete', 'AWS::RDS::DBCluster', 'Delete', ['expected Snapshot', 'expected Snapshot']],
    ['Aurora cluster with Snapshot', 'AWS::RDS::DBCluster', 'Snapshot', []],
    ['bucket with Snapshot', 'AWS::S3::Bucket', 'Snapshot', ['expected Delete', 'expected Delete']],
  ])('GIVEN an %s WHEN checked THEN the policy value is checked', (_case, type, policy, expected) => {
    const resource = { Type: type, DeletionPolicy: policy, UpdateReplacePolicy: policy, Properties: { Tags: TAGS } };
    expect(check({ Res: resource }).map((f) => f.replace(/.*, /, ''))).toEqual(expected);
  });

  test('GIVEN a stateless resource without policies WHEN checked THEN nothing is required', () => {
    expect(check({ Res: { Type: 'AWS::SNS::Topic', Properties: { Tags: TAGS } } })).toEqual([]);
  });
});

describe('cost-allocation tags', () => {
  test('GIVEN a taggable resource missing tags WHEN checked THEN the missing keys are named', () => {
    expect(check({ Res: bucket({ Tags: TAGS.slice(0, 2) }) })).toEqual([
      'invariant:tags FixtureStack Resources/Res/Properties/Tags: taggable AWS::S3::Bucket lacks cost-allocation tag(s) EnvironmentType, CostCenter (declare it with TemplateBuilder.resource, which writes them)',
    ]);
  });

  test('GIVEN a taggable resource with no tags WHEN checked THEN all four are named', () => {
    expect(check({ Res: bucket({ Tags: undefined as never }) })).toEqual([expect.stringContaining('lacks cost-allocation tag(s) Project, Environment, EnvironmentType, CostCenter')]);
  });

  test.each([
    ['a map-tagged type with all keys', { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v', Tags: TAG_MAP } }, []],
    ['a map-tagged type missing one', { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v', Tags: { ...TAG_MAP, CostCenter: undefined } } }, ['CostCenter (declare it with TemplateBuilder.resource']],
    ['tags computed by Fn::If', bucket({ Tags: { 'Fn::If': ['C', TAGS, TAGS] } }), ['Tags is computed by an intrinsic function']],
    ['a type with its own tag property name', { Type: 'AWS::Route53::HealthCheck', Properties: { HealthCheckConfig: { Type: 'HTTPS' }, HealthCheckTags: TAGS } }, []],
    ['a non-taggable type', { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: 'b', PolicyDocument: {} } }, []],
  ])('GIVEN %s WHEN checked THEN the tag property and shape come from the spec', (_case, resource, expected) => {
    const found = check({ Res: JSON.parse(JSON.stringify(resource)) });
    expect(found).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(found[i]).toContain(e));
  });
});

describe('no literal account IDs, ARNs, AZs or regions', () => {
  test.each([
    ['an account ID', '123456789012', 'literal account ID 123456789012'],
    ['an account ID inside a Sub pattern', 'arn:${AWS::Partition}:iam::123456789012:root', 'literal account ID 123456789012'],
    ['an ARN', 'arn:aws:s3:::audit-logs', 'literal ARN'],
    ['a GovCloud ARN', 'arn:aws-us-gov:sns:${AWS::Region}:${AWS::AccountId}:t', 'literal ARN'],
    ['a region', 'us-east-1', 'literal region name us-east-1'],
    ['a region inside a Sub pattern', 'com.amazonaws.eu-west-1.s3', 'literal region name eu-west-1'],
    ['another region', 'logs-ap-southeast-2', 'literal region name ap-southeast-2'],
    ['an AZ', 'us-east-1a', 'literal availability zone us-east-1a'],
    ['an AZ ID', 'use1-az1', 'literal availability zone ID use1-az1'],
  ])('GIVEN %s WHEN checked THEN it is named', (_case, s, expected) => {
    expect(literalProblems(s)).toEqual([expect.stringContaining(expected)]);
  });

  test.each([
    ['pseudo parameters', 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*'],
    ['a service principal', 'vpc-flow-logs.amazonaws.com'],
    ['an environment suffix', 'pr-1234'],
    ['a CIDR', '10.40.0.0/16'],
    ['a long number that is not 12 digits', '1234567890123'],
    ['a region pattern', '^[a-z]{2}(-gov)?-[a-z]+-\\d$'],
  ])('GIVEN %s WHEN checked THEN it passes', (_case, s) => {
    expect(literalProblems(s)).toEqual([]);
  });

  test('GIVEN literals in properties, numbers and mapping keys WHEN a template is checked THEN each is named with its path', () => {
    const found = check(
      { Res: { Type: 'AWS::SNS::Topic', Properties: { Tags: TAGS, DisplayName: sub('x-${AWS::Region}'), KmsMasterKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' } } },
      { Mappings: { Regions: { 'eu-west-1': { Account: 210987654321 } } } },
    );
    expect(found).toEqual([
      'invariant:literal FixtureStack Mappings/Regions/eu-west-1: literal region name eu-west-1 (use ${AWS::Region} or a parameter)',
      'invariant:literal FixtureStack Mappings/Regions/eu-west-1/Account: literal account ID 210987654321 (use ${AWS::AccountId} or a parameter)',
      'invariant:literal FixtureStack Resources/Res/Properties/KmsMasterKeyId: literal account ID 123456789012 (use ${AWS::AccountId} or a parameter)',
      expect.stringContaining('invariant:literal FixtureStack Resources/Res/Properties/KmsMasterKeyId: literal ARN'),
      'invariant:literal FixtureStack Resources/Res/Properties/KmsMasterKeyId: literal region name us-east-1 (use ${AWS::Region} or a parameter)',
    ]);
  });
});

describe('parameters', () => {
  const good = { Type: 'String', Description: 'd', ConstraintDescription: 'c', AllowedPattern: '^x$' };
  test.each([
    ['a complete String', good, []],
    ['a String with AllowedValues', { ...good, AllowedPattern: undefined, AllowedValues: ['a'] }, []],
    ['a Number with both bounds', { ...good, Type: 'Number', AllowedPattern: undefined, MinValue: 1, MaxValue: 9 }, []],
    ['an AWS-specific type without a pattern', { Type: 'AWS::EC2::VPC::Id', Description: 'd', ConstraintDescription: 'c' }, []],
    ['no ConstraintDescription', { ...good, ConstraintDescription: undefined }, ['has no ConstraintDescription']],
    ['an empty Description', { ...good, Description: '' }, ['has no Description']],
    ['a String without a pattern', { ...good, AllowedPattern: undefined }, ['is a String without AllowedPattern or AllowedValues']],
    ['a Number with only a minimum', { ...good, Type: 'Number', AllowedPattern: undefined, MinValue: 1 }, ['is a Number without AllowedValues or both MinValue and MaxValue']],
    ['a CommaDelimitedList without a pattern', { ...good, Type: 'CommaDelimitedList', AllowedPattern: undefined }, ['is a CommaDelimitedList without AllowedPattern or AllowedValues']],
    ['an AWS-specific type without ConstraintDescription', { Type: 'AWS::EC2::Subnet::Id', Description: 'd' }, ['has no ConstraintDescription']],
  ])('GIVEN %s WHEN checked THEN the problems are %j', (_case, def, expected) => {
    expect(parameterProblems(JSON.parse(JSON.stringify(def)))).toEqual(expected);
  });

  test('GIVEN a bad parameter in a template WHEN checked THEN the finding names it', () => {
    expect(check({}, { Parameters: { Cidr: { Type: 'String', Description: 'd', AllowedPattern: '^x$' } } })).toEqual([
      'invariant:parameter FixtureStack Parameters/Cidr: Cidr: has no ConstraintDescription',
    ]);
  });
});

describe('shared parameter definitions', () => {
  test.each(Object.entries(SharedParameters))('GIVEN shared parameter %s WHEN checked THEN it meets the parameter and literal rules', (id, def) => {
    expect(check({}, { Parameters: { [id]: def } })).toEqual([]);
  });
});
