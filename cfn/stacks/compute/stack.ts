/**
 * ComputeStack: the functions of the one container image (transaction
 * validator, schema-migration custom resource, deployment gate and, in the
 * primary region, the cross-region prerequisites wait), one least-privilege
 * role each, and the permission that lets ApiStack's HTTP API invoke the validator.
 *
 * No deploy-time link to the database or the storage: the functions learn where
 * Aurora is at run time, from SSM parameter names derived from the suffix; IAM
 * statements on database- and storage-owned things use ARNs derived the same
 * way. The only imports are NetworkStack's subnets and security group and
 * ApiStack's API ID, so ComputeStack deploys beside DatabaseStack.
 */
import { TemplateBuilder } from '../../lib/template';
import { NestedStackDefinition } from '../../contract/layout';
import { IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION, ParameterDef, shared } from '../../lib/params';
import { getAtt, iff, Intrinsic, JsonLike, ref, sub, Value, importValue, resourceName } from '../../lib/intrinsics';
import { DATABASE_NAME, Exports, LambdaEnv, Names, SUFFIX, arnPattern, bucketArnPattern, keyAliasPattern, SsmPaths, globalNamePattern, namePattern } from '../../contract/names';
import { encryptedLogGroup, kmsKey, logsKeyService } from '../../lib/patterns';
import { Permissions, WILDCARD_REASONS_KEY } from '../../lib/iam';

/**
 * An ECR image pinned by digest. A tag is refused: CloudFormation updates a
 * function only when ImageUri changes, so a re-pushed tag would never deploy,
 * and a digest is what was reviewed. Lambda pulls from the function's own region
 * (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html); the Pulumi
 * program passes each region its own repository's URI.
 */
export const IMAGE_URI_PATTERN =
  '^[0-9]{12}\\.dkr\\.ecr\\.[a-z]{2}(-gov)?-[a-z]+-[0-9]\\.amazonaws\\.com(\\.cn)?/(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*@sha256:[a-f0-9]{64}$';

const memory = (fn: string, defaultMb: number): ParameterDef => ({
  Type: 'Number',
  Description: `Memory of the ${fn} function in MB (CPU scales with it).`,
  MinValue: 128,
  MaxValue: 10240,
  Default: defaultMb,
  ConstraintDescription: 'Must be 128 to 10240 MB (Lambda limits).',
});

