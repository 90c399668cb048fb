/**
 * ComputeStack: parameters, functions, the absence of any deploy-time link to the
 * database, IAM, the API's invoke permission and the exports, over the generated JSON.
 */
import {
  template,
  templates,
  resources,
  resourcesOfType,
  findValues,
  identityPolicyStatements,
  asList,
  Resource,
  importOf,
  propertiesOf,
} from '../support/assertions';
import {
  ComputeParameters,
  HANDLERS,
  MIGRATION_TIMEOUT_SECONDS,
  GATE_TIMEOUT_SECONDS,
  PREREQUISITES_MEMORY_MB,
  PREREQUISITES_TIMEOUT_SECONDS,
} from '../../cfn/stacks/compute/parameters';
import { Exports, LambdaEnv, Names, SsmPaths, DATABASE_NAME, exportNamePattern } from '../../cfn/contract/names';
import { WILDCARD_REASONS_KEY } from '../../cfn/lib/iam';
import { GUARD_SUPPRESSIONS_KEY, Json, JsonObject } from '../../cfn/lib/template';
import { NESTED_STACK_DEPENDENCIES } from '../../cfn/stacks/root';
import { deploymentWaves, waves } from '../../cfn/lib/graph';

const t = template('ComputeStack');
const all = resources(t);
const params = t.Parameters as Record<string, JsonObject>;
const outputs = t.Outputs as Record<string, JsonObject>;

const sub = (pattern: string): JsonObject => ({ 'Fn::Sub': pattern });
const props = (id: string): JsonObject => propertiesOf(t, id);

/** The functions: logical-ID prefix, name, handler, timeout, memory, in the VPC, the condition it exists under. */
const FUNCTIONS = [
  { id: 'Validator', name: Names.validatorFunction, handler: HANDLERS.validator, timeout: { Ref: 'ValidatorTimeoutSeconds' }, memory: { Ref: 'ValidatorMemorySize' }, vpc: true },
  { id: 'Migration', name: Names.migrationFunction, handler: HANDLERS.migration, timeout: MIGRATION_TIMEOUT_SECONDS, memory: { Ref: 'MigrationMemorySize' }, vpc: true },
  { id: 'Gate', name: Names.gateFunction, handler: HANDLERS.gate, timeout: GATE_TIMEOUT_SECONDS, memory: { Ref: 'GateMemorySize' }, vpc: false },
  {
    id: 'Prerequisites',
    name: Names.prerequisitesFunction,
    handler: HANDLERS.prerequisites,
    timeout: PREREQUISITES_TIMEOUT_SECONDS,
    memory: PREREQUISITES_MEMORY_MB,
    vpc: false,
    condition: 'IsPrimaryRegion',
  },
] as const;

/** Statements of one role's inline policies, by Sid. */
function statementsOf(roleId: string): Record<string, JsonObject> {
  const found = identityPolicyStatements(t).filter((s) => s.resource === roleId);
  if (found.length === 0) throw new Error(`no policy statements on ${roleId}`);
  return Object.fromEntries(found.map(({ statement }) => [statement.Sid as string, statement]));
}

/** Every action any role of ComputeStack is allowed, by role. */
const actionsOf = (roleId: string): string[] => Object.values(statementsOf(roleId)).flatMap((s) => asList(s.Action) as string[]);

