/**
 * DatabaseStack's settings: the Aurora engine versions and instance classes it
 * offers, its windows, retention and log exports, the parameter-group values, and
 * its parameters, conditions and logical IDs. The stack itself is in ./stack.ts.
 */
import { ParameterDef } from '../../lib/sharedParameters';

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

export const INSTANCE_CLASS_MAPPING = 'InstanceClassFeatures';

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
