/**
 * TransactionStackSet on its own, over a small template set that declares what
 * the full root does (both regions' images, BakeMinutes), so the StackSet-level
 * wiring is proven whatever the committed root holds today.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Component from '../../components/transactionStackSet';
import { fixtureRoot, writeFixtureTemplates } from './support/fixtures';
import { Loader, MOCK_ACCOUNT, ProgramRun, only, runPulumi, sha } from './support/program';

const image = (region: string): string => `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod@sha256:${sha(region)}`;
const ADMIN = `arn:aws:iam::${MOCK_ACCOUNT}:role/admin`;

function declare(load: Loader, templatesDir: string, parameters: Record<string, string | undefined> = {}): Component.TransactionStackSet {
  const { TransactionStackSet } = load<typeof Component>('components/transactionStackSet');
  return new TransactionStackSet('ss', {
    environmentSuffix: 'prod',
    templatesDir,
    parameters: { EnvironmentSuffix: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', ...parameters },
    administrationRoleArn: ADMIN,
    executionRoleName: 'exec',
    regions: { primary: 'us-east-1', secondary: 'eu-west-1' },
    images: { primary: image('us-east-1'), secondary: image('eu-west-1') },
  });
}

describe('TransactionStackSet over a fixture root', () => {
  const dir = writeFixtureTemplates();
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runPulumi('prod-us', {}, (load) => ({ ids: declare(load, dir, { BakeMinutes: '7' }).instanceIds }));
  });

  test('GIVEN the fixture WHEN declared THEN the body is its root file and the capabilities come from its nested IAM role', () => {
    expect(only(run, 'aws:cloudformation/stackSet:StackSet').inputs).toMatchObject({
      templateBody: fs.readFileSync(path.join(dir, 'TapStack.json'), 'utf8'),
      capabilities: ['CAPABILITY_IAM'],
      administrationRoleArn: ADMIN,
      executionRoleName: 'exec',
    });
  });

  test('GIVEN the fixture WHEN declared THEN every root parameter is a StackSet-level value: configuration, both images, Defaults', () => {
    expect(only(run, 'aws:cloudformation/stackSet:StackSet').inputs.parameters).toEqual({
      EnvironmentSuffix: 'prod',
      PrimaryRegion: 'us-east-1',
      SecondaryRegion: 'eu-west-1',
      BakeMinutes: '7',
      AlarmEmail: '',
      PrimaryImageUri: image('us-east-1'),
      SecondaryImageUri: image('eu-west-1'),
    });
  });

  test('GIVEN the instances WHEN declared THEN one resource holds both regions, without overrides, and the operations allow an Aurora-sized release', () => {
    const instances = only(run, 'aws:cloudformation/stackInstances:StackInstances');
    expect(instances.inputs).toMatchObject({ regions: ['us-east-1', 'eu-west-1'], accounts: [MOCK_ACCOUNT] });
    expect(instances.inputs.parameterOverrides).toBeUndefined();
    expect(only(run, 'aws:cloudformation/stackSet:StackSet').options.customTimeouts?.update).toBe('60m');
    expect(instances.options.customTimeouts).toEqual({ create: '60m', update: '60m', delete: '60m' });
    expect(run.outputs.ids).toEqual({ 'us-east-1': `tap-prod,${MOCK_ACCOUNT},us-east-1`, 'eu-west-1': `tap-prod,${MOCK_ACCOUNT},eu-west-1` });
  });
});

describe('TransactionStackSet refuses parameters it cannot fill, before declaring anything', () => {
  test.each<[string, Record<string, unknown>, Record<string, string | undefined>, RegExp]>([
    ['a root parameter without Default or source', { LicenseKey: { Type: 'String' } }, {}, /LicenseKey: has no Default and the program gives it no value/],
    ['a configured value outside its bounds', {}, { BakeMinutes: '11' }, /BakeMinutes: "11" does not match/],
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
