import { canonicalize, renderTemplate, TemplateBuilder, Json, JsonObject } from '../../cfn/lib/template';
import { waves, referencedIds, deploymentWaves } from '../../cfn/lib/graph';
import { RuleException } from '../../cfn/lib/exceptions';

describe('canonicalize', () => {
  test('GIVEN keys in any order WHEN canonicalized THEN top level and resource attributes follow CloudFormation order, the rest is alphabetical', () => {
    const doc = {
      Resources: { B: { Properties: { z: 1, a: 2 }, Type: 'X', DependsOn: 'A' } },
      Description: 'd',
      AWSTemplateFormatVersion: '2010-09-09',
    };
    expect(renderTemplate(canonicalize(doc) as never)).toBe(
      renderTemplate({
        AWSTemplateFormatVersion: '2010-09-09',
        Description: 'd',
        Resources: { B: { Type: 'X', DependsOn: 'A', Properties: { a: 2, z: 1 } } },
      }),
    );
  });

  test('GIVEN arrays WHEN canonicalized THEN their order is kept', () => {
    expect(canonicalize({ a: [3, 1, 2] } as Json)).toEqual({ a: [3, 1, 2] });
  });
});

const TAGS = [
  { Key: 'Project', Value: 'tap' },
  { Key: 'Environment', Value: { Ref: 'EnvironmentSuffix' } },
  { Key: 'EnvironmentType', Value: { Ref: 'EnvironmentType' } },
  { Key: 'CostCenter', Value: { Ref: 'CostCenter' } },
];
const resources = (t: TemplateBuilder): Record<string, JsonObject> => t.toJSON().Resources as Record<string, JsonObject>;

describe('TemplateBuilder resources', () => {
  test('GIVEN a deletion policy WHEN a resource is added THEN UpdateReplacePolicy defaults to the same', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.resource('Alias', 'AWS::KMS::Alias', { AliasName: 'alias/x', TargetKeyId: 'k' }, { deletionPolicy: 'Delete' });
    expect(resources(t).Alias).toMatchObject({ Type: 'AWS::KMS::Alias', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('GIVEN the same logical ID twice WHEN added THEN it throws naming the template and the ID', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.resource('Alias', 'AWS::KMS::Alias', { AliasName: 'alias/x', TargetKeyId: 'k' });
    expect(() => t.resource('Alias', 'AWS::KMS::Alias', { AliasName: 'alias/y', TargetKeyId: 'k' })).toThrow('T: resource Alias declared twice');
  });

  test('GIVEN a parameter declared twice with different definitions WHEN added THEN it throws', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.parameter('P', { Type: 'String', Description: 'a', ConstraintDescription: 'c', AllowedPattern: '.*' });
    expect(() => t.parameter('P', { Type: 'String', Description: 'b', ConstraintDescription: 'c', AllowedPattern: '.*' })).toThrow(
      'parameter P declared twice with different definitions',
    );
  });
});

describe('TemplateBuilder cost-allocation tags', () => {
  test.each([
    ['a list-tagged type', 'AWS::SNS::Topic', {}, 'Tags', TAGS],
    ['a map-tagged type', 'AWS::SSM::Parameter', { Type: 'String', Value: 'v' }, 'Tags', { Project: 'tap', Environment: { Ref: 'EnvironmentSuffix' }, EnvironmentType: { Ref: 'EnvironmentType' }, CostCenter: { Ref: 'CostCenter' } }],
    ['a type whose tag property has another name', 'AWS::Route53::HealthCheck', { HealthCheckConfig: { Type: 'HTTPS' } }, 'HealthCheckTags', TAGS],
  ] as const)('GIVEN %s WHEN added THEN the builder writes the tags', (_what, type, properties, property, expected) => {
    const t = new TemplateBuilder('T', 'test', []);
    t.resource('R', type, properties as never);
    expect((resources(t).R.Properties as JsonObject)[property]).toEqual(expected);
  });

  test('GIVEN extra tags WHEN added THEN they follow the cost-allocation tags', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.resource('Topic', 'AWS::SNS::Topic', {}, { tags: { Name: 'alarms' } });
    expect((resources(t).Topic.Properties as JsonObject).Tags).toEqual([...TAGS, { Key: 'Name', Value: 'alarms' }]);
  });

  test('GIVEN a global table WHEN added THEN every replica carries the tags (they live on the replicas)', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.resource('Table', 'AWS::DynamoDB::GlobalTable', { AttributeDefinitions: [], KeySchema: [], Replicas: [{ Region: 'a' }, { Region: 'b' }] });
    const replicas = (resources(t).Table.Properties as JsonObject).Replicas as JsonObject[];
    expect(replicas.map((r) => r.Tags)).toEqual([TAGS, TAGS]);
  });

  test.each([
    ['Tags written by hand', 'AWS::SNS::Topic', { Tags: [] }, {}, 'T: R: Tags is set by the builder (pass extra tags as options.tags)'],
    ['a cost-allocation key as an extra tag', 'AWS::SNS::Topic', {}, { tags: { CostCenter: 'x' } }, 'tag CostCenter is a cost-allocation tag'],
    ['extra tags on an untaggable type', 'AWS::KMS::Alias', { AliasName: 'a', TargetKeyId: 'k' }, { tags: { Name: 'x' } }, 'AWS::KMS::Alias is not taggable'],
    ['replica tags written by hand', 'AWS::DynamoDB::GlobalTable', { AttributeDefinitions: [], KeySchema: [], Replicas: [{ Region: 'a', Tags: [] }] }, {}, 'Replicas[].Tags is set by the builder'],
    ['a role through resource()', 'AWS::IAM::Role', { AssumeRolePolicyDocument: {} }, {}, 'declare roles with serviceRole()'],
  ])('GIVEN %s WHEN added THEN it throws', (_what, type, properties, options, message) => {
    const t = new TemplateBuilder('T', 'test', []);
    expect(() => t.resource('R', type as never, properties as never, options)).toThrow(message);
  });
});

