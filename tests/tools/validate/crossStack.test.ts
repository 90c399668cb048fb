import { namePatternOf, validateCrossStack } from '../../../tools/validate/validateCrossStack';
import { Json, JsonObject } from '../../../cfn/lib/template';
import { templateWith, brief } from './support';

const ROOT = 'TapStack';
const exportName = (key: string): JsonObject => ({ 'Fn::Sub': `tap-\${EnvironmentSuffix}-${key}` });
const importOf = (key: string): JsonObject => ({ 'Fn::ImportValue': exportName(key) });
const param = (extra: JsonObject = {}): JsonObject => ({ Type: 'String', Description: 'd', ConstraintDescription: 'c', AllowedPattern: '.+', ...extra });

interface StackSpec {
  readonly params?: Record<string, JsonObject>;
  readonly exports?: readonly string[];
  readonly imports?: readonly string[];
}

/** A nested template: parameters, exported outputs, and a topic whose name reads the imports. */
const nested = (spec: StackSpec): JsonObject =>
  templateWith(
    { Topic: { Type: 'AWS::SNS::Topic', Properties: (spec.imports ?? []).length > 0 ? { DisplayName: { 'Fn::Join': ['-', (spec.imports ?? []).map(importOf)] } } : {} } },
    {
      ...(spec.params !== undefined ? { Parameters: spec.params } : {}),
      Outputs: Object.fromEntries((spec.exports ?? []).map((k) => [k, { Description: k, Value: { Ref: 'Topic' }, Export: { Name: exportName(k) } }])),
    },
  );

/** A root nesting each stack, passing `passes[stack]` (default: every declared parameter) and waiting for `dependsOn[stack]`. */
function rootOf(stacks: Record<string, JsonObject>, dependsOn: Record<string, string[]> = {}, passes: Record<string, string[]> = {}, extra: Record<string, unknown> = {}): JsonObject {
  return templateWith({
    ...Object.fromEntries(
      Object.entries(stacks).map(([name, t]) => [
        name,
        {
          Type: 'AWS::CloudFormation::Stack',
          ...(dependsOn[name] !== undefined ? { DependsOn: dependsOn[name] } : {}),
          Properties: {
            TemplateURL: { Ref: `${name}TemplateUrl` },
            Parameters: Object.fromEntries((passes[name] ?? Object.keys((t.Parameters ?? {}) as JsonObject)).map((p) => [p, { Ref: p }])),
          },
        },
      ]),
    ),
    ...extra,
  });
}

const check = (stacks: Record<string, JsonObject>, root: JsonObject): string[] => brief(validateCrossStack(new Map([...Object.entries(stacks), [ROOT, root]]), ROOT));

describe('root -> nested stack parameters', () => {
  const stacks = { NetworkStack: nested({ params: { VpcCidr: param(), CostCenter: param({ Default: 'payments' }) } }) };

  test('GIVEN every required parameter passed WHEN checked THEN there are no findings (a parameter with a Default may be omitted)', () => {
    expect(check(stacks, rootOf(stacks, {}, { NetworkStack: ['VpcCidr'] }))).toEqual([]);
  });

  test('GIVEN the root passes a parameter the nested stack does not declare WHEN checked THEN it is named', () => {
    expect(check(stacks, rootOf(stacks, {}, { NetworkStack: ['VpcCidr', 'Bogus'] }))).toEqual([
      'cross-stack TapStack Resources/NetworkStack/Properties/Parameters/Bogus: passes parameter Bogus, which NetworkStack does not declare',
    ]);
  });

  test('GIVEN the root omits a parameter without a Default WHEN checked THEN it is named', () => {
    expect(check(stacks, rootOf(stacks, {}, { NetworkStack: ['CostCenter'] }))).toEqual([
      'cross-stack TapStack Resources/NetworkStack/Properties/Parameters: does not pass parameter VpcCidr, which NetworkStack declares without a Default',
    ]);
  });

  test('GIVEN a nested stack without a template, and a template nobody nests WHEN checked THEN both are named', () => {
    const root = rootOf({ GhostStack: nested({}) });
    expect(check(stacks, root)).toEqual([
      'cross-stack TapStack Resources/GhostStack: nested stack GhostStack has no template named GhostStack',
      `cross-stack TapStack Resources: template NetworkStack is not nested by TapStack (no AWS::CloudFormation::Stack with logical ID NetworkStack)`,
    ]);
  });
});

