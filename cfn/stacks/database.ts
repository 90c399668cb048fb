/**
 * DatabaseStack: the transaction database (Aurora MySQL, Multi-AZ), built so
 * that nothing in ComputeStack waits for or references it at deploy time: the
 * functions read endpoints, port and the secret's ARN from SSM parameters whose
 * names derive from the suffix alone (SsmPaths in cfn/contract/names.ts).
 *
 * It is the critical path of a first deployment, so it holds only what the
 * cluster uses (its key, secret, subnet group, parameter groups, log groups,
 * monitoring role) and the instances and endpoint parameters that follow it;
 * it waits for NetworkStack's subnets and security group alone. The writer and
 * the readers are created in parallel (docs/database.md, "Writer and readers").
 *
 * Operators' notes in docs/database.md.
 */
import { TemplateBuilder, NestedStackDefinition } from '../lib/template';
import { ParameterDef, shared } from '../lib/sharedParameters';
import { az, cond, equals, Fn, getAtt, iff, Intrinsic, noValue, not, or, ref, sub, importValue, resourceName } from '../lib/intrinsics';
import { DATABASE_NAME, Exports, arnPattern, Names, namePattern, SsmPaths } from '../contract/names';
import { encryptedLogGroup, kmsKey, logsKeyService } from '../lib/patterns';
import { assertWindowsDisjoint } from '../lib/windows';

/**
 * Aurora MySQL 3 releases offered to operators: the newest patch of each recent
 * minor release that the pinned cfn-lint's RDS data lists as current (not
 * deprecated); a test compares the list with that data. Newest last; it is the default.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraMySQLReleaseNotes/AuroraMySQL.release-calendars.html
 */
export const ENGINE_VERSIONS = [
  '8.0.mysql_aurora.3.08.2',
  '8.0.mysql_aurora.3.09.0',
  '8.0.mysql_aurora.3.10.4',
  '8.0.mysql_aurora.3.11.1',
  '8.0.mysql_aurora.3.12.0',
] as const;
export const ENGINE = 'aurora-mysql';
/** Parameter-group family of every Aurora MySQL 3 release. */
export const PARAMETER_GROUP_FAMILY = 'aurora-mysql8.0';
export const MYSQL_PORT = 3306;

export interface InstanceClassFacts {
  /**
   * Default max_connections of Aurora MySQL for the class
   * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Performance.html#AuroraMySQL.Managing.MaxConnections).
   */
  readonly maxConnections: number;
  /**
   * Performance Insights (Database Insights) runs on the class. Aurora MySQL
   * supports neither db.t2 nor db.t3, nor db.t4g.micro/small
   * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DatabaseInsights.Engines.html);
   * enabling it there fails the deployment.
   */
  readonly performanceInsights: boolean;
}

/** Instance classes offered to operators; T classes are for development only. */
export const INSTANCE_CLASSES: Readonly<Record<string, InstanceClassFacts>> = {
  'db.t3.medium': { maxConnections: 90, performanceInsights: false },
  'db.t4g.medium': { maxConnections: 90, performanceInsights: true },
  'db.r6g.large': { maxConnections: 1000, performanceInsights: true },
  'db.r6g.xlarge': { maxConnections: 2000, performanceInsights: true },
  'db.r7g.large': { maxConnections: 1000, performanceInsights: true },
  'db.r7g.xlarge': { maxConnections: 2000, performanceInsights: true },
};
export const DEFAULT_INSTANCE_CLASS = 'db.r6g.large';

/** Readers beside the writer; prod always keeps the first one (condition CreateReader1). */
export const MAX_READERS = 2;

/**
 * UTC windows. Backups run daily at the quietest hour of both regions; weekly
 * maintenance starts after the backup has ended. RDS rejects overlapping windows
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.Maintenance.html#AdjustingTheMaintenanceWindow.Aurora).
 */
