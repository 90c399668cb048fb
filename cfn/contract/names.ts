/**
 * The one source of truth for names: resource names, export names, SSM paths,
 * the derivable names that let a stack find what another stack owns without a
 * deploy-time reference (ComputeStack never references DatabaseStack), and the
 * physical names of what the Pulumi program creates.
 *
 * Plain strings and string patterns only, with no import: the Pulumi program and
 * its runtime dependencies load this file, so it must not pull in the generators'
 * libraries (the intrinsics that wrap these patterns are in cfn/lib/intrinsics.ts).
 *
 * Convention (requirements, "Deployment Requirements"): `<purpose>-${EnvironmentSuffix}`.
 */

export const PROJECT = 'tap';
export const SUFFIX = 'EnvironmentSuffix';

/** `<purpose>-${EnvironmentSuffix}`: the Fn::Sub pattern of a resource name (resourceName() in cfn/lib/intrinsics.ts wraps it). */
export const namePattern = (purpose: string): string => `${purpose}-\${${SUFFIX}}`;

/**
 * Globally unique names (S3 buckets): suffix, account and region, because both
 * regions deploy the same template and bucket names are global.
 */
export const globalNamePattern = (purpose: string): string =>
  `${purpose}-\${${SUFFIX}}-\${AWS::AccountId}-\${AWS::Region}`;

/** `arn:${AWS::Partition}:<service>:<region>:${AWS::AccountId}:<resource>` (Fn::Sub pattern). */
export const arnPattern = (service: string, resource: string, region = '${AWS::Region}'): string =>
  `arn:\${AWS::Partition}:${service}:${region}:\${AWS::AccountId}:${resource}`;
/** `alias/<purpose>-${EnvironmentSuffix}`: the KMS alias kmsKey() gives a key. */
export const keyAliasPattern = (purpose: string): string => `alias/${namePattern(purpose)}`;
/** ARN pattern of a global bucket ({@link globalNamePattern}) in `region` (a Sub variable such as AWS::Region or SecondaryRegion). */
export const bucketArnPattern = (purpose: string, region = 'AWS::Region'): string =>
  `arn:\${AWS::Partition}:s3:::${globalNamePattern(purpose).replace('${AWS::Region}', `\${${region}}`)}`;

/** Names of things other stacks (or the Lambda code) find by derivation. */
export const Names = {
  auroraCluster: 'aurora-cluster',
  dbSecret: 'aurora-credentials',
  sessionTable: 'sessions',
  auditBucket: 'audit-logs',
  /** S3 server access logs of the audit bucket (SSE-S3: log delivery cannot write to SSE-KMS buckets). */
  auditAccessLogsBucket: 'audit-access-logs',
  /**
   * KMS alias `alias/tap-audit-logs-<suffix>` of the audit bucket's key in each
   * region: the primary's replication names the secondary's key by this alias
   * ARN, and writers can scope kms:GenerateDataKey to it (kms:ResourceAliases).
   */
  auditKeyAlias: 'tap-audit-logs',
  /**
   * KMS alias `alias/tap-database-<suffix>` of DatabaseStack's key in each region
   * (Aurora storage, the credentials secret, the cluster logs): readers scope
   * kms:Decrypt to it (kms:ResourceAliases).
   */
  databaseKeyAlias: 'tap-database',
  /**
   * KMS alias `alias/tap-sessions-<suffix>` of StorageStack's session-table key in
   * each region: the primary's global table encrypts the secondary's replica with
   * the key behind this alias there, and the validator scopes kms:Decrypt to it.
   */
  sessionKeyAlias: 'tap-sessions',
  validatorFunction: 'transaction-validator',
  migrationFunction: 'schema-migrator',
  gateFunction: 'deployment-gate',
  /** The primary's custom resource handler that waits for the secondary region's replication targets. */
  prerequisitesFunction: 'region-prerequisites',
  httpApi: 'transactions-api',
  alarmTopic: 'tap-alarms',
  deploymentHealthAlarm: 'deployment-health',
  /**
   * The StackSet is named `tap-<suffix>`, so its stack instances (and the root's
   * nested stacks) are named `StackSet-tap-<suffix>-<uuid>...`: the gate's
   * cloudformation:DescribeStacks is scoped to that prefix.
   */
  stackSet: 'tap',
  /**
   * Bucket of each region's nested templates, `tap-templates-<suffix>-<account>-<region>`
   * ({@link globalNamePattern}): the Pulumi program uploads into it and the root
   * builds each TemplateURL from it, so no region's URL is ever a parameter.
   */
  templateBucket: 'tap-templates',
} as const;