export const ComputeParameters = {
  ImageUri: {
    Type: 'String',
    Description: 'Lambda container image of this region, pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>.',
    AllowedPattern: IMAGE_URI_PATTERN,
    ConstraintDescription: 'Must be an ECR image URI pinned by a sha256 digest; a tag is refused (CloudFormation only updates a function when the URI changes).',
  },
  ValidatorMemorySize: memory('transaction validator', 1024),
  MigrationMemorySize: memory('schema-migration', 512),
  GateMemorySize: memory('deployment gate', 256),
  ValidatorTimeoutSeconds: {
    Type: 'Number',
    Description: 'Timeout of the transaction validator in seconds; below the HTTP API integration limit of 30 s, after which the client gets 503 anyway.',
    // At least 8 s: the validator starts a dependency call only when its worst case fits
    // (an AWS call up to 3 s, a new database connection up to 6 s: lambda/tap/aws.py, db.py),
    // so below 8 s a request with one slow dependency would answer 503 far more often.
    MinValue: 8,
    MaxValue: 29,
    Default: 10,
    ConstraintDescription: 'Must be 8 to 29 seconds (the validator needs room for a few dependency calls of up to 3 s each before it answers; the HTTP API waits at most 30 s for an integration).',
  },
  ValidatorReservedConcurrency: {
    Type: 'Number',
    Description: 'Concurrency reserved for the validator: guaranteed capacity, and a ceiling that protects Aurora connections. The account quota must keep 100 unreserved.',
    MinValue: 1,
    MaxValue: 5000,
    Default: 100,
    ConstraintDescription: 'Must be 1 to 5000 (and fit the account concurrency quota, which keeps 100 unreserved).',
  },
  MaxTransactionAmount: {
    Type: 'String',
    Description: 'Largest amount the validator accepts, as a decimal string.',
    AllowedPattern: '^[1-9][0-9]{0,11}(\\.[0-9]{1,3})?$',
    Default: '10000.00',
    ConstraintDescription: 'Must be a positive decimal number without sign or exponent, at most 12 integer digits and 3 decimals.',
  },
  ClockSkewSeconds: {
    Type: 'Number',
    Description: 'Largest accepted distance between a transaction timestamp and the server clock, in seconds.',
    MinValue: 1,
    MaxValue: 3600,
    Default: 300,
    ConstraintDescription: 'Must be 1 to 3600 seconds.',
  },
  ConfigTtlSeconds: {
    Type: 'Number',
    Description: 'Longest time a warm function reuses the database settings read from SSM and Secrets Manager, in seconds.',
    MinValue: 30,
    MaxValue: 3600,
    Default: 300,
    ConstraintDescription: 'Must be 30 to 3600 seconds.',
  },
  LogLevel: {
    Type: 'String',
    Description: 'Log level of the functions.',
    AllowedValues: ['DEBUG', 'INFO', 'WARNING', 'ERROR'],
    Default: 'INFO',
    ConstraintDescription: 'Must be DEBUG, INFO, WARNING or ERROR.',
  },
} as const satisfies Record<string, ParameterDef>;

/** Fixed by the requirements and the handlers' contracts, not tunable. */
export const MIGRATION_TIMEOUT_SECONDS = 300; // "5-minute timeout for migration operations"
export const GATE_TIMEOUT_SECONDS = 900; // the gate bakes up to 10 minutes and answers before this (lambda/tap/deploy_gate.py)
/**
 * The prerequisites wait polls for at most PREREQUISITES_MAX_WAIT_SECONDS (both regions
 * are created together; the secondary's bucket and keys take a minute or two) and answers
 * before its function's timeout, which is also the custom resource's ServiceTimeout.
 */
export const PREREQUISITES_MAX_WAIT_SECONDS = 300;
export const PREREQUISITES_TIMEOUT_SECONDS = 360;
/** The wait only reads two APIs: the smallest memory size is enough. */
export const PREREQUISITES_MEMORY_MB = 256;
export const ARCHITECTURE = 'x86_64'; // the image is built for linux/amd64 (lambda/Dockerfile)

export const HANDLERS = {
  validator: 'validator.handler',
  migration: 'migrate.handler',
  gate: 'gate.handler',
  prerequisites: 'prerequisites.handler',
} as const;

const arn = (service: string, resource: string, region?: string): Intrinsic => sub(arnPattern(service, resource, region));

/** ARNs of things other stacks own, derived from the suffix (never imported). */
/** IAM wildcard for the UUID StackSets append to a stack instance's name (8-4-4-4-12 characters). */
export const STACK_INSTANCE_UUID = [8, 4, 4, 4, 12].map((n) => '?'.repeat(n)).join('-');

