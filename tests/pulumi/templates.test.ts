import * as fs from 'fs';
import * as path from 'path';
import { RunError } from '@pulumi/pulumi';
import { ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import { Names } from '../../cfn/lib/names';
import { stackSetName } from '../../components/names';
import {
  DEPLOYMENT_STAMP_PARAMETER,
  StackSetParameterError,
  artifactProblems,
  deploymentStamp,
  parameterValueProblem,
  parametersWithoutValue,
  planParameters,
  regionalParameterNames,
  staleTemplatesProblem,
} from '../../components/stackSetParameters';
import {
  ROOT_TEMPLATE,
  RootParameter,
  TEMPLATES_DIR,
  parseTemplate,
  readTemplates,
  requiredCapabilities,
  sha256,
  templateObjectKey,
  templateParameters,
  templateUrl,
} from '../../components/templates';
import { fixtureRoot, writeFixtureTemplates } from './support/fixtures';

const ACCOUNT = '210987654321';
const image = (region: string, seed = 'x'): string => `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod@sha256:${sha256(seed)}`;
const url = (region: string, name: string): string => templateUrl(`tap-templates-prod-${ACCOUNT}-${region}`, region, `templates/${name}-0123456789abcdef.json`);

describe('templates: the committed set', () => {
  test('GIVEN the program and the generators WHEN compared THEN they name the same root template and StackSet prefix', () => {
    expect(ROOT_TEMPLATE).toBe(ROOT_TEMPLATE_NAME);
    expect(stackSetName('prod')).toBe(`${Names.stackSet}-prod`);
  });

  test('GIVEN cfn/templates WHEN read THEN the root is TapStack.json byte for byte and every other file is a nested template', () => {
    const set = readTemplates();
    expect(set.root.body).toBe(fs.readFileSync(path.join(TEMPLATES_DIR, 'TapStack.json'), 'utf8'));
    const files = fs.readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.json') && f !== 'TapStack.json').map((f) => f.replace(/\.json$/, ''));
    expect(set.nested.map((t) => t.name)).toEqual(files.sort());
  });

  test('GIVEN a directory without the root WHEN read THEN the error says to run synth', () => {
    const dir = writeFixtureTemplates();
    fs.rmSync(path.join(dir, 'TapStack.json'));
    expect(() => readTemplates(dir)).toThrow(/TapStack\.json is missing: run `npm run synth` first/);
  });
});

describe('templates: content-addressed keys', () => {
  test('GIVEN a template WHEN keyed THEN the key holds its name and the first 16 hex of its sha256', () => {
    const file = { name: 'NetworkStack', body: '{"a":1}\n' };
    expect(templateObjectKey(file)).toBe(`templates/NetworkStack-${sha256(file.body).slice(0, 16)}.json`);
  });

  test('GIVEN two versions of a template WHEN keyed THEN the keys differ, and equal bodies give equal keys', () => {
    expect(templateObjectKey({ name: 'A', body: '1' })).not.toBe(templateObjectKey({ name: 'A', body: '2' }));
    expect(templateObjectKey({ name: 'A', body: '1' })).toBe(templateObjectKey({ name: 'A', body: '1' }));
  });

  test('GIVEN a bucket, region and key WHEN made a URL THEN it is the regional virtual-hosted https form', () => {
    expect(templateUrl('b', 'eu-west-1', 'templates/X-1.json')).toBe('https://b.s3.eu-west-1.amazonaws.com/templates/X-1.json');
  });
});

describe('templates: capabilities', () => {
  const withResources = (resources: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ Resources: resources, ...extra }) as never;
  test.each<[string, object[], string[]]>([
    ['no IAM', [withResources({ Q: { Type: 'AWS::SQS::Queue' } })], []],
    ['nested stacks only', [withResources({ S: { Type: 'AWS::CloudFormation::Stack' } })], []],
    ['an unnamed role', [withResources({ R: { Type: 'AWS::IAM::Role', Properties: {} } })], ['CAPABILITY_IAM']],
    ['a named role', [withResources({ R: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'x' } } })], ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM']],
    ['a managed policy with a name', [withResources({ P: { Type: 'AWS::IAM::ManagedPolicy', Properties: { ManagedPolicyName: 'x' } } })], ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM']],
    ['a macro', [withResources({}, { Transform: 'AWS::Serverless-2016-10-31' })], ['CAPABILITY_AUTO_EXPAND']],
  ])('GIVEN templates with %s WHEN read THEN the capabilities are exactly those needed', (_case, templates, expected) => {
    expect(requiredCapabilities(templates as never)).toEqual(expected);
  });
});

