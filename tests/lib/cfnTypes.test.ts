import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { GENERATED_FILE, firstSentence, renderCfnTypes, specVersion } from '../../tools/cli/generateTypes';
import { GENERATED_RESOURCE_TYPES } from '../../cfn/lib/cfnTypes.list';
import { TAG_PROPERTY } from '../../cfn/lib/cfnTypes.generated';

const TEMPLATES_DIR = path.join(__dirname, '..', '..', 'cfn', 'templates');
const committed = fs.readFileSync(GENERATED_FILE, 'utf8');
const source = ts.createSourceFile(path.basename(GENERATED_FILE), committed, ts.ScriptTarget.ES2022, true);
const interfaces = new Map(source.statements.filter(ts.isInterfaceDeclaration).map((d) => [d.name.text, d]));

/** A member of a generated interface as written: its type text and whether it is optional. */
function member(iface: string, name: string): { type: string; optional: boolean } | undefined {
  const m = interfaces
    .get(iface)
    ?.members.filter(ts.isPropertySignature)
    .find((p) => p.name.getText(source).replace(/^'|'$/g, '') === name);
  return m === undefined ? undefined : { type: m.type?.getText(source) ?? '', optional: m.questionToken !== undefined };
}

const memberNames = (iface: string): string[] =>
  [...(interfaces.get(iface)?.members ?? [])].filter(ts.isPropertySignature).map((p) => p.name.getText(source).replace(/^'|'$/g, ''));

/** Every resource type in the committed templates, custom resources left out (they have no spec). */
function templateResourceTypes(): string[] {
  const types = new Set<string>();
  for (const f of fs.readdirSync(TEMPLATES_DIR).filter((n) => n.endsWith('.json'))) {
    const doc = JSON.parse(fs.readFileSync(path.join(TEMPLATES_DIR, f), 'utf8')) as { Resources?: Record<string, { Type: string }> };
    for (const r of Object.values(doc.Resources ?? {})) if (!r.Type.startsWith('Custom::')) types.add(r.Type);
  }
  return [...types].sort();
}

const TAG = 'Value<{ readonly Key: Value<string>; readonly Value: Value<string> }>';

describe('generated CloudFormation property types', () => {
  test('GIVEN the committed cfnTypes.generated.ts WHEN compared with a fresh rendering THEN they are identical (run `npm run generate:types`)', () => {
    const file = path.relative(path.join(__dirname, '..', '..'), GENERATED_FILE);
    expect({ file, body: committed }).toEqual({ file, body: renderCfnTypes(GENERATED_RESOURCE_TYPES) });
  });

  test('GIVEN the list in another order with duplicates WHEN rendered THEN the bytes are the same', () => {
    const shuffled = [...GENERATED_RESOURCE_TYPES].reverse();
    expect(renderCfnTypes([...shuffled, shuffled[0]])).toBe(renderCfnTypes(GENERATED_RESOURCE_TYPES));
  });

  test('GIVEN the generated file WHEN its header is read THEN it names the generator, the spec version and the regenerate command', () => {
    const header = committed.slice(0, committed.indexOf('*/'));
    expect(header).toContain('tools/cli/generateTypes.ts');
    expect(header).toContain(`@aws-cdk/aws-service-spec ${specVersion()}`);
    expect(header).toContain('npm run generate:types');
  });

  test('GIVEN the generated file WHEN its imports are read THEN the only one is a type import from ./value', () => {
    const imports = source.statements.filter(ts.isImportDeclaration);
    expect(imports.map((i) => [i.moduleSpecifier.getText(source), i.importClause?.isTypeOnly])).toEqual([["'./value'", true]]);
    const bindings = imports[0].importClause?.namedBindings;
    const names = bindings !== undefined && ts.isNamedImports(bindings) ? bindings.elements.map((e) => e.name.text) : [];
    expect(names.filter((n) => !['Intrinsic', 'JsonLike', 'Value'].includes(n))).toEqual([]);
  });

  test.each([
    ['Custom::DeploymentGate', 'custom resource types have no spec'],
    ['AWS::EC2::Vpc', 'AWS::EC2::Vpc is not a resource type of @aws-cdk/aws-service-spec'],
  ])('GIVEN %s WHEN rendered THEN it throws', (type, message) => {
    expect(() => renderCfnTypes([type])).toThrow(message);
  });
});

describe('GENERATED_RESOURCE_TYPES', () => {
  test('GIVEN the committed templates WHEN their resource types are collected THEN the list covers every non-custom one', () => {
    expect(templateResourceTypes().filter((t) => !(GENERATED_RESOURCE_TYPES as readonly string[]).includes(t))).toEqual([]);
  });

  test('GIVEN the list WHEN read THEN it is sorted, unique, has no custom types and includes AWS::CloudFormation::Stack', () => {
    const list: readonly string[] = GENERATED_RESOURCE_TYPES;
    expect([...new Set(list)].sort()).toEqual(list);
    expect(list.filter((t) => t.startsWith('Custom::'))).toEqual([]);
    expect(list).toContain('AWS::CloudFormation::Stack');
  });
});

