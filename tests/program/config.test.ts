import * as awsnative from '@pulumi/aws-native';
import * as pulumi from '@pulumi/pulumi';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { CONFIG_KEYS, ConfigValidationError, RawConfig, TapConfig, TEMPLATE_CHECKED_KEYS, validateConfig } from '../../program/validateConfig';
import { parameterValueProblem, sharedParameterValues } from '../../program/parameters';
import { COMMERCIAL_REGIONS, DEPLOYMENT_REGIONS } from '../../cfn/contract/regions';
import { parseTemplate, readTemplates, templateParameters } from '../../program/committedTemplates';
import { ROOT, STACKS, runProgram, runPulumi, stackConfig } from './support/program';
import { rawConfig } from '../../program/config';

/** The raw configuration the loader builds from a stack's config map. */
const raw = (config: Record<string, string>): RawConfig => rawConfig(config);
const validUs = (): Record<string, string> => stackConfig('prod-us');
const validEu = (): Record<string, string> => stackConfig('prod-eu');

/** The problems validateConfig reports for a configuration (fails the test if it accepts it). */
function problems(config: Record<string, string | undefined>): string[] {
  const clean = Object.fromEntries(Object.entries(config).filter((e): e is [string, string] => e[1] !== undefined));
  try {
    validateConfig(raw(clean));
  } catch (e) {
    if (e instanceof ConfigValidationError) return [...e.problems];
    throw e;
  }
  throw new Error('the configuration was accepted');
}

const IMAGE = (region: string): string => `210987654321.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod@sha256:${'a'.repeat(64)}`;

describe('configuration: the committed stack files', () => {
  test('GIVEN Pulumi.prod-us.yaml WHEN validated THEN it is the primary in us-east-1 that creates the StackSet roles and reads prod-eu', () => {
    const config = validateConfig(raw(validUs()));
    expect(config).toMatchObject({ role: 'primary', region: 'us-east-1', primaryRegion: 'us-east-1', secondaryRegion: 'eu-west-1', environmentSuffix: 'prod', environmentType: 'prod' });
    if (config.role !== 'primary') throw new Error('not primary');
    expect(config.stackSetRoles).toEqual({ create: true });
    expect(config.secondaryStack).toMatch(/^[^/]+\/tap\/prod-eu$/);
  });

  test('GIVEN optional keys left at their "" default WHEN validated THEN they count as not set', () => {
    const config = validateConfig(raw(validUs()));
    expect(config.alarmEmail).toBeUndefined();
    expect(config.dns).toBeUndefined();
    expect(config.imageUri).toBeUndefined();
    expect(validUs()['tap:alarmEmail']).toBe('');
  });

  test('GIVEN Pulumi.prod-eu.yaml WHEN validated THEN it is the secondary in eu-west-1 with the same regions and suffix', () => {
    const config: TapConfig = validateConfig(raw(validEu()));
    expect(config).toMatchObject({ role: 'secondary', region: 'eu-west-1', primaryRegion: 'us-east-1', secondaryRegion: 'eu-west-1', environmentSuffix: 'prod' });
  });

  test('GIVEN both stack files WHEN compared THEN they agree on everything both regions share', () => {
    const us = validateConfig(raw(validUs()));
    const eu = validateConfig(raw(validEu()));
    for (const key of ['environmentSuffix', 'environmentType', 'primaryRegion', 'secondaryRegion', 'tags'] as const) expect(eu[key]).toEqual(us[key]);
  });

  test('GIVEN the stack regions WHEN compared with cfn/contract/regions.ts THEN they are the regions the templates are linted for', () => {
    const us = validateConfig(raw(validUs()));
    expect([us.primaryRegion, us.secondaryRegion].sort()).toEqual([...DEPLOYMENT_REGIONS].sort());
  });

  test('GIVEN configured tags WHEN validated THEN tap adds Project, Environment and EnvironmentType', () => {
    expect(validateConfig(raw(validUs())).tags).toMatchObject({ Project: 'tap', Environment: 'prod', EnvironmentType: 'prod', CostCenter: 'payments' });
  });
});