describe('templates: root parameters', () => {
  test('GIVEN the fixture root WHEN read THEN every parameter comes with its Default as text and its constraints', () => {
    const params = templateParameters(fixtureRoot() as never);
    expect(params.map((p) => p.name)).toEqual(['AlarmEmail', 'AppStackTemplateUrl', 'BakeMinutes', 'DeploymentStamp', 'EnvironmentSuffix', 'ImageUri', 'PrimaryRegion', 'SecondaryRegion']);
    expect(params.find((p) => p.name === 'BakeMinutes')).toEqual({ name: 'BakeMinutes', type: 'Number', default: '3', minValue: 0, maxValue: 10 });
    expect(params.find((p) => p.name === 'AlarmEmail')?.default).toBe('');
  });

  test('GIVEN the committed root WHEN read THEN each of its TemplateUrl parameters belongs to a committed nested template', () => {
    const set = readTemplates();
    const urls = templateParameters(parseTemplate(set.root)).map((p) => p.name).filter((n) => n.endsWith('TemplateUrl'));
    expect(urls.length).toBeGreaterThan(0);
    const regional = regionalParameterNames(set.nested.map((t) => t.name));
    expect(urls.filter((n) => !regional.includes(n))).toEqual([]);
  });

  test('GIVEN nested templates WHEN their regional parameters are named THEN they are ImageUri, DeploymentStamp and one TemplateUrl each', () => {
    expect(regionalParameterNames(['NetworkStack', 'AppStack'])).toEqual(['AppStackTemplateUrl', 'DeploymentStamp', 'ImageUri', 'NetworkStackTemplateUrl']);
  });

  test('GIVEN parameters without a Default WHEN some have no source THEN exactly those are reported', () => {
    const params = templateParameters(fixtureRoot({ LicenseKey: { Type: 'String' } }) as never);
    const available = new Set(['EnvironmentSuffix', 'PrimaryRegion', 'SecondaryRegion', ...regionalParameterNames(['AppStack'])]);
    expect(parametersWithoutValue(params, available)).toEqual(['LicenseKey']);
  });

  const p = (partial: Partial<RootParameter>): RootParameter => ({ name: 'P', type: 'String', ...partial });
  test.each<[string, RootParameter, string, RegExp | undefined]>([
    ['a value outside AllowedValues', p({ allowedValues: ['dev', 'prod'] }), 'qa', /is not one of dev, prod/],
    ['an allowed value', p({ allowedValues: ['dev', 'prod'] }), 'dev', undefined],
    ['a number above MaxValue', p({ type: 'Number', maxValue: 10 }), '11', /above the maximum 10/],
    ['a number below MinValue', p({ type: 'Number', minValue: 0 }), '-1', /below the minimum 0/],
    ['text for a Number', p({ type: 'Number' }), 'three', /is not a number/],
    ['a string longer than MaxLength', p({ maxLength: 3 }), 'abcd', /longer than 3 characters/],
    ['a string shorter than MinLength', p({ minLength: 2 }), 'a', /shorter than 2 characters/],
    ['a pattern mismatch (whole value)', p({ allowedPattern: '[a-z]+' }), 'abc1', /does not match \[a-z\]\+/],
    ['a pattern match', p({ allowedPattern: '^[a-z]+$' }), 'abc', undefined],
    ['an empty optional value', p({ allowedPattern: '^$|^[^\\s@]+@[^\\s@]+$' }), '', undefined],
  ])('GIVEN %s WHEN checked THEN the problem is %s', (_case, parameter, value, expected) => {
    const problem = parameterValueProblem(parameter, value);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});

describe('templates: DeploymentStamp', () => {
  const templates = [
    { name: 'TapStack', body: 'root' },
    { name: 'AppStack', body: 'app' },
  ];
  const params = { A: '1', B: '2' };

  test('GIVEN the same templates and values in any order WHEN stamped THEN the stamp is the same', () => {
    expect(deploymentStamp([...templates].reverse(), { B: '2', A: '1' })).toBe(deploymentStamp(templates, params));
  });

  test.each<[string, () => string]>([
    ['a template body', () => deploymentStamp([templates[0], { name: 'AppStack', body: 'app2' }], params)],
    ['a parameter value', () => deploymentStamp(templates, { ...params, B: '3' })],
    ['a new parameter', () => deploymentStamp(templates, { ...params, C: '' })],
    ['a template name', () => deploymentStamp([templates[0], { name: 'OtherStack', body: 'app' }], params)],
  ])('GIVEN a change of %s WHEN stamped THEN the stamp changes', (_case, changed) => {
    expect(changed()).not.toBe(deploymentStamp(templates, params));
  });

  test('GIVEN a previous stamp among the values WHEN stamped THEN it is ignored (a stamp never feeds itself)', () => {
    expect(deploymentStamp(templates, { ...params, [DEPLOYMENT_STAMP_PARAMETER]: 'old' })).toBe(deploymentStamp(templates, params));
  });

  test('GIVEN values WHEN stamped THEN the stamp is a sha256 in hex', () => {
    expect(deploymentStamp(templates, params)).toMatch(/^[a-f0-9]{64}$/);
  });
});

describe('templates: parameter plan per region', () => {
  const dir = writeFixtureTemplates();
  const set = readTemplates(dir);
  const parameters = templateParameters(parseTemplate(set.root));
  const shared = { EnvironmentSuffix: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', AlarmEmail: undefined, BakeMinutes: '5' };
  /** Where each region's stack uploaded the fixture's AppStack.json: the committed version. */
  const current = (region: string): string => templateUrl(`tap-templates-prod-${ACCOUNT}-${region}`, region, templateObjectKey(set.nested[0]));
  const regions = [
    { region: 'us-east-1', artifacts: { imageUri: image('us-east-1', 'us'), templateUrls: { AppStack: current('us-east-1') } } },
    { region: 'eu-west-1', stack: 'organization/tap/prod-eu', artifacts: { imageUri: image('eu-west-1', 'eu'), templateUrls: { AppStack: current('eu-west-1') } } },
  ];
  const plan = planParameters({ parameters, shared, regions, templates: [set.root, ...set.nested] });

  test('GIVEN both regions WHEN planned THEN the StackSet sets every root parameter, Defaults included, with the primary region values', () => {
    expect(Object.keys(plan.stackSet).sort()).toEqual(parameters.map((p) => p.name).sort());
    expect(plan.stackSet).toMatchObject({ EnvironmentSuffix: 'prod', BakeMinutes: '5', AlarmEmail: '', ImageUri: image('us-east-1', 'us'), AppStackTemplateUrl: current('us-east-1') });
  });

  test.each([['us-east-1', 'us'], ['eu-west-1', 'eu']])('GIVEN %s WHEN planned THEN its overrides are its own image, template URLs and stamp, and nothing shared', (region, seed) => {
    expect(plan.overrides[region]).toEqual({ ImageUri: image(region, seed), AppStackTemplateUrl: current(region), DeploymentStamp: plan.stamps[region] });
  });

  test('GIVEN both regions WHEN planned THEN each stamp hashes that region\'s values and the two differ', () => {
    const usValues = Object.fromEntries(Object.entries(plan.stackSet).filter(([k]) => k !== DEPLOYMENT_STAMP_PARAMETER));
    expect(plan.stamps['us-east-1']).toBe(deploymentStamp([set.root, ...set.nested], usValues));
    expect(plan.stamps['eu-west-1']).not.toBe(plan.stamps['us-east-1']);
  });

  test('GIVEN a missing template URL and a bad value WHEN planned THEN one error names both, per region', () => {
    const broken = [{ region: 'eu-west-1', artifacts: { imageUri: image('eu-west-1'), templateUrls: {} } }];
    const attempt = () => planParameters({ parameters, shared: { ...shared, BakeMinutes: '11' }, regions: broken, templates: [set.root] });
    expect(attempt).toThrow(StackSetParameterError);
    expect(attempt).toThrow(/AppStackTemplateUrl \(eu-west-1\): has no Default and no value; no template AppStack\.json was uploaded/);
    expect(attempt).toThrow(/BakeMinutes \(eu-west-1\): 11 is above the maximum 10/);
  });

  test.each<[string, { imageUri: string; templateUrls: Record<string, string> }, RegExp]>([
    ['an image of another region', { imageUri: image('us-east-1'), templateUrls: {} }, /^ImageUri \(eu-west-1\): .* is not an image in eu-west-1's registry$/],
    ['a template URL of another region', { imageUri: image('eu-west-1'), templateUrls: { AppStack: url('us-east-1', 'AppStack') } }, /^AppStackTemplateUrl \(eu-west-1\): .* is not an object in a eu-west-1 bucket$/],
  ])('GIVEN %s WHEN checked THEN the region mismatch is named', (_case, artifacts, expected) => {
    expect(artifactProblems('eu-west-1', artifacts)).toEqual([expect.stringMatching(expected)]);
  });

  test('GIVEN a secondary that uploaded an older AppStack WHEN planned THEN the error names it and says which stack to update first', () => {
    const stale = [regions[0], { ...regions[1], artifacts: { ...regions[1].artifacts, templateUrls: { AppStack: url('eu-west-1', 'AppStack') } } }];
    const attempt = () => planParameters({ parameters, shared, regions: stale, templates: [set.root, ...set.nested] });
    expect(attempt).toThrow(StackSetParameterError);
    expect(attempt).toThrow(/Nested templates \(eu-west-1\): organization\/tap\/prod-eu has not uploaded the committed version of AppStack .*; run `pulumi up -s organization\/tap\/prod-eu` first/);
    expect(attempt).not.toThrow(/\(us-east-1\)/);
  });

  test('GIVEN a parameter problem WHEN thrown THEN it is a RunError, which pulumi prints without a stack trace', () => {
    expect(RunError.isInstance(new StackSetParameterError(['x']))).toBe(true);
  });
});

describe('templates: uploads that are not the committed ones', () => {
  const nested = [
    { name: 'ComputeStack', body: '{"compute":2}\n' },
    { name: 'DnsStack', body: '{"dns":1}\n' },
    { name: 'NetworkStack', body: '{"network":1}\n' },
  ];
  const at = (key: string): string => templateUrl(`tap-templates-prod-${ACCOUNT}-eu-west-1`, 'eu-west-1', key);
  const uploaded = Object.fromEntries(nested.map((f) => [f.name, at(templateObjectKey(f))]));
  const committed = (name: string): string => path.basename(templateObjectKey(nested.find((f) => f.name === name) ?? nested[0]));
  const older = (name: string): string => `${name}-${sha256('older').slice(0, 16)}.json`;
  const STACK = 'organization/tap/prod-eu';

  test.each<[string, Record<string, string>, string | undefined, string | undefined]>([
    ['every template at its committed key', uploaded, STACK, undefined],
    ['every template at its committed key in another bucket', Object.fromEntries(nested.map((f) => [f.name, templateUrl('other', 'eu-west-1', templateObjectKey(f))])), STACK, undefined],
    ['templates the committed set no longer has', { ...uploaded, RemovedStack: at('templates/RemovedStack-0123456789abcdef.json') }, STACK, undefined],
    [
      'one older template',
      { ...uploaded, NetworkStack: at(`templates/${older('NetworkStack')}`) },
      STACK,
      `Nested templates (eu-west-1): ${STACK} has not uploaded the committed version of NetworkStack (it has ${older('NetworkStack')}, expected ${committed('NetworkStack')}); run \`pulumi up -s ${STACK}\` first, then this stack again`,
    ],
    [
      'two older templates and a missing one',
      { ComputeStack: at(`templates/${older('ComputeStack')}`), NetworkStack: at(`templates/${older('NetworkStack')}`) },
      STACK,
      `Nested templates (eu-west-1): ${STACK} has not uploaded the committed version of ComputeStack (it has ${older('ComputeStack')}, expected ${committed('ComputeStack')}), DnsStack (none), NetworkStack (it has ${older('NetworkStack')}, expected ${committed('NetworkStack')}); run \`pulumi up -s ${STACK}\` first, then this stack again`,
    ],
    [
      'a missing template and no stack name',
      { ComputeStack: uploaded.ComputeStack, NetworkStack: uploaded.NetworkStack },
      undefined,
      "Nested templates (eu-west-1): eu-west-1's stack has not uploaded the committed version of DnsStack (none); run `pulumi up` on eu-west-1's stack first, then this stack again",
    ],
  ])('GIVEN %s WHEN checked THEN the problem is as expected', (_case, urls, stack, expected) => {
    expect(staleTemplatesProblem('eu-west-1', urls, nested, stack)).toBe(expected);
  });
});
