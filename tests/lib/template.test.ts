import { canonicalize, renderTemplate, TemplateBuilder, Json } from '../../cfn/lib/template';
import { waves, referencedIds, deploymentWaves } from '../../cfn/lib/graph';
import { SNS } from 'cloudform-types';

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

describe('TemplateBuilder', () => {
  test('GIVEN a deletion policy WHEN a resource is added THEN UpdateReplacePolicy defaults to the same', () => {
    const t = new TemplateBuilder('T', 'test');
    t.resource('Topic', new SNS.Topic({}), { deletionPolicy: 'Delete' });
    expect(t.toJSON().Resources).toEqual({ Topic: { Type: 'AWS::SNS::Topic', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' } });
  });

  test('GIVEN the same logical ID twice WHEN added THEN it throws naming the template and the ID', () => {
    const t = new TemplateBuilder('T', 'test');
    t.resource('Topic', new SNS.Topic({}));
    expect(() => t.resource('Topic', new SNS.Topic({}))).toThrow('T: resource Topic declared twice');
  });

  test('GIVEN a parameter declared twice with different definitions WHEN added THEN it throws', () => {
    const t = new TemplateBuilder('T', 'test');
    t.parameter('P', { Type: 'String', Description: 'a', ConstraintDescription: 'c', AllowedPattern: '.*' });
    expect(() => t.parameter('P', { Type: 'String', Description: 'b', ConstraintDescription: 'c', AllowedPattern: '.*' })).toThrow(
      'parameter P declared twice with different definitions',
    );
  });

  test('GIVEN lint ignores and guard suppressions WHEN added THEN both land in Metadata with their reasons', () => {
    const t = new TemplateBuilder('T', 'test');
    t.resource('Topic', new SNS.Topic({}), { lintIgnores: { W1: 'because' }, guardSuppressions: { rule_x: 'requirement 8' } });
    expect((t.toJSON().Resources as never)['Topic']['Metadata']).toEqual({
      'cfn-lint': { config: { ignore_checks: ['W1'] } },
      'tap:guard-suppressions': { rule_x: 'requirement 8' },
      'tap:lint-ignore-reasons': { W1: 'because' },
    });
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
