/**
 * The Pulumi program (index.ts) under mocks, with the committed stack files
 * and the committed templates.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { contextHash } from '../../components/contextHash';
import { administrationPolicy, administrationTrustPolicy, executionRolePolicy, executionTrustPolicy } from '../../components/executionPolicy';
import { IMAGE_PLATFORM, LAMBDA_DIR } from '../../components/lambdaImage';
import { DEPLOYMENT_STAMP_PARAMETER, IMAGE_URI_PARAMETER, staleTemplatesProblem } from '../../components/stackSetParameters';
import {
  TEMPLATES_DIR,
  parseTemplate,
  readTemplates,
  requiredCapabilities,
  templateObjectKey,
  templateParameters,
  templateResourceTypes,
} from '../../components/templates';
import { MOCK_ACCOUNT, ProgramRun, ROOT, RecordedResource, STACKS, ofType, only, runProgram, secondaryOutputs, sha } from './support/program';

const T = {
  repository: 'aws:ecr/repository:Repository',
  lifecycle: 'aws:ecr/lifecyclePolicy:LifecyclePolicy',
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
  instance: 'aws:cloudformation/stackSetInstance:StackSetInstance',
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

const instanceIn = (r: ProgramRun, region: string): RecordedResource => {
  const found = ofType(r, T.instance).filter((i) => i.inputs.stackSetInstanceRegion === region);
  if (found.length !== 1) throw new Error(`expected one instance in ${region}, found ${found.length}`);
  return found[0];
};
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

  test('GIVEN LambdaImage WHEN declared THEN the repository is immutable, scanned, KMS-encrypted, force-deleted and tagged', () => {
    expect(only(run(stack), T.repository).inputs).toMatchObject({
      name: 'tap-lambda-prod',
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: 'KMS' }],
      forceDelete: true,
      tags,
    });
  });

  test('GIVEN LambdaImage WHEN declared THEN the lifecycle policy keeps the configured 10 images', () => {
    const lifecycle = only(run(stack), T.lifecycle).inputs;
    expect(lifecycle.repository).toBe('tap-lambda-prod');
    expect(json(lifecycle.policy)).toEqual({
      rules: [{ rulePriority: 1, description: 'Keep the last 10 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }],
    });
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

  test('GIVEN the uploads WHEN checked as the primary checks the secondary\'s THEN none is stale: the keys uploaded are the keys expected', () => {
    const uploaded = run(stack).outputs.templateUrls as Record<string, string>;
    expect(staleTemplatesProblem(region, uploaded, templates.nested, `organization/tap/${stack}`)).toBeUndefined();
  });

  test('GIVEN every resource WHEN inspected THEN it is a child of a tap component (the StackReference aside)', () => {
    const orphans = run(stack).resources.filter((r) => r.custom && r.type !== T.stackReference && !(r.options.parentType ?? '').startsWith('tap:'));
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
  test.each([T.stackSet, T.instance, T.role, T.rolePolicy, T.stackReference])('GIVEN prod-eu WHEN run THEN it declares no %s', (type) => {
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

  test('GIVEN the StackSet WHEN updated THEN regions go one at a time, secondary first, and the first failure stops it', () => {
    expect(stackSet().inputs.operationPreferences).toEqual({
      regionConcurrencyType: 'SEQUENTIAL',
      regionOrders: ['eu-west-1', 'us-east-1'],
      failureToleranceCount: 0,
      maxConcurrentCount: 1,
    });
    expect(stackSet().options.customTimeouts?.update).toBe('120m');
  });

  test('GIVEN the root template WHEN the StackSet is declared THEN it sets every root parameter, configuration first', () => {
    const parameters = stackSet().inputs.parameters as Record<string, string>;
    expect(Object.keys(parameters).sort()).toEqual([...rootParameters].sort());
    const expected = { EnvironmentSuffix: 'prod', EnvironmentType: 'prod', PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', CostCenter: 'payments' };
    for (const [name, value] of Object.entries(expected)) if (declares(name)) expect(parameters[name]).toBe(value);
  });
});

describe('prod-us: one stack instance per region', () => {
  test.each([
    ['eu-west-1', secondary.imageUri, secondary.templateUrls],
    ['us-east-1', undefined, undefined],
  ])('GIVEN the %s instance WHEN declared THEN its overrides are that region\'s image, template URLs and DeploymentStamp', (region, image, urls) => {
    const r = run('prod-us');
    const overrides = instanceIn(r, region).inputs.parameterOverrides as Record<string, string>;
    const expectedImage = image ?? (r.outputs.imageUri as string);
    const expectedUrls = urls ?? (r.outputs.templateUrls as Record<string, string>);
    for (const name of templates.nested.map((f) => f.name)) {
      if (declares(`${name}TemplateUrl`)) expect(overrides[`${name}TemplateUrl`]).toBe(expectedUrls[name]);
    }
    expect(overrides[IMAGE_URI_PARAMETER]).toBe(declares(IMAGE_URI_PARAMETER) ? expectedImage : undefined);
    const stamps = r.outputs.deploymentStamps as Record<string, string>;
    expect(stamps[region]).toMatch(/^[a-f0-9]{64}$/);
    expect(overrides[DEPLOYMENT_STAMP_PARAMETER]).toBe(declares(DEPLOYMENT_STAMP_PARAMETER) ? stamps[region] : undefined);
    expect(Object.values(overrides).every((v) => !v.includes(region === 'us-east-1' ? 'eu-west-1' : 'us-east-1'))).toBe(true);
  });

  test.each(['eu-west-1', 'us-east-1'])('GIVEN the %s instance WHEN declared THEN it targets the caller account, one region at a time, with timeouts fit for Aurora', (region) => {
    const instance = instanceIn(run('prod-us'), region);
    expect(instance.inputs).toMatchObject({
      stackSetName: 'tap-prod',
      accountId: MOCK_ACCOUNT,
      stackSetInstanceRegion: region,
      callAs: 'SELF',
      operationPreferences: { regionConcurrencyType: 'SEQUENTIAL', failureToleranceCount: 0, maxConcurrentCount: 1 },
    });
    expect(instance.options.customTimeouts).toEqual({ create: '60m', update: '60m', delete: '60m' });
  });

  test('GIVEN the instances WHEN ordered THEN the primary depends on the secondary, both on the StackSet, and never the reverse', () => {
    const r = run('prod-us');
    const stackSetName = only(r, T.stackSet).name;
    const primary = instanceIn(r, 'us-east-1');
    const secondaryInstance = instanceIn(r, 'eu-west-1');
    expect(primary.options.dependsOn).toEqual(expect.arrayContaining([stackSetName, secondaryInstance.name]));
    expect(secondaryInstance.options.dependsOn).toContain(stackSetName);
    expect(secondaryInstance.options.dependsOn).not.toContain(primary.name);
  });

  test('GIVEN prod-us WHEN run THEN it reads the secondary through the configured StackReference', () => {
    expect(only(run('prod-us'), T.stackReference).inputs.name).toBe('organization/tap/prod-eu');
  });

  test('GIVEN prod-us WHEN run THEN its outputs name the StackSet, the instances, and both regions\' images and template URLs', () => {
    const { outputs } = run('prod-us');
    expect(outputs).toMatchObject({
      stackSetName: 'tap-prod',
      stackSetId: expect.stringMatching(/^tap-prod:/),
      instanceIds: { 'us-east-1': `tap-prod,${MOCK_ACCOUNT},us-east-1`, 'eu-west-1': `tap-prod,${MOCK_ACCOUNT},eu-west-1` },
      imageUris: { 'us-east-1': outputs.imageUri, 'eu-west-1': secondary.imageUri },
      templateUrlsByRegion: { 'us-east-1': outputs.templateUrls, 'eu-west-1': secondary.templateUrls },
    });
  });
});

describe('prod-us: variants', () => {
  const prebuilt = `${MOCK_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod@sha256:${sha('ci build')}`;

  test('GIVEN tap:imageUri WHEN run THEN no Docker resource or registry call exists, the repository stays, and the configured image is deployed', async () => {
    const r = await runProgram('prod-us', { config: { 'tap:imageUri': prebuilt } });
    expect(ofType(r, T.image)).toEqual([]);
    expect(r.calls.map((c) => c.token)).not.toContain('aws:ecr/getAuthorizationToken:getAuthorizationToken');
    expect(only(r, T.repository).inputs.name).toBe('tap-lambda-prod');
    expect(r.outputs.imageUri).toBe(prebuilt);
    if (declares(IMAGE_URI_PARAMETER)) expect((instanceIn(r, 'us-east-1').inputs.parameterOverrides as Record<string, string>)[IMAGE_URI_PARAMETER]).toBe(prebuilt);
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