describe('root Fn::GetAtt of nested outputs', () => {
  const stacks = { NetworkStack: nested({ exports: ['VpcId'] }) };
  const reading = (attr: Json): JsonObject => rootOf(stacks, {}, {}, { Reader: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: attr } } });

  test.each([
    ['a list', { 'Fn::GetAtt': ['NetworkStack', 'Outputs.VpcId'] }],
    ['a dotted string', { 'Fn::GetAtt': 'NetworkStack.Outputs.VpcId' }],
    ['an Fn::Sub reference', { 'Fn::Sub': '${NetworkStack.Outputs.VpcId}' }],
  ])('GIVEN %s naming a declared output WHEN checked THEN there are no findings', (_form, attr) => {
    expect(check(stacks, reading(attr))).toEqual([]);
  });

  test.each([
    ['a list', { 'Fn::GetAtt': ['NetworkStack', 'Outputs.SubnetId'] }, 'Resources/Reader/Properties/DisplayName'],
    ['an Fn::Sub reference', { 'Fn::Sub': 'x-${NetworkStack.Outputs.SubnetId}' }, 'Resources/Reader/Properties/DisplayName'],
  ])('GIVEN %s naming an output the nested template lacks WHEN checked THEN it is named', (_form, attr, at) => {
    expect(check(stacks, reading(attr))).toEqual([`cross-stack TapStack ${at}: reads output SubnetId of NetworkStack, which NetworkStack does not declare`]);
  });
});

describe('exports and imports', () => {
  test('GIVEN an import whose exporter is a transitive DependsOn ancestor WHEN checked THEN there are no findings', () => {
    const stacks = { NetworkStack: nested({ exports: ['VpcId'] }), DatabaseStack: nested({}), ComputeStack: nested({ imports: ['VpcId'] }) };
    expect(check(stacks, rootOf(stacks, { DatabaseStack: ['NetworkStack'], ComputeStack: ['DatabaseStack'] }))).toEqual([]);
  });

  test('GIVEN an import whose exporter precedes it only through a GetAtt WHEN checked THEN the missing explicit DependsOn is named', () => {
    const stacks = { NetworkStack: nested({ exports: ['VpcId'] }), ComputeStack: nested({ imports: ['VpcId'] }) };
    const root = rootOf(stacks);
    const compute = (root.Resources as Record<string, JsonObject>).ComputeStack;
    (compute.Properties as JsonObject).Tags = [{ Key: 'after', Value: { 'Fn::GetAtt': ['NetworkStack', 'Outputs.VpcId'] } }];
    expect(check(stacks, root)).toContainEqual(expect.stringContaining('but NetworkStack is not an ancestor of ComputeStack in TapStack (add DependsOn: NetworkStack to ComputeStack)'));
  });

  test('GIVEN an import whose exporter is not an ancestor WHEN checked THEN the missing DependsOn is named', () => {
    const stacks = { NetworkStack: nested({ exports: ['VpcId'] }), ComputeStack: nested({ imports: ['VpcId'] }) };
    expect(check(stacks, rootOf(stacks))).toEqual([
      'cross-stack ComputeStack Resources/Topic/Properties/DisplayName/Fn::Join/1/0/Fn::ImportValue: imports tap-${EnvironmentSuffix}-VpcId from NetworkStack, but NetworkStack is not an ancestor of ComputeStack in TapStack (add DependsOn: NetworkStack to ComputeStack)',
    ]);
  });

  test('GIVEN an import of an export no template provides WHEN checked THEN it is named', () => {
    const stacks = { NetworkStack: nested({ exports: ['VpcId'] }), ComputeStack: nested({ imports: ['VpcIdd'] }) };
    expect(check(stacks, rootOf(stacks, { ComputeStack: ['NetworkStack'] }))).toEqual([
      'cross-stack ComputeStack Resources/Topic/Properties/DisplayName/Fn::Join/1/0/Fn::ImportValue: imports tap-${EnvironmentSuffix}-VpcIdd, which no template exports',
    ]);
  });

  test('GIVEN two templates exporting one name WHEN checked THEN the second is named', () => {
    const stacks = { NetworkStack: nested({ exports: ['VpcId'] }), OtherStack: nested({ exports: ['VpcId'] }) };
    expect(check(stacks, rootOf(stacks))).toEqual([
      'cross-stack OtherStack Outputs/VpcId/Export/Name: export tap-${EnvironmentSuffix}-VpcId is also exported by NetworkStack (output VpcId)',
    ]);
  });

  test('GIVEN a template importing its own export WHEN checked THEN it is named', () => {
    const stacks = { NetworkStack: nested({ exports: ['VpcId'], imports: ['VpcId'] }) };
    expect(check(stacks, rootOf(stacks))).toEqual([expect.stringContaining('imports its own export tap-${EnvironmentSuffix}-VpcId')]);
  });
});

