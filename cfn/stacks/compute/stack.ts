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
import { TemplateBuilder, NestedStackDefinition } from '../../lib/template';
import { IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION, shared } from '../../lib/sharedParameters';
import { getAtt, ref, sub, Value, importValue, resourceName } from '../../lib/intrinsics';
import { DATABASE_NAME, Exports, LambdaEnv, Names, SUFFIX, keyAliasPattern, SsmPaths, globalNamePattern } from '../../contract/names';
import { kmsKey, logsKeyService } from '../../lib/patterns';
import { Permissions } from '../../lib/iam';
import { ComputeParameters, GATE_TIMEOUT_SECONDS, HANDLERS, MIGRATION_TIMEOUT_SECONDS, PREREQUISITES_MEMORY_MB, PREREQUISITES_TIMEOUT_SECONDS } from './parameters';
import { DerivedArns, keyAliased, viaService } from './arns';
import { WILDCARD_REASONS, lambdaFunction } from './function';

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
          // Its own stack's status (a rollback?) and its own start; the other region's stack
          // instance and gate, so that the gate that started first waits for the other's verdict.
          .allow(
            'ReadDeploymentStacks',
            ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'],
            [DerivedArns.deploymentStacks, DerivedArns.peerDeploymentStacks],
          )
          .allowOnAnyResource('FindPeerStackInstance', ['cloudformation:ListStacks'], WILDCARD_REASONS.StackInstanceLookup, {
            StringEquals: { 'aws:RequestedRegion': [ref('PrimaryRegion'), ref('SecondaryRegion')] },
          }),
    },
    key.arn,
  );

  // Primary region only: the handler of the root's wait for the secondary region's
  // replication targets (lambda/tap/prerequisites_wait.py). Outside the VPC, like the gate:
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