export const BACKUP_WINDOW = '03:00-04:00';
export const MAINTENANCE_WINDOW = 'sun:04:30-sun:05:30';
export const BACKUP_RETENTION_DAYS = 30;
/**
 * Backtracking rewinds the cluster in place, for example after a bad migration,
 * without a restore (Control Tower CT.RDS.PR.6). 24 hours of change records.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Backtrack.html
 */
export const BACKTRACK_WINDOW_SECONDS = 24 * 60 * 60;
/** Enhanced monitoring granularity in seconds (OS metrics to CloudWatch Logs group RDSOSMetrics). */
export const MONITORING_INTERVAL_SECONDS = 60;
/** The free Performance Insights retention tier, in days. */
export const PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;

/**
 * Logs the cluster exports to CloudWatch. Not the general query
 * log: it records every statement with its literal values, that is payment data,
 * in clear text in CloudWatch Logs.
 */
export const LOG_EXPORTS = ['audit', 'error', 'slowquery'] as const;

export const MASTER_USERNAME = 'tapadmin';
export const PASSWORD_LENGTH = 40;
/**
 * Characters the generated password never contains: quotes, backslash, slash and
 * `@` (RDS refuses `/`, `"`, `@` and spaces in a master password), and every
 * character with a meaning in URLs, DSNs, shells or option files (`:` `;` `?` `#`
 * `%` `&` `=` `+` `,` `$` brackets, backtick, `!` `*` `|` `~` `^` `<` `>`).
 * What remains: letters, digits, `-` `_` `.`; 40 of them carry ~238 bits.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Modifying.html#Aurora.Modifying.Password
 */
export const PASSWORD_EXCLUDED_CHARACTERS = '"\'@/\\`:;?#%&=+,$!*|~^<>()[]{} ';

/** Cluster parameters (the cluster parameter group). */
export const CLUSTER_PARAMETERS: Readonly<Record<string, string>> = {
  // TLS only (Control Tower CT.RDS.PR.27); clients connect with the RDS CA bundle.
  require_secure_transport: 'ON',
  // The audit log export is empty unless the server audit plugin logs; connections
  // and privilege or schema changes, not DML (which would copy payment data).
  server_audit_logging: '1',
  server_audit_events: 'CONNECT,QUERY_DCL,QUERY_DDL',
};

/** Instance parameters (the DB parameter group): the slowquery export is empty unless the slow log is on. */
export const INSTANCE_PARAMETERS: Readonly<Record<string, string>> = {
  slow_query_log: '1',
  long_query_time: '1',
  log_output: 'FILE',
};

export const DatabaseParameters = {
  DbEngineVersion: {
    Type: 'String',
    Description: 'Aurora MySQL 3 engine version.',
    AllowedValues: [...ENGINE_VERSIONS],
    Default: ENGINE_VERSIONS[ENGINE_VERSIONS.length - 1],
    ConstraintDescription: `Must be one of ${ENGINE_VERSIONS.join(', ')}.`,
  },
  DbInstanceClass: {
    Type: 'String',
    Description: 'Instance class of the writer and the readers (T classes: development only, no Performance Insights on db.t3).',
    AllowedValues: Object.keys(INSTANCE_CLASSES),
    Default: DEFAULT_INSTANCE_CLASS,
    ConstraintDescription: `Must be one of ${Object.keys(INSTANCE_CLASSES).join(', ')}.`,
  },
  DbReaderCount: {
    Type: 'Number',
    Description: `Aurora readers beside the writer, each in another AZ (prod keeps at least 1).`,
    AllowedValues: Array.from({ length: MAX_READERS + 1 }, (_, i) => i),
    Default: 1,
    ConstraintDescription: `Must be a whole number from 0 to ${MAX_READERS}.`,
  },
  // A name, not an ARN: one StackSet-level value serves both regions, and each region's
  // secret must be rotated by a function in its own region (deployed there under this name).
  RotationFunctionName: {
    Type: 'String',
    Description: 'Name of the Secrets Manager rotation function for the database credentials, deployed under this name in each region; empty: no rotation.',
    Default: '',
    AllowedPattern: '^$|^[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$',
    ConstraintDescription: 'Must be empty or a Lambda function name (optionally with :version or :alias), not an ARN.',
  },
} as const satisfies Record<string, ParameterDef>;