describe('cycles across templates', () => {
  test('GIVEN two stacks importing from each other WHEN checked THEN the cycle is named', () => {
    const stacks = { AStack: nested({ exports: ['A'], imports: ['B'] }), BStack: nested({ exports: ['B'], imports: ['A'] }) };
    const found = check(stacks, rootOf(stacks, { BStack: ['AStack'] }));
    expect(found).toContain('cross-stack TapStack : cross-template dependency cycle among: AStack, BStack (imports and root DependsOn)');
    expect(found).toContain(
      'cross-stack AStack Resources/Topic/Properties/DisplayName/Fn::Join/1/0/Fn::ImportValue: imports tap-${EnvironmentSuffix}-B from BStack, but BStack is not an ancestor of AStack in TapStack (add DependsOn: BStack to AStack)',
    );
  });

  test('GIVEN a DependsOn cycle in the root WHEN checked THEN the cycle is named', () => {
    const stacks = { AStack: nested({}), BStack: nested({}), CStack: nested({}) };
    expect(check(stacks, rootOf(stacks, { AStack: ['BStack'], BStack: ['AStack'] }))).toEqual([
      'cross-stack TapStack : cross-template dependency cycle among: AStack, BStack (imports and root DependsOn)',
    ]);
  });
});

describe('export name patterns', () => {
  test.each<[string, Json, string | undefined]>([
    ['Fn::Sub', { 'Fn::Sub': 'tap-${EnvironmentSuffix}-VpcId' }, 'tap-${EnvironmentSuffix}-VpcId'],
    ['Fn::Sub with a variable map', { 'Fn::Sub': ['tap-${S}-VpcId', { S: { Ref: 'EnvironmentSuffix' } }] }, 'tap-${EnvironmentSuffix}-VpcId'],
    ['Fn::Join', { 'Fn::Join': ['-', ['tap', { Ref: 'EnvironmentSuffix' }, 'VpcId']] }, 'tap-${EnvironmentSuffix}-VpcId'],
    ['a literal', 'tap-prod-VpcId', 'tap-prod-VpcId'],
    ['Fn::GetAtt', { 'Fn::GetAtt': ['Vpc', 'CidrBlock'] }, '${Vpc.CidrBlock}'],
    ['Fn::Select (unresolvable)', { 'Fn::Select': [0, ['a']] }, undefined],
  ])('GIVEN %s WHEN normalized THEN it gives the comparable pattern (or undefined)', (_form, value, expected) => {
    expect(namePatternOf(value)).toBe(expected);
  });
});