export const DerivedArns = {
  dbParameters: arn('ssm', `parameter${SsmPaths.dbPrefix}*`),
  /** Secrets Manager appends a hyphen and 6 random characters to a secret's name. */
  dbSecret: arn('secretsmanager', `secret:${namePattern(Names.dbSecret)}-??????`),
  /**
   * Keys of this account and region. A key's ID lives in the stack that owns it;
   * importing DatabaseStack's would recreate the deploy-time dependency ComputeStack
   * exists to avoid, so statements on keys are narrowed by conditions instead: the
   * key's alias (kms:ResourceAliases, derived from the suffix) and the service
   * acting for this role (kms:ViaService).
   * https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html
   */
  accountKeys: arn('kms', 'key/*'),
  sessionTable: arn('dynamodb', `table/${namePattern(Names.sessionTable)}`),
  /** The global table's replica in the other region (tap deploys to PrimaryRegion and SecondaryRegion). */
  sessionTableReplica: iff(
    IS_PRIMARY_REGION_CONDITION,
    arn('dynamodb', `table/${namePattern(Names.sessionTable)}`, '${SecondaryRegion}'),
    arn('dynamodb', `table/${namePattern(Names.sessionTable)}`, '${PrimaryRegion}'),
  ),
  auditBucket: sub(bucketArnPattern(Names.auditBucket)),
  /** The secondary region's audit bucket, the primary's replication target. */
  auditReplicaBucket: sub(bucketArnPattern(Names.auditBucket, 'SecondaryRegion')),
  /** Keys of this account in the secondary region (narrowed by the alias in the request). */
  secondaryRegionKeys: arn('kms', 'key/*', '${SecondaryRegion}'),
  auditObjects: sub(`${bucketArnPattern(Names.auditBucket)}/audit/*`),
  /**
   * The StackSet `tap-<suffix>` names its stack instance `StackSet-tap-<suffix>-<uuid>`;
   * the gate reads the status of that (root) stack, whose ID comes in the event. The UUID
   * is matched character by character, so `tap-prod` cannot read `tap-prod-eu`'s stacks.
   */
  deploymentStacks: arn('cloudformation', `stack/StackSet-${namePattern(Names.stackSet)}-${STACK_INSTANCE_UUID}/*`),
  /** ENIs, subnets and security groups of this account and region (the form the Lambda guide gives). */
  accountEc2: arn('ec2', '*/*'),
} as const;

const viaService = (...services: string[]): { [operator: string]: JsonLike } => ({
  StringEquals: { 'kms:ViaService': services.map((s) => sub(`${s}.\${AWS::Region}.amazonaws.com`)) },
});

/** Only the key that carries this alias (`alias/<purpose>-${EnvironmentSuffix}`, set by its owning stack). */
const keyAliased = (purpose: string): { [operator: string]: JsonLike } => ({
  'ForAnyValue:StringEquals': { 'kms:ResourceAliases': sub(keyAliasPattern(purpose)) },
});

/** Reasons for the statements AWS lets us scope no narrower than "*". */
export const WILDCARD_REASONS = {
  XRayTelemetry:
    'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html); Lambda active tracing needs both (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html).',
  CompositeAlarmReads:
    'cloudwatch:DescribeAlarms returns composite alarms only to a permission scoped to "*" ("You can\'t return information about composite alarms if your cloudwatch:DescribeAlarms permission has a narrower scope", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html), and the gate reads the deployment-health composite alarm; read-only, limited to the two deployment regions.',
  VpcEniDescribe:
    'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions; the Lambda guide says DescribeNetworkInterfaces only works with "Resource": "*" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).',
} as const;

/** Statements every function has: its own log group, and X-Ray. */
function basePermissions(logGroupId: string): Permissions {
  return new Permissions()
    .allow('WriteOwnLogGroup', ['logs:CreateLogStream', 'logs:PutLogEvents'], [getAtt(logGroupId, 'Arn')])
    .allowOnAnyResource('XRayTelemetry', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], WILDCARD_REASONS.XRayTelemetry);
}

/**
 * ENI management for a function in the VPC. Written out instead of the managed
 * policy AWSLambdaVPCAccessExecutionRole, which grants the same EC2 actions and
 * logs:CreateLogGroup/PutLogEvents on every resource of the account; here only
 * the Describe calls are on "*".
 */
function addVpcPermissions(p: Permissions): Permissions {
  return p
    .allowOnAnyResource('VpcEniDescribe', ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], WILDCARD_REASONS.VpcEniDescribe)
    .allow(
      'VpcEniManage',
      ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      [DerivedArns.accountEc2],
    );
}