/**
 * Environment variables ComputeStack sets on the functions. The Python side names
 * the same variables in lambda/tap/env.py (COMPUTE_STACK_VARIABLES); a test keeps
 * the two lists equal. Values are names (SSM parameter names, table and bucket
 * names), never an endpoint or a secret.
 */
export const LambdaEnv = {
  environmentSuffix: 'TAP_ENVIRONMENT_SUFFIX',
  dbWriterEndpointParam: 'DB_WRITER_ENDPOINT_PARAM',
  dbReaderEndpointParam: 'DB_READER_ENDPOINT_PARAM',
  dbPortParam: 'DB_PORT_PARAM',
  dbSecretArnParam: 'DB_SECRET_ARN_PARAM',
  dbName: 'DB_NAME',
  sessionTableName: 'SESSION_TABLE_NAME',
  auditBucketName: 'AUDIT_BUCKET_NAME',
  maxAmount: 'MAX_AMOUNT',
  clockSkewSeconds: 'CLOCK_SKEW_SECONDS',
  configTtlSeconds: 'CONFIG_TTL_SECONDS',
  logLevel: 'LOG_LEVEL',
} as const;

/** SSM parameters the database stack writes and the functions read at run time. */
export const SsmPaths = {
  dbPrefix: `/${PROJECT}/\${${SUFFIX}}/db/`,
  writerEndpoint: `/${PROJECT}/\${${SUFFIX}}/db/writer-endpoint`,
  readerEndpoint: `/${PROJECT}/\${${SUFFIX}}/db/reader-endpoint`,
  port: `/${PROJECT}/\${${SUFFIX}}/db/port`,
  secretArn: `/${PROJECT}/\${${SUFFIX}}/db/secret-arn`,
} as const;

/** Name of the application schema inside Aurora. */
export const DATABASE_NAME = 'tap';

/**
 * Every cross-stack value, by exporting stack. Export names are
 * `tap-${EnvironmentSuffix}-<Key>`, so two environments never collide.
 */
export const Exports = {
  network: {
    vpcId: 'VpcId',
    vpcCidr: 'VpcCidr',
    privateSubnet1Id: 'PrivateSubnet1Id',
    privateSubnet2Id: 'PrivateSubnet2Id',
    privateSubnet3Id: 'PrivateSubnet3Id',
    privateSubnetIds: 'PrivateSubnetIds',
    privateRouteTableId: 'PrivateRouteTableId',
    lambdaSecurityGroupId: 'LambdaSecurityGroupId',
    databaseSecurityGroupId: 'DatabaseSecurityGroupId',
  },
  endpoints: {
    endpointSecurityGroupId: 'EndpointSecurityGroupId',
  },
  storage: {
    auditBucketName: 'AuditBucketName',
    auditBucketArn: 'AuditBucketArn',
    auditKeyArn: 'AuditKeyArn',
    sessionTableName: 'SessionTableName',
    sessionTableArn: 'SessionTableArn',
    sessionKeyArn: 'SessionKeyArn',
  },
  database: {
    writerEndpoint: 'DbWriterEndpoint',
    readerEndpoint: 'DbReaderEndpoint',
    clusterIdentifier: 'DbClusterIdentifier',
    clusterArn: 'DbClusterArn',
    secretArn: 'DbSecretArn',
    kmsKeyArn: 'DatabaseKmsKeyArn',
  },
  api: {
    httpApiId: 'HttpApiId',
    httpApiEndpoint: 'HttpApiEndpoint',
  },
  compute: {
    validatorFunctionArn: 'ValidatorFunctionArn',
    validatorFunctionName: 'ValidatorFunctionName',
    migrationFunctionArn: 'MigrationFunctionArn',
    migrationFunctionName: 'MigrationFunctionName',
    gateFunctionArn: 'GateFunctionArn',
    gateFunctionName: 'GateFunctionName',
    prerequisitesFunctionArn: 'PrerequisitesFunctionArn',
  },
  monitoring: {
    alarmTopicArn: 'AlarmTopicArn',
    deploymentHealthAlarmName: 'DeploymentHealthAlarmName',
    deploymentHealthAlarmArn: 'DeploymentHealthAlarmArn',
    auroraConnectionsAlarmName: 'AuroraConnectionsAlarmName',
    auroraConnectionsAlarmArn: 'AuroraConnectionsAlarmArn',
    auroraCpuAlarmName: 'AuroraCpuAlarmName',
    auroraCpuAlarmArn: 'AuroraCpuAlarmArn',
    auroraFreeableMemoryAlarmName: 'AuroraFreeableMemoryAlarmName',
    auroraFreeableMemoryAlarmArn: 'AuroraFreeableMemoryAlarmArn',
    validatorErrorRateAlarmName: 'ValidatorErrorRateAlarmName',
    validatorErrorRateAlarmArn: 'ValidatorErrorRateAlarmArn',
    validatorThrottlesAlarmName: 'ValidatorThrottlesAlarmName',
    validatorThrottlesAlarmArn: 'ValidatorThrottlesAlarmArn',
    validatorDurationAlarmName: 'ValidatorDurationAlarmName',
    validatorDurationAlarmArn: 'ValidatorDurationAlarmArn',
    api5xxRateAlarmName: 'Api5xxRateAlarmName',
    api5xxRateAlarmArn: 'Api5xxRateAlarmArn',
    sessionTableThrottlesAlarmName: 'SessionTableThrottlesAlarmName',
    sessionTableThrottlesAlarmArn: 'SessionTableThrottlesAlarmArn',
  },
} as const;