export const Conditions = {
  isProduction: 'IsProduction',
  createReader1: 'CreateReader1',
  createReader2: 'CreateReader2',
  enablePerformanceInsights: 'EnablePerformanceInsights',
  enableSecretRotation: 'EnableSecretRotation',
} as const;

const INSTANCE_CLASS_MAPPING = 'InstanceClassFeatures';

/** Logical IDs other code and the tests refer to. */
export const Ids = {
  key: 'DatabaseKey',
  secret: 'DatabaseSecret',
  secretAttachment: 'DatabaseSecretAttachment',
  rotation: 'DatabaseSecretRotation',
  cluster: 'AuroraCluster',
  writer: 'AuroraWriter',
  readers: ['AuroraReader1', 'AuroraReader2'],
} as const;

/** `/aws/rds/cluster/<cluster id>/<log type>`: where RDS exports a log type. */
const clusterLogGroupPattern = (logType: string): string => `/aws/rds/cluster/${namePattern(Names.auroraCluster)}/${logType}`;

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function build(): TemplateBuilder {
  assertWindowsDisjoint(BACKUP_WINDOW, MAINTENANCE_WINDOW);
  const t = new TemplateBuilder(
    'DatabaseStack',
    'tap database: Aurora MySQL (Multi-AZ) with Secrets Manager credentials and SSM endpoints.',
  );
  t.parametersFrom({
    ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter', 'LogRetentionDays'),
    ...DatabaseParameters,
  });

  t.mapping(
    INSTANCE_CLASS_MAPPING,
    Object.fromEntries(Object.entries(INSTANCE_CLASSES).map(([c, f]) => [c, { PerformanceInsights: String(f.performanceInsights) }])),
  );
  t.condition(Conditions.isProduction, equals(ref('EnvironmentType'), 'prod'));
  t.condition(Conditions.createReader1, or(cond(Conditions.isProduction), not(equals(ref('DbReaderCount'), '0'))));
  t.condition(Conditions.createReader2, equals(ref('DbReaderCount'), '2'));
  t.condition(
    Conditions.enablePerformanceInsights,
    equals(Fn.FindInMap(INSTANCE_CLASS_MAPPING, ref('DbInstanceClass'), 'PerformanceInsights'), 'true'),
  );
  t.condition(Conditions.enableSecretRotation, not(equals(ref('RotationFunctionName'), '')));

  // One key for the cluster's storage, Performance Insights, the secret and the
  // exported logs. RDS and Secrets Manager use it on behalf
  // of the calling IAM principal (grants, kms:ViaService), which the account
  // statement delegates to IAM policies; only CloudWatch Logs acts as itself, and
  // only for this cluster's log groups.
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.Keys.html
  const key = kmsKey(t, Ids.key, {
    description: 'tap database: encrypts Aurora storage, Performance Insights, the credentials secret and the cluster logs',
    alias: Names.databaseKeyAlias,
    services: [
      logsKeyService(`/aws/rds/cluster/${namePattern(Names.auroraCluster)}/*`),
    ],
  });

  // --- Credentials: generated by Secrets Manager, never a parameter.
  t.resource(
    Ids.secret,
    'AWS::SecretsManager::Secret',
    {
      Name: resourceName(Names.dbSecret),
      Description: 'tap Aurora master credentials (username, password; host, port and engine added by the target attachment)',
      KmsKeyId: key.arn,
      GenerateSecretString: {
        SecretStringTemplate: JSON.stringify({ username: MASTER_USERNAME }),
        GenerateStringKey: 'password',
        PasswordLength: PASSWORD_LENGTH,
        ExcludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
      },
    },
    { deletionPolicy: 'Delete' },
  );

  // --- Network placement: the three private subnets and the database security group of NetworkStack.
  t.resource(
    'AuroraSubnetGroup',
    'AWS::RDS::DBSubnetGroup',
    {
      DBSubnetGroupDescription: 'tap Aurora: the three private subnets of NetworkStack',
      SubnetIds: [Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id].map(importValue),
    },
  );

  t.resource(
    'AuroraClusterParameterGroup',
    'AWS::RDS::DBClusterParameterGroup',
    {
      Description: 'tap Aurora cluster parameters: TLS required, server audit log on',
      Family: PARAMETER_GROUP_FAMILY,
      Parameters: { ...CLUSTER_PARAMETERS },
    },
  );
  t.resource(
    'AuroraInstanceParameterGroup',
    'AWS::RDS::DBParameterGroup',
    {
      Description: 'tap Aurora instance parameters: slow query log on',
      Family: PARAMETER_GROUP_FAMILY,
      Parameters: { ...INSTANCE_PARAMETERS },
    },
  );

  // RDS creates /aws/rds/cluster/<id>/<type> on first export, unencrypted and never
  // expiring, and nothing deletes it with the stack. Created here instead, they get
  // the stack's key and retention and go with the stack; the cluster waits for them
  // so RDS finds them (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html).
  const logGroups = LOG_EXPORTS.map((type) => encryptedLogGroup(t, `AuroraLogGroup${capitalize(type)}`, sub(clusterLogGroupPattern(type)), key.arn));

  // --- The cluster.
  t.resource(
    Ids.cluster,
    'AWS::RDS::DBCluster',
    {
      DBClusterIdentifier: resourceName(Names.auroraCluster),
      Engine: ENGINE,
      EngineVersion: ref('DbEngineVersion'),
      DatabaseName: DATABASE_NAME,
      Port: MYSQL_PORT,
      // Dynamic references: CloudFormation reads the generated values at deploy time;
      // they appear in no template, parameter or stack event.
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
      MasterUsername: sub(`{{resolve:secretsmanager:\${${Ids.secret}}:SecretString:username}}`),
      MasterUserPassword: sub(`{{resolve:secretsmanager:\${${Ids.secret}}:SecretString:password}}`),
      DBSubnetGroupName: ref('AuroraSubnetGroup'),
      VpcSecurityGroupIds: [importValue(Exports.network.databaseSecurityGroupId)],
      DBClusterParameterGroupName: ref('AuroraClusterParameterGroup'),
      StorageEncrypted: true,
      KmsKeyId: key.arn,
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: [...LOG_EXPORTS],
      BackupRetentionPeriod: BACKUP_RETENTION_DAYS,
      PreferredBackupWindow: BACKUP_WINDOW,
      PreferredMaintenanceWindow: MAINTENANCE_WINDOW,
      BacktrackWindow: BACKTRACK_WINDOW_SECONDS,
      CopyTagsToSnapshot: true,
      DeletionProtection: false,
    },
    {
      // Snapshot: deleting or replacing the cluster leaves a final (manual) snapshot.
      deletionPolicy: 'Snapshot',
      dependsOn: logGroups,
    },
  );

  // Enhanced monitoring (Control Tower CT.RDS.PR.2). No role name: no CAPABILITY_NAMED_IAM.
  t.serviceRole('AuroraMonitoringRole', {
    service: 'monitoring.rds.amazonaws.com',
    trustCondition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
    Description: 'tap Aurora enhanced monitoring: RDS publishes OS metrics to CloudWatch Logs',
    // AWS's managed policy for exactly this role: logs:* on the RDSOSMetrics log group only.
    // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.Enabling.html
    ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole')],
  });

  // Writer in the first AZ, readers in the second and third: Multi-AZ through
  // Aurora failover to a reader (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html).
  // No instance identifiers: replacing an instance (for example in another AZ) then needs no rename.
  const instance = (id: string, azIndex: number, promotionTier: number, condition?: string): void => {
    t.resource(
      id,
      'AWS::RDS::DBInstance',
      {
        DBClusterIdentifier: ref(Ids.cluster),
        Engine: ENGINE,
        DBInstanceClass: ref('DbInstanceClass'),
        AvailabilityZone: az(azIndex),
        PromotionTier: promotionTier,
        DBParameterGroupName: ref('AuroraInstanceParameterGroup'),
        PubliclyAccessible: false,
        AutoMinorVersionUpgrade: true,
        MonitoringInterval: MONITORING_INTERVAL_SECONDS,
        MonitoringRoleArn: getAtt('AuroraMonitoringRole', 'Arn'),
        EnablePerformanceInsights: iff(Conditions.enablePerformanceInsights, true, false),
        PerformanceInsightsKMSKeyId: iff(Conditions.enablePerformanceInsights, key.arn, noValue()),
        PerformanceInsightsRetentionPeriod: iff(Conditions.enablePerformanceInsights, PERFORMANCE_INSIGHTS_RETENTION_DAYS, noValue()),
      },
      {
        condition,
        // Delete, explicitly: RDS does not snapshot an Aurora cluster member (its
        // storage is the cluster's), so Snapshot here would be ignored; the cluster's
        // final snapshot holds the data. cfn-lint wants both policies once one is set.
        deletionPolicy: 'Delete',
      },
    );
  };
  instance(Ids.writer, 0, 0);
  instance(Ids.readers[0], 1, 1, Conditions.createReader1);
  instance(Ids.readers[1], 2, 2, Conditions.createReader2);

  // Adds host, port, engine and cluster identifier to the secret: what a rotation
  // function (and a client) needs besides username and password.
  t.resource(Ids.secretAttachment, 'AWS::SecretsManager::SecretTargetAttachment', { SecretId: ref(Ids.secret), TargetId: ref(Ids.cluster), TargetType: 'AWS::RDS::DBCluster' });
  t.resource(
    Ids.rotation,
    'AWS::SecretsManager::RotationSchedule',
    {
      // Ref of the attachment is the secret's ARN, and orders rotation after the attachment.
      SecretId: ref(Ids.secretAttachment),
      // This region's function of that name.
      RotationLambdaARN: sub(arnPattern('lambda', 'function:${RotationFunctionName}')),
      RotationRules: { AutomaticallyAfterDays: 30 },
    },
    { condition: Conditions.enableSecretRotation },
  );

  // --- Endpoints for run time, in SSM.
  const ssmParameter = (id: string, path: string, value: Intrinsic, description: string): void => {
    t.resource(id, 'AWS::SSM::Parameter', { Name: sub(path), Type: 'String', Value: value, Description: description });
  };
  ssmParameter('WriterEndpointParameter', SsmPaths.writerEndpoint, getAtt(Ids.cluster, 'Endpoint.Address'), 'tap Aurora writer (cluster) endpoint');
  ssmParameter('ReaderEndpointParameter', SsmPaths.readerEndpoint, getAtt(Ids.cluster, 'ReadEndpoint.Address'), 'tap Aurora reader endpoint (the writer while there is no reader)');
  ssmParameter('PortParameter', SsmPaths.port, getAtt(Ids.cluster, 'Endpoint.Port'), 'tap Aurora port');
  // Ref of the attachment: the ARN is published once the secret also holds host and port.
  ssmParameter('SecretArnParameter', SsmPaths.secretArn, ref(Ids.secretAttachment), 'ARN of the tap Aurora credentials secret');

  // --- Exports.
  const e = Exports.database;
  t.export(e.writerEndpoint, getAtt(Ids.cluster, 'Endpoint.Address'), { description: 'Aurora writer endpoint' });
  t.export(e.readerEndpoint, getAtt(Ids.cluster, 'ReadEndpoint.Address'), { description: 'Aurora reader endpoint' });
  t.export(e.clusterIdentifier, ref(Ids.cluster), { description: 'Aurora cluster identifier' });
  t.export(e.clusterArn, getAtt(Ids.cluster, 'DBClusterArn'), { description: 'Aurora cluster ARN' });
  t.export(e.secretArn, ref(Ids.secret), { description: 'ARN of the Aurora credentials secret' });
  t.export(e.kmsKeyArn, key.arn, { description: 'ARN of the database KMS key' });
  return t;
}

export const DatabaseStack: NestedStackDefinition = { templateName: 'DatabaseStack', build };