/**
 * Reads of the database settings: the SSM path, the secret, and DatabaseStack's key
 * (it encrypts the secret) through Secrets Manager only.
 */
function addDatabaseSettingsPermissions(p: Permissions): Permissions {
  return p
    .allow('ReadDatabaseParameters', ['ssm:GetParameter', 'ssm:GetParameters'], [DerivedArns.dbParameters])
    .allow('ReadDatabaseSecret', ['secretsmanager:GetSecretValue'], [DerivedArns.dbSecret])
    .allow('DecryptThroughServices', ['kms:Decrypt'], [DerivedArns.accountKeys], { ...viaService('secretsmanager'), ...keyAliased(Names.databaseKeyAlias) });
}

const databaseEnvironment = (): Record<string, Value<string>> => ({
  [LambdaEnv.environmentSuffix]: ref(SUFFIX),
  [LambdaEnv.dbWriterEndpointParam]: sub(SsmPaths.writerEndpoint),
  [LambdaEnv.dbReaderEndpointParam]: sub(SsmPaths.readerEndpoint),
  [LambdaEnv.dbPortParam]: sub(SsmPaths.port),
  [LambdaEnv.dbSecretArnParam]: sub(SsmPaths.secretArn),
  [LambdaEnv.dbName]: DATABASE_NAME,
  [LambdaEnv.configTtlSeconds]: ref('ConfigTtlSeconds'),
  [LambdaEnv.logLevel]: ref('LogLevel'),
});

interface FunctionSpec {
  /** Logical-ID prefix: <prefix>Function, <prefix>Role, <prefix>LogGroup. */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly command: string;
  /** A parameter name, or a fixed size in MB. */
  readonly memory: string | number;
  /** Condition name, for a function only one region has. */
  readonly condition?: string;
  readonly timeout: number | Intrinsic;
  readonly inVpc: boolean;
  readonly environment: Record<string, Value<string>>;
  readonly reservedConcurrency?: Intrinsic;
  /** Statements beyond logs and X-Ray (and ENIs, for VPC functions). */
  readonly permissions: (p: Permissions) => Permissions;
}

const privateSubnets = [Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id];

