/**
 * The one source of truth for names: resource names, export names, SSM paths and
 * the derivable names that let a stack find what another stack owns without a
 * deploy-time reference (ComputeStack never references DatabaseStack).
 *
 * Convention (requirements, "Deployment Requirements"): `<purpose>-${EnvironmentSuffix}`.
 */
import { Fn, IntrinsicFunction, sub } from './intrinsics';

export const PROJECT = 'tap';
export const SUFFIX = 'EnvironmentSuffix';

/** `<purpose>-${EnvironmentSuffix}` as Fn::Sub. */
export const resourceName = (purpose: string): IntrinsicFunction => sub(namePattern(purpose));

/** The Fn::Sub pattern behind {@link resourceName}, for use inside larger Sub strings. */
export const namePattern = (purpose: string): string => `${purpose}-\${${SUFFIX}}`;

/**
 * Globally unique names (S3 buckets): suffix, account and region, because both
 * regions deploy the same template and bucket names are global.
 */
export const globalNamePattern = (purpose: string): string =>
  `${purpose}-\${${SUFFIX}}-\${AWS::AccountId}-\${AWS::Region}`;

/** Names of things other stacks (or the Lambda code) find by derivation. */
export const Names = {
  auroraCluster: 'aurora-cluster',
  dbSecret: 'aurora-credentials',
  sessionTable: 'sessions',
  auditBucket: 'audit-logs',
  validatorFunction: 'transaction-validator',
  migrationFunction: 'schema-migrator',
  gateFunction: 'deployment-gate',
  httpApi: 'transactions-api',
  alarmTopic: 'tap-alarms',
  deploymentHealthAlarm: 'deployment-health',
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
    lambdaSecurityGroupId: 'LambdaSecurityGroupId',
    databaseSecurityGroupId: 'DatabaseSecurityGroupId',
    endpointSecurityGroupId: 'EndpointSecurityGroupId',
  },
  storage: {
    auditBucketName: 'AuditBucketName',
    auditBucketArn: 'AuditBucketArn',
  },
  database: {
    writerEndpoint: 'DbWriterEndpoint',
    readerEndpoint: 'DbReaderEndpoint',
    clusterIdentifier: 'DbClusterIdentifier',
    clusterArn: 'DbClusterArn',
    secretArn: 'DbSecretArn',
    sessionTableName: 'SessionTableName',
    sessionTableArn: 'SessionTableArn',
    kmsKeyArn: 'DatabaseKmsKeyArn',
  },
  compute: {
    validatorFunctionArn: 'ValidatorFunctionArn',
    validatorFunctionName: 'ValidatorFunctionName',
    migrationFunctionArn: 'MigrationFunctionArn',
    migrationFunctionName: 'MigrationFunctionName',
    gateFunctionArn: 'GateFunctionArn',
    gateFunctionName: 'GateFunctionName',
    httpApiId: 'HttpApiId',
    httpApiEndpoint: 'HttpApiEndpoint',
  },
  monitoring: {
    alarmTopicArn: 'AlarmTopicArn',
    deploymentHealthAlarmName: 'DeploymentHealthAlarmName',
    deploymentHealthAlarmArn: 'DeploymentHealthAlarmArn',
  },
} as const;

/** The Fn::Sub pattern of an export name. */
export const exportNamePattern = (key: string): string => `${PROJECT}-\${${SUFFIX}}-${key}`;

/** `Export: { Name: ... }` value for an output. */
export const exportName = (key: string): IntrinsicFunction => sub(exportNamePattern(key));

/** `Fn::ImportValue` of another stack's export. */
export const importValue = (key: string): IntrinsicFunction => Fn.ImportValue(exportName(key));
