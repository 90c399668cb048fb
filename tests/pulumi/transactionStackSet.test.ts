/**
 * TransactionStackSet on its own, over a small template set that declares what
 * the full root does (ImageUri, DeploymentStamp, a TemplateUrl), so the
 * per-region wiring is proven whatever the committed root holds today.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Component from '../../components/transactionStackSet';
import { deploymentStamp } from '../../components/stackSetParameters';
import { readTemplates, templateObjectKey } from '../../components/templates';
import { fixtureRoot, writeFixtureTemplates } from './support/fixtures';
import { Loader, MOCK_ACCOUNT, ProgramRun, RecordedResource, ofType, only, runPulumi, sha } from './support/program';

const image = (region: string): string => `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod@sha256:${sha(region)}`;
/** Key of the fixture's AppStack.json: both regions uploaded the current version. */
const APP_KEY = templateObjectKey(readTemplates(writeFixtureTemplates()).nested[0]);
const url = (region: string): string => `https://tap-templates-prod-${MOCK_ACCOUNT}-${region}.s3.${region}.amazonaws.com/${APP_KEY}`;
const ADMIN = `arn:aws:iam::${MOCK_ACCOUNT}:role/admin`;

function declare(load: Loader, templatesDir: string, parameters: Record<string, string | undefined> = {}): Component.TransactionStackSet {
  const { TransactionStackSet } = load<typeof Component>('components/transactionStackSet');
  return new TransactionStackSet('ss', {
    environmentSuffix: 'prod',
    templatesDir,
    parameters: { EnvironmentSuffix: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', ...parameters },
    administrationRoleArn: ADMIN,
    executionRoleName: 'exec',
    primary: { region: 'us-east-1', imageUri: image('us-east-1'), templateUrls: { AppStack: url('us-east-1') } },
    secondary: { region: 'eu-west-1', imageUri: image('eu-west-1'), templateUrls: { AppStack: url('eu-west-1') } },
  });
}

describe('TransactionStackSet over a fixture root', () => {
  const dir = writeFixtureTemplates();
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runPulumi('prod-us', {}, (load) => ({ stamps: declare(load, dir, { BakeMinutes: '7' }).deploymentStamps }));
  });
  const instance = (region: string): RecordedResource => ofType(run, 'aws:cloudformation/stackSetInstance:StackSetInstance').find((i) => i.inputs.stackSetInstanceRegion === region) as RecordedResource;

  test('GIVEN the fixture WHEN declared THEN the body is its root file and the capabilities come from its nested IAM role', () => {
    expect(only(run, 'aws:cloudformation/stackSet:StackSet').inputs).toMatchObject({
      templateBody: fs.readFileSync(path.join(dir, 'TapStack.json'), 'utf8'),
      capabilities: ['CAPABILITY_IAM'],
      administrationRoleArn: ADMIN,
      executionRoleName: 'exec',
    });
  });

  test('GIVEN the fixture WHEN declared THEN StackSet-level values are configuration, the primary\'s regional values and Defaults', () => {
    const stamps = run.outputs.stamps as Record<string, string>;
    expect(only(run, 'aws:cloudformation/stackSet:StackSet').inputs.parameters).toEqual({
      EnvironmentSuffix: 'prod',
      PrimaryRegion: 'us-east-1',
      SecondaryRegion: 'eu-west-1',
      BakeMinutes: '7',
      AlarmEmail: '',
      ImageUri: image('us-east-1'),
      AppStackTemplateUrl: url('us-east-1'),
      DeploymentStamp: stamps['us-east-1'],
    });
  });

  test.each(['us-east-1', 'eu-west-1'])('GIVEN %s WHEN declared THEN its overrides are its image, its template URL and its own DeploymentStamp', (region) => {
    const stamps = run.outputs.stamps as Record<string, string>;
    expect(instance(region).inputs.parameterOverrides).toEqual({ ImageUri: image(region), AppStackTemplateUrl: url(region), DeploymentStamp: stamps[region] });
  });

  test('GIVEN the secondary WHEN stamped THEN the stamp covers every template and every value of that region', () => {
    const set = readTemplates(dir);
    const values = { EnvironmentSuffix: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', BakeMinutes: '7', AlarmEmail: '', ImageUri: image('eu-west-1'), AppStackTemplateUrl: url('eu-west-1') };
    expect((run.outputs.stamps as Record<string, string>)['eu-west-1']).toBe(deploymentStamp([set.root, ...set.nested], values));
  });

  test('GIVEN the instances WHEN declared THEN the StackSet update allows two Aurora-sized regions and each instance one', () => {
    expect(only(run, 'aws:cloudformation/stackSet:StackSet').options.customTimeouts?.update).toBe('120m');
    expect(instance('eu-west-1').options.customTimeouts).toEqual({ create: '60m', update: '60m', delete: '60m' });
  });
});

describe('TransactionStackSet refuses parameters it cannot fill, before declaring anything', () => {
  test.each<[string, Record<string, unknown>, Record<string, string | undefined>, RegExp]>([
    ['a root parameter without Default or source', { LicenseKey: { Type: 'String' } }, {}, /LicenseKey: has no Default and the program gives it no value/],
    ['a configured value outside its bounds', {}, { BakeMinutes: '11' }, /BakeMinutes: 11 is above the maximum 10/],
    ['a configured value not matching its pattern', {}, { EnvironmentSuffix: 'Prod' }, /EnvironmentSuffix: "Prod" does not match/],
  ])('GIVEN %s WHEN declared THEN the error names the parameter', async (_case, extra, parameters, expected) => {
    const dir = writeFixtureTemplates(fixtureRoot(extra));
    const run = await runPulumi('prod-us', {}, (load) => {
      try {
        declare(load, dir, parameters);
      } catch (e) {
        return { error: `${(e as Error).name}: ${(e as Error).message}` };
      }
      return {};
    });
    expect(run.outputs.error).toMatch(/^StackSetParameterError: TapStack\.json parameters cannot be filled/);
    expect(run.outputs.error).toMatch(expected);
    expect(run.resources).toEqual([]);
  });
});