function lambdaFunction(t: TemplateBuilder, spec: FunctionSpec, keyArn: Intrinsic): string {
  const logGroupId = encryptedLogGroup(t, `${spec.id}LogGroup`, sub(`/aws/lambda/${namePattern(spec.name)}`), keyArn, spec.condition);
  const permissions = spec.permissions(spec.inVpc ? addVpcPermissions(basePermissions(logGroupId)) : basePermissions(logGroupId));
  const roleId = t.serviceRole(
    `${spec.id}Role`,
    {
      service: 'lambda.amazonaws.com',
      Description: `tap ${spec.description}`,
      Policies: [{ PolicyName: `${spec.id.toLowerCase()}-least-privilege`, PolicyDocument: permissions.document() }],
    },
    {
      condition: spec.condition,
      ...(Object.keys(permissions.wildcardReasons).length > 0 ? { metadata: { [WILDCARD_REASONS_KEY]: permissions.wildcardReasons } } : {}),
    },
  );
  return t.resource(
    `${spec.id}Function`,
    'AWS::Lambda::Function',
    {
      FunctionName: resourceName(spec.name),
      Description: `tap ${spec.description}`,
      PackageType: 'Image',
      Code: { ImageUri: ref('ImageUri') },
      ImageConfig: { Command: [spec.command] },
      Architectures: [ARCHITECTURE],
      MemorySize: typeof spec.memory === 'number' ? spec.memory : ref(spec.memory),
      Timeout: spec.timeout,
      Role: getAtt(roleId, 'Arn'),
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: spec.environment },
      ...(spec.reservedConcurrency !== undefined ? { ReservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      ...(spec.inVpc
        ? { VpcConfig: { SubnetIds: privateSubnets.map(importValue), SecurityGroupIds: [importValue(Exports.network.lambdaSecurityGroupId)] } }
        : {}),
    },
    {
      // Lambda writes to /aws/lambda/<function name>; the group must exist first
      // (with its retention and key) or Lambda would create one without either.
      dependsOn: [logGroupId],
      condition: spec.condition,
    },
  );
}

function build(): TemplateBuilder {
  const t = new TemplateBuilder('ComputeStack', 'tap compute: transaction validator, schema-migration, deployment-gate and cross-region prerequisites functions from one image.');
  t.parametersFrom({
    ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter', 'LogRetentionDays', 'PrimaryRegion', 'SecondaryRegion'),
    ...ComputeParameters,
  });
  t.condition(IS_PRIMARY_REGION_CONDITION, IS_PRIMARY_REGION);

  const key = kmsKey(t, 'ComputeKey', { description: 'tap compute: encrypts the function log groups', alias: 'tap-compute', services: [logsKeyService()] });

  const validator = lambdaFunction(
    t,
    {
      id: 'Validator',
      name: Names.validatorFunction,
      description: 'transaction validator (POST /transactions, GET /health)',
      command: HANDLERS.validator,
      memory: 'ValidatorMemorySize',
      timeout: ref('ValidatorTimeoutSeconds'),
      inVpc: true,
      reservedConcurrency: ref('ValidatorReservedConcurrency'),
      environment: {
        ...databaseEnvironment(),
        [LambdaEnv.sessionTableName]: resourceName(Names.sessionTable),
        [LambdaEnv.auditBucketName]: sub(globalNamePattern(Names.auditBucket)),
        [LambdaEnv.maxAmount]: ref('MaxTransactionAmount'),
        [LambdaEnv.clockSkewSeconds]: ref('ClockSkewSeconds'),
      },
      permissions: (p) =>
        addDatabaseSettingsPermissions(p)
          // GetItem (first decision, health probe) and a conditional PutItem: lambda/tap/idempotency.py.
          .allow('SessionItems', ['dynamodb:GetItem', 'dynamodb:PutItem'], [DerivedArns.sessionTable, DerivedArns.sessionTableReplica])
          // The session table's replicas are encrypted with StorageStack's session key in each region.
          .allow('DecryptSessionItems', ['kms:Decrypt'], [DerivedArns.accountKeys], { ...viaService('dynamodb'), ...keyAliased(Names.sessionKeyAlias) })
          .allow('WriteAuditRecords', ['s3:PutObject'], [DerivedArns.auditObjects])
          // The audit bucket's default encryption is StorageStack's customer-managed key: S3 asks
          // KMS for a data key with the writer's permissions (the bucket key, or per object).
          .allow('EncryptAuditRecords', ['kms:GenerateDataKey'], [DerivedArns.accountKeys], {
            ...viaService('s3'),
            ...keyAliased(Names.auditKeyAlias),
            ArnLike: { 'kms:EncryptionContext:aws:s3:arn': [DerivedArns.auditBucket, DerivedArns.auditObjects] },
          }),
    },
    key.arn,
  );

  const migration = lambdaFunction(
    t,
    {
      id: 'Migration',
      name: Names.migrationFunction,
      description: 'schema-migration custom resource',
      command: HANDLERS.migration,
      memory: 'MigrationMemorySize',
      timeout: MIGRATION_TIMEOUT_SECONDS,
      inVpc: true,
      environment: databaseEnvironment(),
      permissions: (p) => addDatabaseSettingsPermissions(p),
    },
    key.arn,
  );

  const gate = lambdaFunction(
    t,
    {
      id: 'Gate',
      name: Names.gateFunction,
      description: 'deployment gate custom resource (alarm bake)',
      command: HANDLERS.gate,
      memory: 'GateMemorySize',
      timeout: GATE_TIMEOUT_SECONDS,
      inVpc: false,
      environment: { [LambdaEnv.environmentSuffix]: ref(SUFFIX), [LambdaEnv.logLevel]: ref('LogLevel') },
      permissions: (p) =>
        p
          // DescribeAlarms supports resource-level permissions on alarm ARNs
          // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
          // This region's gated alarms and, so that a bad release rolls back in both regions,
          // the other region's deployment-health alarm (README.md, "How a bad deployment is rolled back").
          .allowOnAnyResource('ReadDeploymentAlarms', ['cloudwatch:DescribeAlarms'], WILDCARD_REASONS.CompositeAlarmReads, {
            StringEquals: { 'aws:RequestedRegion': [ref('PrimaryRegion'), ref('SecondaryRegion')] },
          })
          .allow('ReadDeploymentStackStatus', ['cloudformation:DescribeStacks'], [DerivedArns.deploymentStacks]),
    },
    key.arn,
  );

  // Primary region only: the handler of the root's wait for the secondary region's
  // replication targets (lambda/tap/prerequisites.py). Outside the VPC, like the gate:
  // it calls S3 and KMS in the other region, which the private VPC cannot reach.
  const prerequisites = lambdaFunction(
    t,
    {
      id: 'Prerequisites',
      name: Names.prerequisitesFunction,
      description: 'cross-region prerequisites custom resource (waits for the secondary region\'s replica bucket and keys)',
      command: HANDLERS.prerequisites,
      memory: PREREQUISITES_MEMORY_MB,
      timeout: PREREQUISITES_TIMEOUT_SECONDS,
      inVpc: false,
      condition: IS_PRIMARY_REGION_CONDITION,
      environment: { [LambdaEnv.environmentSuffix]: ref(SUFFIX), [LambdaEnv.logLevel]: ref('LogLevel') },
      permissions: (p) =>
        p
          .allow('ReadReplicaBucketVersioning', ['s3:GetBucketVersioning'], [DerivedArns.auditReplicaBucket])
          // DescribeKey by alias: the key ARN is what IAM evaluates, the alias in the request narrows it
          // (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-request-alias).
          .allow('DescribeReplicaKeys', ['kms:DescribeKey'], [DerivedArns.secondaryRegionKeys], {
            'ForAnyValue:StringEquals': { 'kms:RequestAlias': [sub(keyAliasPattern(Names.auditKeyAlias)), sub(keyAliasPattern(Names.sessionKeyAlias))] },
          }),
    },
    key.arn,
  );

  t.resource(
    'ValidatorInvokePermission',
    'AWS::Lambda::Permission',
    {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAtt(validator, 'Arn'),
      Principal: 'apigateway.amazonaws.com',
      // Only this environment's API (ApiStack) may invoke the validator.
      SourceArn: sub('arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/*', { ApiId: importValue(Exports.api.httpApiId) }),
    },
  );

  const e = Exports.compute;
  const fnOutputs: Array<[string, string, string, string]> = [
    [validator, 'transaction validator', e.validatorFunctionArn, e.validatorFunctionName],
    [migration, 'schema-migration custom resource handler (ServiceToken of the migration)', e.migrationFunctionArn, e.migrationFunctionName],
    [gate, 'deployment gate custom resource handler (ServiceToken of the gate)', e.gateFunctionArn, e.gateFunctionName],
  ];
  for (const [id, what, arnKey, nameKey] of fnOutputs) {
    t.export(arnKey, getAtt(id, 'Arn'), { description: `ARN of the ${what}` });
    t.export(nameKey, ref(id), { description: `Name of the ${what}` });
  }
  t.export(e.prerequisitesFunctionArn, getAtt(prerequisites, 'Arn'), {
    description: 'ARN of the cross-region prerequisites custom resource handler (primary region only)',
    condition: IS_PRIMARY_REGION_CONDITION,
  });
  return t;
}

export const ComputeStack: NestedStackDefinition = { templateName: 'ComputeStack', build };