describe('ComputeStack: parameters', () => {
  test.each(Object.keys(ComputeParameters).map((k) => [k]))('GIVEN parameter %s WHEN built THEN it is declared with Description, ConstraintDescription and bounds', (name) => {
    const def = params[name];
    expect(def.Description).toEqual(expect.any(String));
    expect(def.ConstraintDescription).toEqual(expect.any(String));
    if (def.Type === 'Number') {
      expect(def.MinValue).toEqual(expect.any(Number));
      expect(def.MaxValue).toEqual(expect.any(Number));
      if (def.Default !== undefined) expect(Number(def.Default)).toBeGreaterThanOrEqual(def.MinValue as number);
      if (def.Default !== undefined) expect(Number(def.Default)).toBeLessThanOrEqual(def.MaxValue as number);
    } else {
      expect(def.AllowedPattern ?? def.AllowedValues).toBeDefined();
    }
  });

  const digest = 'a'.repeat(16) + '0123456789abcdef'.repeat(3);
  test.each([
    ['a digest-pinned URI', `123456789012.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod@sha256:${digest}`, true],
    ['a digest-pinned URI in the other region', `123456789012.dkr.ecr.eu-west-1.amazonaws.com/tap-lambda-prod@sha256:${digest}`, true],
    ['a namespaced repository', `123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/tap_lambda.v2@sha256:${digest}`, true],
    ['a China-partition registry', `123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/tap@sha256:${digest}`, true],
    ['a tag', '123456789012.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod:latest', false],
    ['a tag and a digest', `123456789012.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod:v1@sha256:${digest}`, false],
    ['no tag and no digest', '123456789012.dkr.ecr.us-east-1.amazonaws.com/tap-lambda-prod', false],
    ['a short digest', `123456789012.dkr.ecr.us-east-1.amazonaws.com/tap@sha256:${digest.slice(1)}`, false],
    ['an upper-case digest', `123456789012.dkr.ecr.us-east-1.amazonaws.com/tap@sha256:${digest.toUpperCase()}`, false],
    ['an 11-digit account', `12345678901.dkr.ecr.us-east-1.amazonaws.com/tap@sha256:${digest}`, false],
    ['a public registry', `public.ecr.aws/lambda/python@sha256:${digest}`, false],
    ['Docker Hub', `docker.io/library/python@sha256:${digest}`, false],
  ])('GIVEN %s (%s) WHEN the ImageUri pattern checks it THEN accepted is %s', (_what, uri, accepted) => {
    expect(new RegExp(String(params.ImageUri.AllowedPattern)).test(uri)).toBe(accepted);
  });

  test('GIVEN the validator timeout WHEN built THEN it defaults to 10 s and stays under the 30 s HTTP API limit', () => {
    expect(params.ValidatorTimeoutSeconds).toMatchObject({ Default: 10, MinValue: 8, MaxValue: 29 });
  });

  test('GIVEN every log group WHEN built THEN retention is the shared LogRetentionDays parameter', () => {
    const groups = Object.values(resourcesOfType(t, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(4);
    for (const g of groups) expect(g.Properties?.RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
    expect(params.LogRetentionDays).toBeDefined();
  });
});

describe('ComputeStack: functions', () => {
  test.each(FUNCTIONS.map((f) => [f.id, f]))('GIVEN the %s function WHEN built THEN it runs the one image with its handler, memory, timeout and tracing', (id, f) => {
    expect(props(`${id}Function`)).toMatchObject({
      FunctionName: sub(`${f.name}-\${EnvironmentSuffix}`),
      PackageType: 'Image',
      Code: { ImageUri: { Ref: 'ImageUri' } },
      ImageConfig: { Command: [f.handler] },
      Architectures: ['x86_64'],
      MemorySize: f.memory,
      Timeout: f.timeout,
      TracingConfig: { Mode: 'Active' },
      Role: { 'Fn::GetAtt': [`${id}Role`, 'Arn'] },
    });
  });

  test.each(FUNCTIONS.map((f) => [f.id, f]))('GIVEN the %s function WHEN built THEN its role and log group exist exactly where it does', (id, f) => {
    const condition = 'condition' in f ? f.condition : undefined;
    expect([all[`${id}Function`].Condition, all[`${id}Role`].Condition, all[`${id}LogGroup`].Condition]).toEqual([condition, condition, condition]);
  });

  test.each(FUNCTIONS.map((f) => [f.id, f]))('GIVEN the %s function WHEN built THEN its log group /aws/lambda/<name> exists first, encrypted, deleted with the stack', (id, f) => {
    const group = all[`${id}LogGroup`];
    expect(group).toMatchObject({
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: { LogGroupName: sub(`/aws/lambda/${f.name}-\${EnvironmentSuffix}`), KmsKeyId: { 'Fn::GetAtt': ['ComputeKey', 'Arn'] } },
    });
    expect(asList(all[`${id}Function`].DependsOn as Json)).toContain(`${id}LogGroup`);
  });

  test('GIVEN the log groups WHEN built THEN their key lets CloudWatch Logs use it for this account only and rotates', () => {
    const key = props('ComputeKey');
    expect(key.EnableKeyRotation).toBe(true);
    const logs = ((key.KeyPolicy as JsonObject).Statement as JsonObject[]).find((s) => JSON.stringify(s.Principal).includes('logs.'));
    expect(logs?.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*') } });
  });

  test.each(FUNCTIONS.filter((f) => f.vpc).map((f) => [f.id]))('GIVEN the %s function WHEN built THEN it runs in the three private subnets with the Lambda security group, imported from NetworkStack', (id) => {
    expect(props(`${id}Function`).VpcConfig).toEqual({
      SubnetIds: [Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id].map(importOf),
      SecurityGroupIds: [importOf(Exports.network.lambdaSecurityGroupId)],
    });
  });

  test.each([
    ['GateFunction', /^The deployment gate needs no VPC: it calls only CloudWatch/],
    ['PrerequisitesFunction', /^The cross-region prerequisites wait needs no VPC: it calls only S3 .* and KMS/],
  ])('GIVEN %s WHEN built THEN it has no VPC, and the Control Tower exception says which services it calls instead', (id, reason) => {
    expect(props(id).VpcConfig).toBeUndefined();
    const suppressions = all[id].Metadata?.[GUARD_SUPPRESSIONS_KEY] as JsonObject;
    expect(suppressions.lambda_inside_vpc_check).toMatch(reason);
  });

  test('GIVEN the validator WHEN built THEN its reserved concurrency comes from a bounded parameter', () => {
    expect(props('ValidatorFunction').ReservedConcurrentExecutions).toEqual({ Ref: 'ValidatorReservedConcurrency' });
    expect(params.ValidatorReservedConcurrency).toMatchObject({ MinValue: 1, MaxValue: expect.any(Number) });
  });
});

/** Every Environment.Variables map, by function. */
const environments = (): Array<[string, Record<string, Json>]> =>
  Object.entries(resourcesOfType(t, 'AWS::Lambda::Function')).map(([id, r]) => [id, ((r.Properties?.Environment as JsonObject)?.Variables ?? {}) as Record<string, Json>]);

/** Parameters and pseudo parameters an environment value may reference: none of them is an endpoint or a secret. */
const allowedRefs = (): Set<string> => new Set([...Object.keys(params).filter((p) => params[p].NoEcho === undefined), 'AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::URLSuffix']);

/** What is wrong with one environment value (empty when nothing). */
function environmentValueProblems(value: Json): string[] {
  const problems: string[] = [];
  const refs = allowedRefs();
  for (const { path: at, value: v } of findValues(value, () => true)) {
    if (typeof v === 'string') {
      if (v.includes('{{resolve:')) problems.push(`${at}: dynamic reference ${v}`);
      if (/\.(rds|amazonaws)\.|:\d{2,5}$/.test(v)) problems.push(`${at}: looks like an endpoint: ${v}`);
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    for (const [k, arg] of Object.entries(v)) {
      if (k === 'Fn::ImportValue' || k === 'Fn::GetAtt' || k === 'Fn::FindInMap') problems.push(`${at}: ${k} (values must be derivable names, not another resource's attributes)`);
      if (k === 'Ref' && !refs.has(arg as string)) problems.push(`${at}: Ref ${String(arg)} is not a plain parameter`);
      if (k === 'Fn::Sub') {
        const pattern = (Array.isArray(arg) ? arg[0] : arg) as string;
        for (const [, name] of pattern.matchAll(/\$\{([^}]+)\}/g)) if (!refs.has(name)) problems.push(`${at}: Fn::Sub uses ${name}`);
      }
    }
  }
  return problems;
}

describe('ComputeStack: no deploy-time link to the database', () => {
  test.each(environments().map(([id, vars]) => [id, vars]))('GIVEN the %s environment WHEN every value is walked THEN none holds an endpoint, a secret or an ImportValue', (_id, vars) => {
    expect(Object.keys(vars).length).toBeGreaterThan(0);
    expect(Object.entries(vars).flatMap(([name, v]) => environmentValueProblems(v).map((p) => `${name}: ${p}`))).toEqual([]);
  });

  test.each([
    ['an ImportValue', { 'Fn::ImportValue': sub('tap-${EnvironmentSuffix}-DbWriterEndpoint') }],
    ['a GetAtt', { 'Fn::GetAtt': ['AuroraCluster', 'Endpoint.Address'] }],
    ['a dynamic reference', '{{resolve:secretsmanager:aurora-credentials-prod:SecretString:password}}'],
    ['an endpoint', 'aurora-cluster-prod.cluster-abc.us-east-1.rds.amazonaws.com'],
    ['a Sub over an unknown name', sub('${DbEndpoint}')],
  ])('GIVEN %s as an environment value WHEN checked THEN the walk reports it', (_what, value) => {
    expect(environmentValueProblems(value as Json)).not.toEqual([]);
  });

  test.each([
    [LambdaEnv.dbWriterEndpointParam, SsmPaths.writerEndpoint],
    [LambdaEnv.dbReaderEndpointParam, SsmPaths.readerEndpoint],
    [LambdaEnv.dbPortParam, SsmPaths.port],
    [LambdaEnv.dbSecretArnParam, SsmPaths.secretArn],
  ])('GIVEN %s WHEN built THEN the VPC functions get the SSM parameter NAME %s, under the /tap/<suffix>/db/ path', (name, ssmPath) => {
    expect(ssmPath.startsWith(SsmPaths.dbPrefix)).toBe(true);
    for (const id of ['ValidatorFunction', 'MigrationFunction']) expect(Object.fromEntries(environments())[id][name]).toEqual(sub(ssmPath));
  });

  test('GIVEN the validator WHEN built THEN it gets the suffix, the database name, the session table and the audit bucket by name', () => {
    expect(Object.fromEntries(environments()).ValidatorFunction).toMatchObject({
      [LambdaEnv.environmentSuffix]: { Ref: 'EnvironmentSuffix' },
      [LambdaEnv.dbName]: DATABASE_NAME,
      [LambdaEnv.sessionTableName]: sub(`${Names.sessionTable}-\${EnvironmentSuffix}`),
      [LambdaEnv.auditBucketName]: sub(`${Names.auditBucket}-\${EnvironmentSuffix}-\${AWS::AccountId}-\${AWS::Region}`),
      [LambdaEnv.maxAmount]: { Ref: 'MaxTransactionAmount' },
      [LambdaEnv.clockSkewSeconds]: { Ref: 'ClockSkewSeconds' },
      [LambdaEnv.configTtlSeconds]: { Ref: 'ConfigTtlSeconds' },
      [LambdaEnv.logLevel]: { Ref: 'LogLevel' },
    });
  });

  test('GIVEN the functions WHEN built THEN the validator sets every variable, the gate no database variable', () => {
    const env = Object.fromEntries(environments());
    expect(Object.keys(env.ValidatorFunction).sort()).toEqual(Object.values(LambdaEnv).sort());
    expect(Object.keys(env.GateFunction).sort()).toEqual([LambdaEnv.logLevel, LambdaEnv.environmentSuffix].sort());
    expect(Object.keys(env.PrerequisitesFunction).sort()).toEqual([LambdaEnv.logLevel, LambdaEnv.environmentSuffix].sort());
    expect(Object.keys(env.MigrationFunction).filter((n) => !(Object.values(LambdaEnv) as string[]).includes(n))).toEqual([]);
  });

  test('GIVEN every Fn::ImportValue in ComputeStack WHEN listed THEN each names a NetworkStack export or the API\'s ID', () => {
    const imports = findValues(t, (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'Fn::ImportValue' in v).map(({ value }) => value);
    expect(imports.length).toBeGreaterThan(0);
    const allowed = [...Object.values(Exports.network), Exports.api.httpApiId].map(importOf).map((v) => JSON.stringify(v));
    for (const i of imports) expect(allowed).toContain(JSON.stringify(i));
  });

  test('GIVEN the root wiring WHEN the nested-stack graph is layered THEN ComputeStack waits for NetworkStack and ApiStack only and shares its wave with DatabaseStack', () => {
    expect([...NESTED_STACK_DEPENDENCIES.ComputeStack].sort()).toEqual(['ApiStack', 'NetworkStack']);
    const layered = waves(new Map(Object.entries(NESTED_STACK_DEPENDENCIES).map(([k, v]) => [k, new Set(v)])));
    const waveOf = (s: string): number => layered.findIndex((w) => w.includes(s));
    expect(waveOf('ComputeStack')).toBe(waveOf('DatabaseStack'));
    expect(waveOf('ComputeStack')).toBeGreaterThan(waveOf('NetworkStack'));
  });

  test('GIVEN the synthesized root WHEN its deployment waves are derived THEN ComputeStack follows NetworkStack and ApiStack and depends on nothing else', () => {
    const root = templates().get('TapStack') as JsonObject;
    expect(asList((root.Resources as Record<string, Resource>).ComputeStack.DependsOn as Json).sort()).toEqual(['ApiStack', 'NetworkStack']);
    const layered = deploymentWaves(root);
    const waveOf = (s: string): number => layered.findIndex((w) => w.includes(s));
    expect(waveOf('ComputeStack')).toBe(waveOf('NetworkStack') + 1);
    if (waveOf('DatabaseStack') !== -1) expect(waveOf('DatabaseStack')).toBe(waveOf('ComputeStack'));
  });
});

describe('ComputeStack: IAM, one role per function, least privilege', () => {
  const arn = (service: string, resource: string, region = '${AWS::Region}'): JsonObject => sub(`arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:${resource}`);
  const accountKeys = arn('kms', 'key/*');
  const viaService = (...services: string[]): JsonObject => ({ StringEquals: { 'kms:ViaService': services.map((s) => sub(`${s}.\${AWS::Region}.amazonaws.com`)) } });
  const sessionTable = arn('dynamodb', 'table/sessions-${EnvironmentSuffix}');
  const sessionReplica = {
    'Fn::If': ['IsPrimaryRegion', arn('dynamodb', 'table/sessions-${EnvironmentSuffix}', '${SecondaryRegion}'), arn('dynamodb', 'table/sessions-${EnvironmentSuffix}', '${PrimaryRegion}')],
  };
  const auditBucket = 'arn:${AWS::Partition}:s3:::audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}';

  test('GIVEN the functions WHEN built THEN each has its own role, assumable by Lambda only, without a fixed name', () => {
    const roles = resourcesOfType(t, 'AWS::IAM::Role');
    expect(Object.keys(roles).sort()).toEqual(['GateRole', 'MigrationRole', 'PrerequisitesRole', 'ValidatorRole']);
    for (const r of Object.values(roles)) {
      expect(r.Properties?.RoleName).toBeUndefined();
      expect(r.Properties?.ManagedPolicyArns).toBeUndefined();
      expect(r.Properties?.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    }
  });

  test.each([
    [
      'ValidatorRole',
      ['WriteOwnLogGroup', 'XRayTelemetry', 'VpcEniDescribe', 'VpcEniManage', 'ReadDatabaseParameters', 'ReadDatabaseSecret', 'DecryptThroughServices', 'SessionItems', 'DecryptSessionItems', 'WriteAuditRecords', 'EncryptAuditRecords'],
    ],
    ['MigrationRole', ['WriteOwnLogGroup', 'XRayTelemetry', 'VpcEniDescribe', 'VpcEniManage', 'ReadDatabaseParameters', 'ReadDatabaseSecret', 'DecryptThroughServices']],
    ['GateRole', ['WriteOwnLogGroup', 'XRayTelemetry', 'ReadDeploymentAlarms', 'ReadDeploymentStacks', 'FindPeerStackInstance']],
    ['PrerequisitesRole', ['WriteOwnLogGroup', 'XRayTelemetry', 'ReadReplicaBucketVersioning', 'DescribeReplicaKeys']],
  ])('GIVEN %s WHEN built THEN it holds exactly the statements its function needs', (role, sids) => {
    expect(Object.keys(statementsOf(role)).sort()).toEqual([...sids].sort());
  });

  test.each(['ValidatorRole', 'MigrationRole'])('GIVEN %s WHEN built THEN SSM reads are on exactly /tap/<suffix>/db/*, the secret on its name, the database key only by its alias and through the services', (role) => {
    const s = statementsOf(role);
    expect(s.ReadDatabaseParameters).toMatchObject({ Action: ['ssm:GetParameter', 'ssm:GetParameters'], Resource: [arn('ssm', 'parameter/tap/${EnvironmentSuffix}/db/*')] });
    expect(s.ReadDatabaseSecret).toMatchObject({ Action: ['secretsmanager:GetSecretValue'], Resource: [arn('secretsmanager', 'secret:aurora-credentials-${EnvironmentSuffix}-??????')] });
    expect(s.DecryptThroughServices).toMatchObject({
      Action: ['kms:Decrypt'],
      Resource: [accountKeys],
      Condition: {
        ...viaService('secretsmanager'),
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': sub(`alias/${Names.databaseKeyAlias}-\${EnvironmentSuffix}`) },
      },
    });
  });

  test('GIVEN the validator role WHEN built THEN DynamoDB item actions reach the session table and its replica, S3 only the audit prefix', () => {
    const s = statementsOf('ValidatorRole');
    expect(s.SessionItems).toMatchObject({ Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [sessionTable, sessionReplica] });
    expect(s.DecryptSessionItems).toMatchObject({
      Action: ['kms:Decrypt'],
      Resource: [accountKeys],
      Condition: { ...viaService('dynamodb'), 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': sub(`alias/${Names.sessionKeyAlias}-\${EnvironmentSuffix}`) } },
    });
    expect(s.WriteAuditRecords).toMatchObject({ Action: ['s3:PutObject'], Resource: [sub(`${auditBucket}/audit/*`)] });
    expect(s.EncryptAuditRecords).toMatchObject({
      Action: ['kms:GenerateDataKey'],
      Resource: [accountKeys],
      Condition: {
        ...viaService('s3'),
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': sub(`alias/${Names.auditKeyAlias}-\${EnvironmentSuffix}`) },
        ArnLike: { 'kms:EncryptionContext:aws:s3:arn': [sub(auditBucket), sub(`${auditBucket}/audit/*`)] },
      },
    });
    expect(t.Conditions).toMatchObject({ IsPrimaryRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'PrimaryRegion' }] } });
  });

  test('GIVEN the gate role WHEN built THEN it reads alarms in the two deployment regions (composite alarms need "*") and the stacks of this StackSet\'s two instances only', () => {
    const s = statementsOf('GateRole');
    expect(s.ReadDeploymentAlarms).toMatchObject({
      Action: ['cloudwatch:DescribeAlarms'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': [{ Ref: 'PrimaryRegion' }, { Ref: 'SecondaryRegion' }] } },
    });
    expect((all.GateRole.Metadata?.[WILDCARD_REASONS_KEY] as JsonObject).ReadDeploymentAlarms).toMatch(/composite alarms/);
    const instance = `stack/StackSet-${Names.stackSet}-\${EnvironmentSuffix}-????????-????-????-????-????????????/*`;
    expect(s.ReadDeploymentStacks).toMatchObject({
      Action: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'],
      Resource: [
        arn('cloudformation', instance),
        { 'Fn::If': ['IsPrimaryRegion', arn('cloudformation', instance, '${SecondaryRegion}'), arn('cloudformation', instance, '${PrimaryRegion}')] },
      ],
    });
    expect(s.FindPeerStackInstance).toMatchObject({
      Action: ['cloudformation:ListStacks'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': [{ Ref: 'PrimaryRegion' }, { Ref: 'SecondaryRegion' }] } },
    });
    expect(actionsOf('GateRole').filter((a) => /^(ssm|secretsmanager|kms|dynamodb|s3|ec2):/.test(a))).toEqual([]);
  });

  test('GIVEN the prerequisites role WHEN built THEN it reads the secondary\'s replica bucket versioning and describes only the two replica keys, by alias, there', () => {
    const s = statementsOf('PrerequisitesRole');
    expect(s.ReadReplicaBucketVersioning).toMatchObject({
      Action: ['s3:GetBucketVersioning'],
      Resource: [sub('arn:${AWS::Partition}:s3:::audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${SecondaryRegion}')],
    });
    expect(s.DescribeReplicaKeys).toMatchObject({
      Action: ['kms:DescribeKey'],
      Resource: [arn('kms', 'key/*', '${SecondaryRegion}')],
      Condition: { 'ForAnyValue:StringEquals': { 'kms:RequestAlias': [sub(`alias/${Names.auditKeyAlias}-\${EnvironmentSuffix}`), sub(`alias/${Names.sessionKeyAlias}-\${EnvironmentSuffix}`)] } },
    });
  });

  test.each(FUNCTIONS.map((f) => [`${f.id}Role`, f]))('GIVEN %s WHEN built THEN it writes logs to its own log group only, and has ENI rights only if in the VPC', (role, f) => {
    const s = statementsOf(role);
    expect(s.WriteOwnLogGroup).toEqual({ Sid: 'WriteOwnLogGroup', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [{ 'Fn::GetAtt': [`${f.id}LogGroup`, 'Arn'] }] });
    expect(actionsOf(role).filter((a) => a.startsWith('logs:'))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const eni = ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'];
    if (f.vpc) {
      expect(s.VpcEniManage).toMatchObject({ Action: eni, Resource: [arn('ec2', '*/*')] });
      expect(s.VpcEniDescribe).toMatchObject({ Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' });
    } else {
      expect(actionsOf(role).filter((a) => a.startsWith('ec2:'))).toEqual([]);
    }
  });

  test('GIVEN every identity-policy statement WHEN inspected THEN none allows Action "*" or a whole service, and none uses NotAction or NotResource', () => {
    const statements = identityPolicyStatements(t);
    expect(statements.length).toBeGreaterThan(0);
    for (const { resource, statement } of statements) {
      for (const action of asList(statement.Action)) expect({ resource, action }).not.toEqual({ resource, action: expect.stringMatching(/^(\*|[a-z0-9-]+:\*)$/) });
      expect(statement.NotAction).toBeUndefined();
      expect(statement.NotResource).toBeUndefined();
    }
  });

  test('GIVEN any policy in the template, key policies included WHEN inspected THEN no statement has Action "*"', () => {
    const actions = findValues(t, (_v, at) => /\/Statement\/\d+\/Action$/.test(at));
    expect(actions.length).toBeGreaterThan(0);
    for (const { path: at, value } of actions) expect({ at, star: asList(value).includes('*') }).toEqual({ at, star: false });
  });

  test('GIVEN every Resource "*" WHEN inspected THEN its statement has a Sid with a reason citing AWS docs in the resource Metadata, and no reason is stale', () => {
    const wildcards = identityPolicyStatements(t).filter(({ statement }) => asList(statement.Resource).includes('*'));
    expect(wildcards.length).toBeGreaterThan(0);
    for (const { resource, statement } of wildcards) {
      const reasons = (all[resource].Metadata?.[WILDCARD_REASONS_KEY] ?? {}) as Record<string, string>;
      expect({ resource, sid: statement.Sid, reason: reasons[statement.Sid as string] }).toEqual({
        resource,
        sid: expect.stringMatching(/^[A-Za-z0-9]+$/),
        reason: expect.stringContaining('https://docs.aws.amazon.com/'),
      });
    }
    for (const [id, r] of Object.entries(all)) {
      const sids = Object.keys((r.Metadata?.[WILDCARD_REASONS_KEY] ?? {}) as JsonObject);
      const starSids = wildcards.filter((w) => w.resource === id).map((w) => w.statement.Sid);
      expect({ id, sids: sids.sort() }).toEqual({ id, sids: [...starSids].sort() });
    }
  });
});

describe('ComputeStack: the API may invoke the validator', () => {
  test('GIVEN the invoke permission WHEN built THEN only this environment\'s API (ApiStack) may invoke the validator', () => {
    const permissions = Object.values(resourcesOfType(t, 'AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0].Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': ['ValidatorFunction', 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
      SourceArn: { 'Fn::Sub': ['arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/*', { ApiId: importOf(Exports.api.httpApiId) }] },
    });
  });
});

describe('ComputeStack: exports', () => {
  const attr = (id: string, a: string): JsonObject => ({ 'Fn::GetAtt': [id, a] });
  test.each([
    [Exports.compute.validatorFunctionArn, attr('ValidatorFunction', 'Arn')],
    [Exports.compute.validatorFunctionName, { Ref: 'ValidatorFunction' }],
    [Exports.compute.migrationFunctionArn, attr('MigrationFunction', 'Arn')],
    [Exports.compute.migrationFunctionName, { Ref: 'MigrationFunction' }],
    [Exports.compute.gateFunctionArn, attr('GateFunction', 'Arn')],
    [Exports.compute.gateFunctionName, { Ref: 'GateFunction' }],
    [Exports.compute.prerequisitesFunctionArn, attr('PrerequisitesFunction', 'Arn')],
  ])('GIVEN export %s WHEN built THEN its output carries the value under the suffixed export name', (key, value) => {
    expect(outputs[key]).toMatchObject({ Value: value, Export: { Name: sub(exportNamePattern(key)) } });
  });

  test('GIVEN the exports WHEN counted THEN there is exactly one per Exports.compute key', () => {
    expect(Object.values(outputs).filter((o) => o.Export !== undefined)).toHaveLength(Object.keys(Exports.compute).length);
  });

  test.each(['MigrationFunctionArn', 'GateFunctionArn', 'PrerequisitesFunctionArn'])('GIVEN the root reads %s with Fn::GetAtt WHEN built THEN that output exists', (name) => {
    expect(outputs[name]?.Value).toEqual(attr(name.replace('Arn', ''), 'Arn'));
  });

  test('GIVEN the prerequisites function exists in the primary only WHEN exported THEN its output is conditional too', () => {
    expect(outputs[Exports.compute.prerequisitesFunctionArn].Condition).toBe('IsPrimaryRegion');
  });
});