describe('configuration: schema in Pulumi.yaml', () => {
  const project = parse(fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config: Record<string, { type: string; description?: string }> };

  test('GIVEN Pulumi.yaml WHEN read THEN it declares every key the program reads except tap:tags (an object, which a schema cannot type)', () => {
    const declared = Object.keys(project.config).filter((k) => k.startsWith('tap:')).map((k) => k.slice(4)).sort();
    expect(declared).toEqual(CONFIG_KEYS.filter((k) => k !== 'tags').sort());
  });

  test.each(Object.keys(parse(fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')).config as object).map((k) => [k]))(
    'GIVEN %s WHEN declared THEN it has a type and a description',
    (key) => {
      expect(['string', 'integer', 'boolean']).toContain(project.config[key].type);
      expect(project.config[key].description?.length ?? 0).toBeGreaterThan(20);
    },
  );

  test('GIVEN Pulumi.yaml WHEN read THEN only the keys every stack sets lack a default (the CLI refuses a stack missing such a key, however the program reads it)', () => {
    const withoutDefault = Object.entries(project.config).filter(([, decl]) => !('default' in decl)).map(([k]) => k).sort();
    expect(withoutDefault).toEqual(['tap:environmentSuffix', 'tap:primaryRegion', 'tap:role', 'tap:secondaryRegion']);
    for (const stack of STACKS) {
      const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> };
      expect(withoutDefault.filter((k) => file.config[k] === undefined)).toEqual([]);
    }
  });

  test('GIVEN tap:bakeMinutes unset WHEN the StackSet parameters are planned THEN the template\'s BakeMinutes default (auto: derived from the alarms) applies', () => {
    const root = templateParameters(parseTemplate(readTemplates().root));
    expect(root.find((p) => p.name === 'BakeMinutes')?.default).toBe('auto');
    expect((project.config['tap:bakeMinutes'] as { default?: unknown }).default).toBe('');
    for (const unset of ['', 'auto']) expect('bakeMinutes' in validateConfig(raw({ ...validUs(), 'tap:bakeMinutes': unset }))).toBe(false);
  });

  test.each(STACKS.map((s) => [s]))('GIVEN Pulumi.%s.yaml WHEN read THEN it sets only known keys', (stack) => {
    const keys = Object.keys(stackConfig(stack)).filter((k) => k.startsWith('tap:')).map((k) => k.slice(4));
    expect(keys.filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k))).toEqual([]);
  });

  test('GIVEN README.md WHEN read THEN its configuration table names every key', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(CONFIG_KEYS.filter((k) => !doc.includes(`\`tap:${k}\``))).toEqual([]);
  });
});

