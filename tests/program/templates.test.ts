import * as fs from 'fs';
import * as path from 'path';
import { RunError } from '@pulumi/pulumi';
import { ARTIFACT_PARAMETERS, StackSetParameterError, parametersWithoutValue, planParameters } from '../../program/stackSetParameters';
import { parameterValueProblem } from '../../program/parameters';
import { secondaryArtifactsProblem } from '../../program/secondary';
import {
  RootParameter,
  TEMPLATES_DIR,
  parseTemplate,
  readTemplates,
  requiredCapabilities,
  sha256,
  templateObjectKey,
  templateParameters,
  templateUrl,
} from '../../program/committedTemplates';
import { fixtureRoot, writeFixtureTemplates } from './support/fixtures';

const ACCOUNT = '210987654321';
const image = (region: string, seed = 'x'): string => `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod@sha256:${sha256(seed)}`;

describe('templates: the committed set', () => {
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
    expect(params.map((p) => p.name)).toEqual(['AlarmEmail', 'BakeMinutes', 'EnvironmentSuffix', 'PrimaryImageUri', 'PrimaryRegion', 'SecondaryImageUri', 'SecondaryRegion']);
    expect(params.find((p) => p.name === 'BakeMinutes')).toEqual({ name: 'BakeMinutes', type: 'String', default: 'auto', allowedPattern: '^(auto|[0-9]|10)$', constraintDescription: 'c' });
    expect(params.find((p) => p.name === 'AlarmEmail')?.default).toBe('');
  });

  test('GIVEN the committed root WHEN read THEN the only parameters without a Default that configuration cannot fill are the two images', () => {
    const params = templateParameters(parseTemplate(readTemplates().root));
    const configured = new Set(['EnvironmentSuffix', 'PrimaryRegion', 'SecondaryRegion']);
    expect(parametersWithoutValue(params, configured).sort()).toEqual([...ARTIFACT_PARAMETERS].sort());
  });

  test('GIVEN the committed root WHEN read THEN no parameter is a per-region value: no template URL, no stamp, no single image', () => {
    const names = templateParameters(parseTemplate(readTemplates().root)).map((p) => p.name);
    expect(names.filter((n) => /TemplateUrl$|^DeploymentStamp$|^ImageUri$/.test(n))).toEqual([]);
  });

  test('GIVEN parameters without a Default WHEN some have no source THEN exactly those are reported', () => {
    const params = templateParameters(fixtureRoot({ LicenseKey: { Type: 'String' } }) as never);
    const available = new Set(['EnvironmentSuffix', 'PrimaryRegion', 'SecondaryRegion', ...ARTIFACT_PARAMETERS]);
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

describe('templates: the StackSet-level parameter plan', () => {
  const dir = writeFixtureTemplates();
  const set = readTemplates(dir);
  const parameters = templateParameters(parseTemplate(set.root));
  const shared = { EnvironmentSuffix: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', AlarmEmail: undefined, BakeMinutes: '5' };
  const images = { primary: image('us-east-1', 'us'), secondary: image('eu-west-1', 'eu') };

  test('GIVEN both images WHEN planned THEN the StackSet sets every root parameter, Defaults included, and each region\'s image', () => {
    const plan = planParameters({ parameters, shared, images });
    expect(Object.keys(plan).sort()).toEqual(parameters.map((p) => p.name).sort());
    expect(plan).toMatchObject({ EnvironmentSuffix: 'prod', BakeMinutes: '5', AlarmEmail: '', PrimaryImageUri: images.primary, SecondaryImageUri: images.secondary });
  });

  test('GIVEN a missing value and a bad value WHEN planned THEN one error names both', () => {
    const params = templateParameters(fixtureRoot({ LicenseKey: { Type: 'String' } }) as never);
    const attempt = () => planParameters({ parameters: params, shared: { ...shared, BakeMinutes: '11' }, images });
    expect(attempt).toThrow(StackSetParameterError);
    expect(attempt).toThrow(/LicenseKey: has no Default and no value/);
    expect(attempt).toThrow(/BakeMinutes: "11" does not match/);
  });

  test('GIVEN a parameter problem WHEN thrown THEN it is a RunError, which pulumi prints without a stack trace', () => {
    expect(RunError.isInstance(new StackSetParameterError(['x']))).toBe(true);
  });
});

describe('templates: what the secondary staged', () => {
  const nested = [
    { name: 'ComputeStack', body: '{"compute":2}\n' },
    { name: 'DnsStack', body: '{"dns":1}\n' },
    { name: 'NetworkStack', body: '{"network":1}\n' },
  ];
  const BUCKET = `tap-templates-prod-${ACCOUNT}-eu-west-1`;
  const at = (key: string, bucket = BUCKET): string => templateUrl(bucket, 'eu-west-1', key);
  const uploaded = Object.fromEntries(nested.map((f) => [f.name, at(templateObjectKey(f))]));
  const committed = (name: string): string => path.basename(templateObjectKey(nested.find((f) => f.name === name) ?? nested[0]));
  const older = (name: string): string => `${name}-${sha256('older').slice(0, 16)}.json`;
  const STACK = 'organization/tap/prod-eu';
  const FIX = `run \`pulumi up -s ${STACK}\` first, then this stack again.`;
  const check = (outputs: Record<string, unknown>): string | undefined =>
    secondaryArtifactsProblem({ stack: STACK, region: 'eu-west-1', accountId: ACCOUNT, environmentSuffix: 'prod', outputs, nested });

  test.each<[string, Record<string, unknown>, string | undefined]>([
    ['every template at its committed key in the derived bucket', { imageUri: image('eu-west-1'), templateUrls: uploaded }, undefined],
    ['templates the committed set no longer has', { imageUri: image('eu-west-1'), templateUrls: { ...uploaded, RemovedStack: at('templates/RemovedStack-0123456789abcdef.json') } }, undefined],
    ['no outputs at all (never deployed)', {}, `${STACK} has not been deployed (its stack exports no imageUri and no templateUrls): ${FIX}`],
    ['no image yet', { templateUrls: uploaded }, `${STACK} has not been deployed (its stack exports no imageUri): ${FIX}`],
    [
      'one older template',
      { imageUri: image('eu-west-1'), templateUrls: { ...uploaded, NetworkStack: at(`templates/${older('NetworkStack')}`) } },
      `Secondary region eu-west-1 (${STACK}): it has not uploaded the committed version of NetworkStack (it has ${older('NetworkStack')}, expected ${committed('NetworkStack')} in ${BUCKET}): ${FIX}`,
    ],
    [
      'two older templates and a missing one',
      { imageUri: image('eu-west-1'), templateUrls: { ComputeStack: at(`templates/${older('ComputeStack')}`), NetworkStack: at(`templates/${older('NetworkStack')}`) } },
      `Secondary region eu-west-1 (${STACK}): it has not uploaded the committed version of ComputeStack (it has ${older('ComputeStack')}, expected ${committed('ComputeStack')} in ${BUCKET}), DnsStack (none), NetworkStack (it has ${older('NetworkStack')}, expected ${committed('NetworkStack')} in ${BUCKET}): ${FIX}`,
    ],
    [
      'the committed keys in a bucket the root does not read',
      { imageUri: image('eu-west-1'), templateUrls: { ...uploaded, DnsStack: at(templateObjectKey(nested[1]), 'other') } },
      `Secondary region eu-west-1 (${STACK}): it has not uploaded the committed version of DnsStack (it has ${at(templateObjectKey(nested[1]), 'other')}, expected ${committed('DnsStack')} in ${BUCKET}): ${FIX}`,
    ],
    [
      'an image in another region',
      { imageUri: image('us-east-1'), templateUrls: uploaded },
      `Secondary region eu-west-1 (${STACK}): its imageUri "${image('us-east-1')}" is not an image of ${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/tap-lambda-prod pinned by digest: ${FIX}`,
    ],
  ])('GIVEN %s WHEN checked THEN the problem is as expected', (_case, outputs, expected) => {
    expect(check(outputs)).toBe(expected);
  });
});
