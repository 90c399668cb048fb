/**
 * The Pulumi program (index.ts) under mocks, with the committed stack files
 * and the committed templates.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { contextHash } from '../../components/contextHash';
import { administrationPolicy, administrationTrustPolicy, executionRolePolicy, executionTrustPolicy } from '../../components/executionPolicy';
import { IMAGE_PLATFORM, LAMBDA_DIR, lifecyclePolicy } from '../../components/lambdaImage';
import { PRIMARY_IMAGE_PARAMETER, SECONDARY_IMAGE_PARAMETER } from '../../program/stackSetParameters';
import { secondaryArtifactsProblem } from '../../program/secondary';
import {
  TEMPLATES_DIR,
  parseTemplate,
  readTemplates,
  requiredCapabilities,
  templateObjectKey,
  templateParameters,
  templateResourceTypes,
} from '../../program/committedTemplates';
import { MOCK_ACCOUNT, ProgramRun, ROOT, RecordedResource, STACKS, ofType, only, runProgram, runProgramExpectingError, secondaryOutputs, sha } from './support/program';

const T = {
  repository: 'aws-native:ecr:Repository',
  nativeProvider: 'pulumi:providers:aws-native',
  image: 'docker:index/image:Image',
  bucket: 'aws:s3/bucket:Bucket',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  publicAccess: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  bucketLifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  object: 'aws:s3/bucketObjectv2:BucketObjectv2',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  stackSet: 'aws:cloudformation/stackSet:StackSet',
  instances: 'aws:cloudformation/stackInstances:StackInstances',
  singleInstance: 'aws:cloudformation/stackSetInstance:StackSetInstance',
  stackReference: 'pulumi:pulumi:StackReference',
} as const;

const templates = readTemplates();
const rootParameters = templateParameters(parseTemplate(templates.root)).map((p) => p.name);
const declares = (name: string): boolean => rootParameters.includes(name);
const secondary = secondaryOutputs() as { imageUri: string; templateUrls: Record<string, string> };
const tags = { Project: 'tap', Environment: 'prod', EnvironmentType: 'prod', CostCenter: 'payments', Owner: 'payments-platform' };

const runs: Partial<Record<(typeof STACKS)[number], ProgramRun>> = {};
const run = (stack: (typeof STACKS)[number]): ProgramRun => {
  const r = runs[stack];
  if (r === undefined) throw new Error(`${stack} did not run`);
  return r;
};
beforeAll(async () => {
  for (const stack of STACKS) runs[stack] = await runProgram(stack);
});

const json = (text: unknown): unknown => JSON.parse(String(text));
/** How the Pulumi SDK marks a secret value on the wire. */
const SECRET_SIGNATURE = pulumi.runtime.specialSigKey;
const SECRET_MARKER = pulumi.runtime.specialSecretSig;