/** The Fn::Sub pattern of an export name. */
export const exportNamePattern = (key: string): string => `${PROJECT}-\${${SUFFIX}}-${key}`;


/**
 * IAM path of every role the templates create: `/tap/<suffix>/`. CloudFormation
 * generates the role names (CAPABILITY_IAM, no named IAM), so nothing about a name
 * is known before deployment; the path is, and it lets the StackSet execution role
 * manage these roles only (components/executionPolicy.ts)
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-friendly-names).
 */
export const iamRolePath = (suffix: string): string => `/${PROJECT}/${suffix}/`;
/** {@link iamRolePath} inside a template. */
export const IAM_ROLE_PATH_PATTERN = iamRolePath(`\${${SUFFIX}}`);

/**
 * Purposes of the alarms that fail a deployment: MonitoringStack's composite
 * `deployment-health-<suffix>`, then its members. The root hands their names to the
 * deployment gate (output `GatedAlarmNames`); MonitoringStack builds the composite's
 * rule from the members listed here.
 */
export const GATED_ALARM_PURPOSES = [
  Names.deploymentHealthAlarm,
  'aurora-connections',
  'validator-error-rate',
  'validator-throttles',
  'api-5xx-rate',
  'sessions-throttles',
] as const;

/** MonitoringStack output (not exported) with the comma-joined names of {@link GATED_ALARM_PURPOSES}. */
export const GATED_ALARM_NAMES_OUTPUT = 'GatedAlarmNames';

// --- What the Pulumi program creates (its components and the execution role's policy agree on these).

/** ECR repository of the functions' image. */
export const repositoryName = (suffix: string): string => `${PROJECT}-lambda-${suffix}`;

/**
 * Template artifacts bucket, `tap-templates-<suffix>-<account>-<region>`: bucket names are
 * global and both regions deploy one. The root template derives the same name
 * (TEMPLATE_BUCKET_PATTERN in cfn/contract/layout.ts) for every nested TemplateURL.
 */
export const templateBucketName = (suffix: string, accountId: string, region: string): string => `${Names.templateBucket}-${suffix}-${accountId}-${region}`;

/**
 * The StackSet: `tap-<suffix>`, after Names.stackSet, the prefix the templates
 * scope to. Its stack instances are named `StackSet-tap-<suffix>-<uuid>`.
 */
export const stackSetName = (suffix: string): string => `${Names.stackSet}-${suffix}`;

export const administrationRoleName = (suffix: string): string => `${PROJECT}-stackset-admin-${suffix}`;
export const executionRoleName = (suffix: string): string => `${PROJECT}-stackset-execution-${suffix}`;