describe('configuration: every problem is named, all at once', () => {
  test('GIVEN an unknown region, a bad suffix and no secondary reference WHEN validated THEN one error names all three keys', () => {
    const found = problems({ ...validUs(), 'tap:secondaryRegion': 'eu-west-9', 'tap:environmentSuffix': 'Prod_1', 'tap:secondaryStack': undefined });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tap:secondaryRegion: "eu-west-9" is not a known AWS region code/),
        expect.stringMatching(/^tap:environmentSuffix: "Prod_1" does not match .* \(TapStack.json EnvironmentSuffix: 2-16 lowercase letters/),
        expect.stringMatching(/^tap:secondaryStack: is required for role primary: the fully qualified name of the secondary stack/),
      ]),
    );
    expect(found).toHaveLength(3);
  });

  test.each<[string, Record<string, string | undefined>, RegExp]>([
    ['missing role', { 'tap:role': undefined }, /^tap:role: is required: one of primary, secondary$/],
    ['unknown role', { 'tap:role': 'tertiary' }, /^tap:role: "tertiary" is not one of primary, secondary$/],
    ['suffix too long', { 'tap:environmentSuffix': 'a'.repeat(17) }, /^tap:environmentSuffix: "a{17}" is longer than 16 characters \(TapStack.json EnvironmentSuffix: /],
    ['suffix ending in a hyphen', { 'tap:environmentSuffix': 'prod-' }, /^tap:environmentSuffix: "prod-" does not match /],
    ['environment type', { 'tap:environmentType': 'qa' }, /^tap:environmentType: "qa" is not one of dev, staging, prod \(TapStack.json EnvironmentType: Must be dev, staging or prod.\)$/],
    ['unknown primary region', { 'tap:primaryRegion': 'us-central-1', 'aws:region': 'us-central-1' }, /^tap:primaryRegion: "us-central-1" is not a known AWS region code/],
    ['same regions', { 'tap:secondaryRegion': 'us-east-1' }, /^tap:secondaryRegion: must differ from tap:primaryRegion \(both are us-east-1\)/],
    ['stack region not the primary', { 'aws:region': 'eu-west-1' }, /^aws:region: "eu-west-1" must equal tap:primaryRegion \(us-east-1\) for role primary$/],
    ['no stack region', { 'aws:region': undefined }, /^aws:region: is required: the region this stack deploys to \(us-east-1 for role primary\)$/],
    ['tags not an object', { 'tap:tags': '["a"]' }, /^tap:tags: is not an object of tag keys to string values$/],
    ['reserved tag', { 'tap:tags': '{"Project":"x"}' }, /^tap:tags.Project: is set by tap itself/],
    ['aws: tag', { 'tap:tags': '{"aws:owner":"x"}' }, /^tap:tags.aws:owner: is not a valid tag key/],
    ['alarm e-mail', { 'tap:alarmEmail': 'ops-at-example.com' }, /^tap:alarmEmail: "ops-at-example.com" does not match .* \(TapStack.json AlarmEmail: Must be empty or an e-mail address.\)$/],
    ['hosted zone without domain', { 'tap:hostedZoneId': 'Z0123456789ABC' }, /^tap:domainName: is required when DNS failover is configured: set both/],
    ['domain without hosted zone', { 'tap:domainName': 'pay.example.com' }, /^tap:hostedZoneId: is required when DNS failover is configured/],
    ['bad hosted zone', { 'tap:hostedZoneId': 'zone', 'tap:domainName': 'pay.example.com' }, /^tap:hostedZoneId: "zone" does not match .* \(TapStack.json HostedZoneId: Empty, or a Route 53 hosted zone ID/],
    ['a domain longer than the template allows', { 'tap:hostedZoneId': 'Z0123456789ABC', 'tap:domainName': `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com` }, /^tap:domainName: ".*" is longer than 236 characters \(TapStack.json DomainName: /],
    ['a CostCenter tag the template refuses', { 'tap:tags': '{"CostCenter":"-payments"}' }, /^tap:tags.CostCenter: "-payments" does not match .*; it also fills the templates' CostCenter parameter$/],
    ['roles neither created nor given', { 'tap:createStackSetRoles': 'false' }, /^tap:createStackSetRoles: must be true, or set tap:stackSetAdministrationRoleArn and tap:stackSetExecutionRoleName/],
    ['no roles key at all', { 'tap:createStackSetRoles': undefined }, /^tap:createStackSetRoles: must be true, or set/],
    ['roles both created and given', { 'tap:stackSetExecutionRoleName': 'x' }, /^tap:createStackSetRoles: is true, but tap:stackSetExecutionRoleName name existing roles/],
    ['half of the existing roles', { 'tap:createStackSetRoles': 'false', 'tap:stackSetExecutionRoleName': 'exec' }, /^tap:stackSetAdministrationRoleArn: is required with tap:stackSetExecutionRoleName/],
    ['bad administration role ARN', { 'tap:createStackSetRoles': 'false', 'tap:stackSetExecutionRoleName': 'exec', 'tap:stackSetAdministrationRoleArn': 'admin' }, /^tap:stackSetAdministrationRoleArn: "admin" is not an IAM role ARN/],
    ['createStackSetRoles not a boolean', { 'tap:createStackSetRoles': 'yes' }, /^tap:createStackSetRoles: "yes" is not a boolean/],
    ['secondary stack not qualified', { 'tap:secondaryStack': 'prod-eu' }, /^tap:secondaryStack: "prod-eu" is not a fully qualified stack name <organization>\/<project>\/<stack>/],
    ['image by tag', { 'tap:imageUri': '210987654321.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod:latest' }, /^tap:imageUri: ".*:latest" does not match .* \(TapStack.json PrimaryImageUri: Must be an ECR image URI pinned by a sha256 digest; a tag is refused/],
    ['image of another region', { 'tap:imageUri': IMAGE('eu-west-1') }, /^tap:imageUri: is in eu-west-1 but this stack deploys to us-east-1/],
    ['image in another repository', { 'tap:imageUri': IMAGE('us-east-1').replace('tap-lambda-prod', 'ci/lambda') }, /^tap:imageUri: is in repository ci\/lambda; expected tap-lambda-prod, the repository this stack declares/],
    ['retain count zero', { 'tap:imageRetainCount': '0' }, /^tap:imageRetainCount: "0" is not an integer from 1 to 1000$/],
    ['bake minutes above 10', { 'tap:bakeMinutes': '11' }, /^tap:bakeMinutes: "11" does not match \^\(auto\|\[0-9\]\|10\)\$ \(TapStack.json BakeMinutes: /],
    ['bake minutes not a whole number', { 'tap:bakeMinutes': '2.5' }, /^tap:bakeMinutes: "2.5" does not match /],
    ['a misspelt key', { 'tap:enviromentSuffix': 'prod' }, /^tap:enviromentSuffix: is not a tap configuration key/],
  ])('GIVEN the primary with %s WHEN validated THEN the message names the key and what is expected', (_case, change, expected) => {
    expect(problems({ ...validUs(), ...change })).toEqual([expect.stringMatching(expected)]);
  });

  test.each<[string, Record<string, string | undefined>, RegExp]>([
    ['stack region not the secondary', { 'aws:region': 'us-east-1' }, /^aws:region: "us-east-1" must equal tap:secondaryRegion \(eu-west-1\) for role secondary$/],
    ['a secondary stack reference', { 'tap:secondaryStack': 'organization/tap/prod-eu' }, /^tap:secondaryStack: applies to role primary only/],
    ['StackSet roles to create', { 'tap:createStackSetRoles': 'true' }, /^tap:createStackSetRoles: applies to role primary only/],
    ['an existing StackSet role', { 'tap:stackSetExecutionRoleName': 'exec' }, /^tap:stackSetExecutionRoleName: applies to role primary only/],
  ])('GIVEN the secondary with %s WHEN validated THEN the message names the key', (_case, change, expected) => {
    expect(problems({ ...validEu(), ...change })).toEqual([expect.stringMatching(expected)]);
  });

  test('GIVEN an unknown region WHEN reported THEN the message lists the known region codes', () => {
    const [message] = problems({ ...validUs(), 'tap:secondaryRegion': 'eu-west-9' });
    for (const region of COMMERCIAL_REGIONS) expect(message).toContain(region);
  });

  test.each<[string, Record<string, string | undefined>, Partial<TapConfig>]>([
    ['existing StackSet roles', { 'tap:createStackSetRoles': 'false', 'tap:stackSetAdministrationRoleArn': 'arn:aws:iam::210987654321:role/admin', 'tap:stackSetExecutionRoleName': 'exec' }, {
      stackSetRoles: { create: false, administrationRoleArn: 'arn:aws:iam::210987654321:role/admin', executionRoleName: 'exec' },
    } as Partial<TapConfig>],
    ['DNS failover', { 'tap:hostedZoneId': 'Z0123456789ABC', 'tap:domainName': 'pay.example.com' }, { dns: { hostedZoneId: 'Z0123456789ABC', domainName: 'pay.example.com' } }],
    ['a prebuilt image', { 'tap:imageUri': IMAGE('us-east-1') }, { imageUri: IMAGE('us-east-1') }],
    ['bake minutes 0', { 'tap:bakeMinutes': '0' }, { bakeMinutes: 0 }],
    ['an alarm e-mail', { 'tap:alarmEmail': 'ops@example.com' }, { alarmEmail: 'ops@example.com' }],
  ])('GIVEN the primary with %s WHEN validated THEN it is accepted', (_case, change, expected) => {
    const clean = Object.fromEntries(Object.entries({ ...validUs(), ...change }).filter((e): e is [string, string] => e[1] !== undefined));
    expect(validateConfig(raw(clean))).toMatchObject(expected);
  });
});

describe('configuration: the program refuses a broken stack before declaring anything', () => {
  const broken = { 'tap:secondaryRegion': 'eu-west-9', 'tap:environmentSuffix': 'Prod_1', 'tap:secondaryStack': undefined };

  test('GIVEN prod-us with three bad keys WHEN the program runs THEN it fails naming each key', async () => {
    await expect(runProgram('prod-us', { config: broken })).rejects.toThrow(
      /Invalid tap configuration \(3 problems\):\n {2}- tap:environmentSuffix: [^\n]+\n {2}- tap:secondaryRegion: [^\n]+\n {2}- tap:secondaryStack: /,
    );
  });

  test('GIVEN prod-us with bad keys WHEN the program runs THEN no resource was declared before the error', async () => {
    const run = await runPulumi('prod-us', { config: broken }, async (load) => {
      try {
        await load<() => Promise<unknown>>('index')();
      } catch (e) {
        // A RunError is what Pulumi prints as a message, without a stack trace.
        return { error: (e as Error).name, isRunError: pulumi.RunError.isInstance(e) };
      }
      return {};
    });
    expect(run.outputs.error).toBe('ConfigValidationError');
    expect(run.outputs.isRunError).toBe(true);
    expect(run.resources).toEqual([]);
    expect(run.calls).toEqual([]);
  });
});

describe('configuration: keys that become root parameters', () => {
  test('GIVEN every key checked against a root parameter WHEN set THEN the StackSet gets its value as exactly that parameter (one mapping, not two that drift)', () => {
    const set = { 'tap:alarmEmail': 'ops@example.com', 'tap:hostedZoneId': 'Z0123456789ABC', 'tap:domainName': 'pay.example.com', 'tap:bakeMinutes': '3' };
    const config = validateConfig(raw({ ...validUs(), ...set }));
    const values = sharedParameterValues(config);
    // The image is no shared parameter: each region's image becomes PrimaryImageUri or SecondaryImageUri.
    const checked = Object.entries(TEMPLATE_CHECKED_KEYS).filter(([key]) => key !== 'imageUri');
    expect(Object.keys(values).sort()).toEqual(checked.map(([, name]) => name).sort());
    const configured = (key: string): string | undefined => (key.startsWith('tags.') ? config.tags[key.slice(5)] : raw({ ...validUs(), ...set }).tap[key as keyof RawConfig['tap']]);
    for (const [key, name] of checked) expect({ key, value: values[name] }).toEqual({ key, value: configured(key) });
  });

  test.each(templateParameters(parseTemplate(readTemplates().root)).filter((p) => p.allowedPattern !== undefined).map((p) => [p.name, p]))(
    'GIVEN the root parameter %s WHEN a value is checked against its AllowedPattern THEN the pattern is also a JavaScript regular expression (else every check would throw)',
    (_name, p) => {
      expect(() => parameterValueProblem(p, 'x')).not.toThrow();
    },
  );

  test('GIVEN every region tap accepts WHEN looked up in @pulumi/aws-native THEN its provider knows it (the ECR repository is an aws-native resource)', () => {
    const known: readonly string[] = Object.values(awsnative.Region);
    expect(COMMERCIAL_REGIONS.filter((r) => !known.includes(r))).toEqual([]);
  });
});