describe('generated interfaces', () => {
  test.each([
    // Members cloudform-types 7.5.0 lacks, which forced raw resources and casts.
    ['EC2VPCEndpointProps', 'Tags', `Value<ReadonlyArray<${TAG}>>`, true],
    ['LambdaFunctionProps', 'LoggingConfig', 'Value<LambdaFunctionLoggingConfig>', true],
    ['CloudWatchDashboardProps', 'Tags', `Value<ReadonlyArray<${TAG}>>`, true],
    ['CloudWatchAlarmProps', 'Tags', `Value<ReadonlyArray<${TAG}>>`, true],
    // A whole struct may be an Fn::If (one template for both regions).
    ['S3BucketProps', 'ReplicationConfiguration', 'Value<S3BucketReplicationConfiguration>', true],
    ['EC2VPCEndpointProps', 'VpcId', 'Value<string>', false],
    ['CloudWatchDashboardProps', 'DashboardBody', 'Value<string>', false],
    ['LambdaFunctionProps', 'MemorySize', 'Value<number>', true],
    ['LambdaFunctionProps', 'Architectures', 'Value<ReadonlyArray<Value<string>>>', true],
    ['EC2VPCProps', 'EnableDnsSupport', 'Value<boolean>', true],
    ['IAMRoleProps', 'AssumeRolePolicyDocument', 'JsonLike | Value<string>', false],
    ['ApiGatewayV2ApiProps', 'Tags', 'Value<{ readonly [key: string]: Value<string> }>', true],
    ['CloudFormationStackProps', 'Parameters', 'Value<{ readonly [key: string]: Value<string> }>', true],
    ['RDSDBInstanceProps', 'TdeCredentialArn', 'JsonLike', true],
    ['S3BucketReplicationConfiguration', 'Rules', 'Value<ReadonlyArray<Value<S3BucketReplicationRule>>>', false],
    ['LambdaFunctionLoggingConfig', 'LogGroup', 'Value<string>', true],
  ])('GIVEN %s WHEN member %s is read THEN it is %s (optional: %s)', (iface, name, type, optional) => {
    expect(member(iface, name)).toEqual({ type, optional });
  });

  test('GIVEN AWS::CloudFormation::Stack WHEN generated THEN it has the properties CloudFormation accepts, not the Cloud Control-only ones', () => {
    expect(memberNames('CloudFormationStackProps')).toEqual(['NotificationARNs', 'Parameters', 'Tags', 'TemplateURL', 'TimeoutInMinutes']);
  });

  test('GIVEN every interface member WHEN read THEN it is readonly', () => {
    const writable = [...interfaces.values()].flatMap((d) =>
      d.members.filter((m) => !(ts.getCombinedModifierFlags(m as ts.Declaration) & ts.ModifierFlags.Readonly)).map((m) => `${d.name.text}.${m.name?.getText(source)}`),
    );
    expect(writable).toEqual([]);
  });

  test('GIVEN ResourcePropsByType WHEN read THEN it maps every listed type and nothing else', () => {
    expect(memberNames('ResourcePropsByType')).toEqual([...GENERATED_RESOURCE_TYPES]);
  });

  test.each(Object.entries(TAG_PROPERTY))('GIVEN %s is taggable WHEN its props are read THEN they have the tag property', (type, tags) => {
    const props = member('ResourcePropsByType', type)?.type ?? '';
    expect(memberNames(props)).toContain(tags?.property);
  });

  test.each([
    ['AWS::EC2::VPCEndpoint', { property: 'Tags', variant: 'standard' }],
    ['AWS::SSM::Parameter', { property: 'Tags', variant: 'map' }],
    ['AWS::Route53::HealthCheck', { property: 'HealthCheckTags', variant: 'standard' }],
    ['AWS::EC2::SubnetRouteTableAssociation', undefined],
  ] as const)('GIVEN %s WHEN its tag information is read THEN it is %j', (type, expected) => {
    expect(TAG_PROPERTY[type]).toEqual(expected);
  });
});

describe('firstSentence', () => {
  test.each([
    ['one sentence of several', 'The ID of the VPC. Required.', 'The ID of the VPC.'],
    ['the first paragraph only', 'The type of endpoint\n\nDefault: Gateway', 'The type of endpoint'],
    ['line breaks collapsed', 'A list\nof  IDs. More.', 'A list of IDs.'],
    ['abbreviations kept', 'A name, e.g. `prod`. More.', 'A name, e.g. `prod`.'],
    ['periods in code spans kept', 'Matches `a. b` only. More.', 'Matches `a. b` only.'],
    ['an unmatched backtick literal', 'Excludes `! ` ~` . More.', 'Excludes `! ` ~` .'],
    ['periods in URLs kept', 'See [docs](https://docs.aws.amazon.com/x.html) here. More.', 'See [docs](https://docs.aws.amazon.com/x.html) here.'],
    ['a comment end escaped', 'Matches `/*/`. More.', 'Matches `/*\\/`.'],
  ])('GIVEN %s WHEN summarized THEN it is the first sentence', (_case, doc, expected) => {
    expect(firstSentence(doc)).toBe(expected);
  });

  test.each([undefined, '', '  \n '])('GIVEN no documentation (%j) WHEN summarized THEN there is no summary', (doc) => {
    expect(firstSentence(doc)).toBeUndefined();
  });
});