describe('TemplateBuilder.serviceRole', () => {
  test('GIVEN a service and a trust condition WHEN added THEN the role has that trust policy, the environment path and the tags, and no name', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.serviceRole('Role', { service: 'vpc-flow-logs.amazonaws.com', trustCondition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } as never }, Description: 'd' });
    expect(resources(t).Role).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'vpc-flow-logs.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
        },
        Description: 'd',
        Path: { 'Fn::Sub': '/tap/${EnvironmentSuffix}/' },
        Tags: TAGS,
      },
    });
  });
});

describe('TemplateBuilder.export', () => {
  test('GIVEN an export key WHEN exported THEN the output ID is the key and the export name carries the suffix', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.export('VpcId', { Ref: 'Vpc' } as never, { description: 'VPC ID', condition: 'C' });
    expect(t.toJSON().Outputs).toEqual({
      VpcId: { Description: 'VPC ID', Condition: 'C', Value: { Ref: 'Vpc' }, Export: { Name: { 'Fn::Sub': 'tap-${EnvironmentSuffix}-VpcId' } } },
    });
  });

  test('GIVEN the same key exported twice WHEN added THEN it throws', () => {
    const t = new TemplateBuilder('T', 'test', []);
    t.export('VpcId', 'a', { description: 'd' });
    expect(() => t.export('VpcId', 'b', { description: 'd' })).toThrow('T: output VpcId declared twice');
  });
});

describe('TemplateBuilder rule exceptions', () => {
  const registry: RuleException[] = [
    { engine: 'cfn-lint', rule: 'W1', scope: { template: 'T', resources: ['Topic'] }, reason: 'because', link: 'https://example.com/w1' },
    { engine: 'cfn-guard', rule: 'rule_x', control: 'CT.X.PR.1', scope: { template: 'T', resources: ['Topic'] }, reason: 'the requirement', link: 'https://example.com/x' },
    { engine: 'cfn-guard', rule: 'rule_y', control: 'CT.Y.PR.1', scope: { type: 'AWS::SNS::Topic', where: { DisplayName: 'matched' } }, reason: 'by type', link: 'https://example.com/y' },
  ];

  test('GIVEN registry entries for a resource WHEN it is added THEN lint ignores and guard suppressions land in its Metadata with their reasons', () => {
    const t = new TemplateBuilder('T', 'test', registry);
    t.resource('Topic', 'AWS::SNS::Topic', {});
    expect(resources(t).Topic.Metadata).toEqual({
      'cfn-lint': { config: { ignore_checks: ['W1'] } },
      'tap:guard-suppressions': { rule_x: 'the requirement' },
      'tap:lint-ignore-reasons': { W1: 'because' },
    });
  });

  test.each([
    ['matches the where clause', { DisplayName: 'matched' }, { 'tap:guard-suppressions': { rule_y: 'by type' } }],
    ['does not match it', { DisplayName: 'other' }, undefined],
  ])('GIVEN a type-wide entry WHEN a resource of that type %s THEN the suppression is applied accordingly', (_what, properties, metadata) => {
    const t = new TemplateBuilder('T', 'test', registry);
    t.resource('Other', 'AWS::SNS::Topic', properties);
    expect(resources(t).Other.Metadata).toEqual(metadata);
  });

  test('GIVEN an entry for another template WHEN a resource of the same ID is added THEN nothing is applied', () => {
    const t = new TemplateBuilder('U', 'test', registry);
    t.resource('Topic', 'AWS::SNS::Topic', {});
    expect(resources(t).Topic.Metadata).toBeUndefined();
  });
});

describe('graph', () => {
  test.each([
    ['Ref', { Ref: 'A' }, ['A']],
    ['GetAtt list', { 'Fn::GetAtt': ['B', 'Outputs.X'] }, ['B']],
    ['GetAtt string', { 'Fn::GetAtt': 'C.Arn' }, ['C']],
    ['Sub', { 'Fn::Sub': '${D}-${E.Arn}-${AWS::Region}' }, ['D', 'E']],
  ])('GIVEN a %s WHEN scanned THEN the referenced IDs are found', (_n, value, ids) => {
    expect([...referencedIds(value as Json)].filter((i) => !i.startsWith('AWS::')).sort()).toEqual(ids);
  });

  test('GIVEN a DAG WHEN layered THEN each wave waits only for earlier waves', () => {
    const edges = new Map([
      ['a', new Set<string>()],
      ['b', new Set(['a'])],
      ['c', new Set(['a'])],
      ['d', new Set(['b', 'c'])],
    ]);
    expect(waves(edges)).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  test('GIVEN a cycle WHEN layered THEN it throws naming the nodes', () => {
    const edges = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['a'])],
      ['c', new Set<string>()],
    ]);
    expect(() => waves(edges)).toThrow('dependency cycle among: a, b');
  });

  test('GIVEN nested stacks and a custom resource WHEN layered THEN DependsOn and GetAtt both order them', () => {
    const root = {
      Resources: {
        Net: { Type: 'AWS::CloudFormation::Stack' },
        Db: { Type: 'AWS::CloudFormation::Stack', DependsOn: 'Net' },
        App: { Type: 'AWS::CloudFormation::Stack', DependsOn: 'Net' },
        Mig: { Type: 'Custom::M', DependsOn: 'Db', Properties: { ServiceToken: { 'Fn::GetAtt': ['App', 'Outputs.Arn'] } } },
      },
    };
    expect(deploymentWaves(root as never)).toEqual([['Net'], ['App', 'Db'], ['Mig']]);
  });
});