describe.each([
  ['prod-us', 'us-east-1'],
  ['prod-eu', 'eu-west-1'],
] as const)('%s: its own image and template artifacts (%s)', (stack, region) => {
  const repositoryUrl = `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod`;
  const bucket = `tap-templates-prod-${MOCK_ACCOUNT}-${region}`;

  test('GIVEN LambdaImage WHEN declared THEN the repository is immutable, scanned, KMS-encrypted, emptied on delete and tagged', () => {
    expect(only(run(stack), T.repository).inputs).toMatchObject({
      repositoryName: 'tap-lambda-prod',
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS' },
      emptyOnDelete: true,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    });
  });

  test('GIVEN LambdaImage WHEN declared THEN the repository carries its own lifecycle policy: keep the configured 10 images', () => {
    const policy = (only(run(stack), T.repository).inputs.lifecyclePolicy as { lifecyclePolicyText: string }).lifecyclePolicyText;
    expect(json(policy)).toEqual({
      rules: [{ rulePriority: 1, description: 'Keep the last 10 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }],
    });
    expect(json(policy)).toEqual(lifecyclePolicy(10));
  });

  test('GIVEN the repository WHEN declared THEN an aws-native provider pinned to the stack\'s region manages it', () => {
    const provider = only(run(stack), T.nativeProvider);
    expect(provider.inputs.region).toBe(region);
  });

  test('GIVEN no tap:imageUri WHEN declared THEN lambda/ is built for linux/amd64 on up only, tagged with its content hash, and pushed with ECR credentials', () => {
    const image = only(run(stack), T.image).inputs;
    expect(image).toMatchObject({
      imageName: `${repositoryUrl}:${contextHash(LAMBDA_DIR)}`,
      buildOnPreview: false,
      build: { context: LAMBDA_DIR, dockerfile: path.join(LAMBDA_DIR, 'Dockerfile'), platform: IMAGE_PLATFORM },
    });
    // The password makes the registry block a secret, so none of it shows in a diff.
    expect(image.registry).toEqual({
      [SECRET_SIGNATURE]: SECRET_MARKER,
      value: { server: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com`, username: 'AWS', password: 'mock-registry-password' },
    });
    expect(run(stack).calls.filter((c) => c.token === 'aws:ecr/getAuthorizationToken:getAuthorizationToken').map((c) => c.inputs.registryId)).toEqual([MOCK_ACCOUNT]);
  });

  test('GIVEN the pushed image WHEN exported THEN imageUri is the repository pinned by the digest docker reported', () => {
    expect(run(stack).outputs.imageUri).toBe(`${repositoryUrl}@sha256:${sha(`${repositoryUrl}:${contextHash(LAMBDA_DIR)}`)}`);
  });

  test('GIVEN TemplateArtifacts WHEN declared THEN the bucket is named by suffix, account and region, versioned, encrypted, private and force-destroyed', () => {
    const r = run(stack);
    expect(only(r, T.bucket).inputs).toMatchObject({ bucket, forceDestroy: true, tags });
    expect(only(r, T.versioning).inputs).toMatchObject({ bucket, versioningConfiguration: { status: 'Enabled' } });
    expect(only(r, T.encryption).inputs).toMatchObject({ bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] });
    expect(only(r, T.publicAccess).inputs).toMatchObject({ bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(only(r, T.ownership).inputs).toMatchObject({ bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    expect(only(r, T.bucketLifecycle).inputs.rules).toEqual([expect.objectContaining({ status: 'Enabled', noncurrentVersionExpiration: { noncurrentDays: 30 } })]);
  });

  test('GIVEN TemplateArtifacts WHEN declared THEN the bucket policy denies every request without TLS', () => {
    const policy = only(run(stack), T.bucketPolicy);
    expect(json(policy.inputs.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    expect(policy.options.dependsOn).toContain('templates-public-access');
  });

  test('GIVEN the nested templates WHEN uploaded THEN there is one object per template, keyed by content hash, with the committed bytes, kept when replaced', () => {
    const objects = ofType(run(stack), T.object);
    expect(objects.map((o) => o.inputs.key).sort()).toEqual(templates.nested.map(templateObjectKey).sort());
    for (const file of templates.nested) {
      const object = objects.find((o) => o.inputs.key === templateObjectKey(file));
      expect(object?.inputs).toMatchObject({ bucket, content: file.body, contentType: 'application/json' });
      expect(object?.options.retainOnDelete).toBe(true);
    }
    expect(objects.some((o) => String(o.inputs.key).includes('TapStack'))).toBe(false);
  });

  test('GIVEN the uploads WHEN exported THEN templateUrls maps each nested template to its https URL in this region', () => {
    expect(run(stack).outputs.templateUrls).toEqual(
      Object.fromEntries(templates.nested.map((f) => [f.name, `https://${bucket}.s3.${region}.amazonaws.com/${templateObjectKey(f)}`])),
    );
  });

  test('GIVEN the uploads WHEN checked as the primary checks the secondary\'s THEN they are exactly what the root template reads: the derived bucket, the committed keys', () => {
    const { imageUri, templateUrls } = run(stack).outputs;
    expect(
      secondaryArtifactsProblem({ stack: `organization/tap/${stack}`, region, accountId: MOCK_ACCOUNT, environmentSuffix: 'prod', outputs: { imageUri, templateUrls }, nested: templates.nested }),
    ).toBeUndefined();
  });

  test('GIVEN every resource WHEN inspected THEN it is a child of a tap component (the StackReference aside)', () => {
    const orphans = run(stack).resources.filter((r) => r.custom && r.type !== T.stackReference && !r.type.startsWith('pulumi:providers:') && !(r.options.parentType ?? '').startsWith('tap:'));
    expect(orphans.map((r) => r.name)).toEqual([]);
  });

  test('GIVEN every resource input WHEN searched for account IDs THEN the only one is the mock account from getCallerIdentity', () => {
    const text = JSON.stringify(run(stack).resources.map((r) => r.inputs));
    const accounts = [...text.matchAll(/(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])/g)].map((m) => m[0]);
    expect(accounts.length).toBeGreaterThan(0);
    expect([...new Set(accounts)]).toEqual([MOCK_ACCOUNT]);
  });
});

describe('prod-eu: the secondary declares no StackSet', () => {
  test.each([T.stackSet, T.instances, T.singleInstance, T.role, T.rolePolicy, T.stackReference])('GIVEN prod-eu WHEN run THEN it declares no %s', (type) => {
    expect(ofType(run('prod-eu'), type)).toEqual([]);
  });

  test('GIVEN prod-eu WHEN run THEN it exports only its image and template URLs', () => {
    const defined = Object.entries(run('prod-eu').outputs).filter(([, v]) => v !== undefined).map(([k]) => k);
    expect(defined.sort()).toEqual(['imageUri', 'templateUrls']);
  });
});

describe('prod-us: StackSet roles', () => {
  const roleNamed = (name: string) => ofType(run('prod-us'), T.role).find((r) => r.inputs.name === name);

  test('GIVEN the administration role WHEN declared THEN only CloudFormation may assume it, for this account and StackSet, and it may assume the execution role only', () => {
    const admin = roleNamed('tap-stackset-admin-prod');
    expect(json(admin?.inputs.assumeRolePolicy)).toEqual(administrationTrustPolicy(MOCK_ACCOUNT, 'tap-prod'));
    const policy = ofType(run('prod-us'), T.rolePolicy).find((p) => p.inputs.role === 'tap-stackset-admin-prod');
    expect(json(policy?.inputs.policy)).toEqual(administrationPolicy(`arn:aws:iam::${MOCK_ACCOUNT}:role/tap-stackset-execution-prod`));
  });

  test('GIVEN the execution role WHEN declared THEN the administration role alone may assume it, and its policy is derived from the committed templates', () => {
    const execution = roleNamed('tap-stackset-execution-prod');
    expect(json(execution?.inputs.assumeRolePolicy)).toEqual(executionTrustPolicy(`arn:aws:iam::${MOCK_ACCOUNT}:role/tap-stackset-admin-prod`));
    const policy = ofType(run('prod-us'), T.rolePolicy).find((p) => p.inputs.role === 'tap-stackset-execution-prod');
    expect(json(policy?.inputs.policy)).toEqual(
      executionRolePolicy({
        resourceTypes: templateResourceTypes(templates),
        accountId: MOCK_ACCOUNT,
        regions: ['us-east-1', 'eu-west-1'],
        environmentSuffix: 'prod',
        stackSetName: 'tap-prod',
        templateBuckets: [`tap-templates-prod-${MOCK_ACCOUNT}-us-east-1`, `tap-templates-prod-${MOCK_ACCOUNT}-eu-west-1`],
        imageRepositories: ['tap-lambda-prod'],
      }),
    );
  });
});

describe('prod-us: the StackSet', () => {
  const stackSet = (): RecordedResource => only(run('prod-us'), T.stackSet);

  test('GIVEN the StackSet WHEN declared THEN its templateBody is the committed TapStack.json, byte for byte', () => {
    expect(stackSet().inputs.templateBody).toBe(fs.readFileSync(path.join(TEMPLATES_DIR, 'TapStack.json'), 'utf8'));
  });

  test('GIVEN the StackSet WHEN declared THEN it is self-managed with the created roles, managed execution and the templates\' capabilities', () => {
    expect(stackSet().inputs).toMatchObject({
      name: 'tap-prod',
      permissionModel: 'SELF_MANAGED',
      administrationRoleArn: `arn:aws:iam::${MOCK_ACCOUNT}:role/tap-stackset-admin-prod`,
      executionRoleName: 'tap-stackset-execution-prod',
      capabilities: requiredCapabilities([templates.root, ...templates.nested].map(parseTemplate)),
      managedExecution: { active: true },
      callAs: 'SELF',
      tags,
    });
  });

  test('GIVEN the StackSet WHEN updated THEN both regions go in one operation, in parallel, and the first failure fails it', () => {
    expect(stackSet().inputs.operationPreferences).toEqual({ regionConcurrencyType: 'PARALLEL', failureToleranceCount: 0, maxConcurrentCount: 1 });
    expect(stackSet().options.customTimeouts?.update).toBe('60m');
  });

  test('GIVEN the root template WHEN the StackSet is declared THEN it sets every root parameter, configuration first', () => {
    const parameters = stackSet().inputs.parameters as Record<string, string>;
    expect(Object.keys(parameters).sort()).toEqual([...rootParameters].sort());
    const expected = { EnvironmentSuffix: 'prod', EnvironmentType: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', CostCenter: 'payments' };
    for (const [name, value] of Object.entries(expected)) if (declares(name)) expect(parameters[name]).toBe(value);
  });

  test('GIVEN both regions\' images WHEN the StackSet is declared THEN each is a StackSet-level parameter the root picks by region', () => {
    const parameters = stackSet().inputs.parameters as Record<string, string>;
    expect(parameters[PRIMARY_IMAGE_PARAMETER]).toBe(run('prod-us').outputs.imageUri);
    expect(parameters[SECONDARY_IMAGE_PARAMETER]).toBe(secondary.imageUri);
  });
});

describe('prod-us: the stack instances', () => {
  const instances = (): RecordedResource => only(run('prod-us'), T.instances);

  test('GIVEN the instances WHEN declared THEN one resource creates both regions in one operation, in parallel, in the caller account', () => {
    expect(instances().inputs).toMatchObject({
      stackSetName: 'tap-prod',
      accounts: [MOCK_ACCOUNT],
      regions: ['us-east-1', 'eu-west-1'],
      callAs: 'SELF',
      operationPreferences: { regionConcurrencyType: 'PARALLEL', failureToleranceCount: 0, maxConcurrentCount: 1 },
    });
    expect(ofType(run('prod-us'), T.singleInstance)).toEqual([]);
  });

  test('GIVEN the instances WHEN declared THEN none carries a parameter override: every value is the StackSet\'s', () => {
    expect(instances().inputs.parameterOverrides).toBeUndefined();
  });

  test('GIVEN the instances WHEN ordered THEN they wait for the StackSet only: no region waits for another', () => {
    const r = run('prod-us');
    expect(instances().options.dependsOn).toEqual([only(r, T.stackSet).name]);
    expect(instances().options.customTimeouts).toEqual({ create: '60m', update: '60m', delete: '60m' });
  });

  test('GIVEN prod-us WHEN run THEN it reads the secondary through the configured StackReference', () => {
    expect(only(run('prod-us'), T.stackReference).inputs.name).toBe('organization/tap/prod-eu');
  });

  test('GIVEN prod-us WHEN run THEN its outputs name the StackSet, the instances and both regions\' images', () => {
    const { outputs } = run('prod-us');
    expect(outputs).toMatchObject({
      stackSetName: 'tap-prod',
      stackSetId: expect.stringMatching(/^tap-prod:/),
      instanceIds: { 'us-east-1': `tap-prod,${MOCK_ACCOUNT},us-east-1`, 'eu-west-1': `tap-prod,${MOCK_ACCOUNT},eu-west-1` },
      imageUris: { 'us-east-1': outputs.imageUri, 'eu-west-1': secondary.imageUri },
    });
  });
});

describe('prod-us: an image change', () => {
  const prebuilt = (what: string): string => `${MOCK_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod@sha256:${sha(what)}`;

  test('GIVEN a new image in either region WHEN run THEN only StackSet-level parameters change, never the instances', async () => {
    const before = await runProgram('prod-us', { config: { 'tap:imageUri': prebuilt('release 1') } });
    const newSecondary = { ...secondaryOutputs(), imageUri: `${MOCK_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/tap-lambda-prod@sha256:${sha('release 2 eu')}` };
    const after = await runProgram('prod-us', { config: { 'tap:imageUri': prebuilt('release 2') }, secondary: newSecondary });
    const params = (r: ProgramRun): Record<string, string> => only(r, T.stackSet).inputs.parameters as Record<string, string>;
    const changed = Object.keys(params(after)).filter((k) => params(after)[k] !== params(before)[k]).sort();
    expect(changed).toEqual([PRIMARY_IMAGE_PARAMETER, SECONDARY_IMAGE_PARAMETER].sort());
    expect(only(after, T.instances).inputs).toEqual(only(before, T.instances).inputs);
    expect(only(after, T.stackSet).inputs.templateBody).toBe(only(before, T.stackSet).inputs.templateBody);
  });
});

/** Everything a failed run registered, but the read-only StackReference (a read, not a resource of this stack). */
const registered = (resources: readonly RecordedResource[]): string[] => resources.filter((r) => r.type !== T.stackReference).map((r) => `${r.type} ${r.name}`);

describe('prod-us: the program fails before it changes anything', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['prod-eu was never deployed (no outputs)', {}, /^organization\/tap\/prod-eu has not been deployed \(its stack exports no imageUri and no templateUrls\): run `pulumi up -s organization\/tap\/prod-eu` first, then this stack again\.$/],
    [
      'prod-eu uploaded other templates',
      { ...secondaryOutputs(), templateUrls: { ...(secondaryOutputs().templateUrls as Record<string, string>), NetworkStack: `https://tap-templates-prod-${MOCK_ACCOUNT}-eu-west-1.s3.eu-west-1.amazonaws.com/templates/NetworkStack-0000000000000000.json` } },
      /^Secondary region eu-west-1 \(organization\/tap\/prod-eu\): it has not uploaded the committed version of NetworkStack \(it has NetworkStack-0000000000000000\.json, expected NetworkStack-[0-9a-f]{16}\.json in tap-templates-prod-210987654321-eu-west-1\): run `pulumi up -s organization\/tap\/prod-eu` first, then this stack again\.$/,
    ],
    [
      'prod-eu pushed its image to another region',
      { ...secondaryOutputs(), imageUri: `${MOCK_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod@sha256:${sha('x')}` },
      /^Secondary region eu-west-1 \(organization\/tap\/prod-eu\): its imageUri ".*" is not an image of 210987654321\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/tap-lambda-prod pinned by digest: run/,
    ],
  ])('GIVEN %s WHEN prod-us runs THEN it fails with one message naming the fix, and registers nothing', async (_what, outputs, message) => {
    const failed = await runProgramExpectingError('prod-us', { secondary: outputs });
    expect(failed.error).toBeInstanceOf(Error);
    expect(pulumi.RunError.isInstance(failed.error)).toBe(true); // printed without a stack trace
    expect(failed.error.message).toMatch(message);
    expect(registered(failed.resources)).toEqual([]);
  });

  test('GIVEN a configured value the template refuses WHEN prod-us runs THEN it fails naming the parameter, before any resource or StackReference', async () => {
    const failed = await runProgramExpectingError('prod-us', { config: { 'tap:alarmEmail': 'not an address' } });
    expect(failed.error.message).toMatch(/alarmEmail|AlarmEmail/);
    expect(failed.resources).toEqual([]);
  });
});

describe('prod-us: variants', () => {
  const prebuilt = `${MOCK_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod@sha256:${sha('ci build')}`;

  test('GIVEN tap:imageUri WHEN run THEN no Docker resource or registry call exists, the repository stays, and the configured image is deployed', async () => {
    const r = await runProgram('prod-us', { config: { 'tap:imageUri': prebuilt } });
    expect(ofType(r, T.image)).toEqual([]);
    expect(r.calls.map((c) => c.token)).not.toContain('aws:ecr/getAuthorizationToken:getAuthorizationToken');
    expect(only(r, T.repository).inputs.repositoryName).toBe('tap-lambda-prod');
    expect(r.outputs.imageUri).toBe(prebuilt);
    expect((only(r, T.stackSet).inputs.parameters as Record<string, string>)[PRIMARY_IMAGE_PARAMETER]).toBe(prebuilt);
  });

  test('GIVEN existing StackSet roles WHEN run THEN no role is created and the StackSet uses the configured ones', async () => {
    const adminArn = `arn:aws:iam::${MOCK_ACCOUNT}:role/AWSCloudFormationStackSetAdministrationRole`;
    const r = await runProgram('prod-us', {
      config: { 'tap:createStackSetRoles': false, 'tap:stackSetAdministrationRoleArn': adminArn, 'tap:stackSetExecutionRoleName': 'AWSCloudFormationStackSetExecutionRole' },
    });
    expect(ofType(r, T.role)).toEqual([]);
    expect(only(r, T.stackSet).inputs).toMatchObject({ administrationRoleArn: adminArn, executionRoleName: 'AWSCloudFormationStackSetExecutionRole' });
  });
});

describe('stack files', () => {
  test.each(STACKS.map((s) => [s]))('GIVEN Pulumi.%s.yaml WHEN read THEN it holds no account ID', (stack) => {
    expect(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')).not.toMatch(/\d{12}/);
  });
});
