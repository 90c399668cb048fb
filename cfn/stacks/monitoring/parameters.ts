/**
 * MonitoringStack's parameters: the alarm thresholds and evaluation, the
 * connection limits per instance class, and the definitions it shares with the
 * stacks whose resources it watches.
 */
import { ParameterDef } from '../../lib/sharedParameters';
import { ComputeParameters } from '../compute/parameters';
import { DatabaseParameters, INSTANCE_CLASSES } from '../database/settings';

/**
 * Connection limits: Aurora MySQL's default `max_connections` per instance class,
 * from the Aurora User Guide, "Maximum connections to an Aurora MySQL DB instance"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Managing.Performance.html#AuroraMySQL.Managing.MaxConnections):
 * db.t3.medium and db.t4g.medium 90, db.r6g.large and db.r7g.large 1000,
 * db.r6g.xlarge and db.r7g.xlarge 2000. The table is DatabaseStack's INSTANCE_CLASSES
 * (the classes its DbInstanceClass parameter allows), rendered here as a mapping, so the
 * alarm compares connections with the limit of the class actually deployed: 80 % is
 * 800 connections on the default db.r6g.large, and follows a change of class.
 * DatabaseStack sets no max_connections of its own; if it ever does, the mapping must follow.
 */
export const AURORA_MYSQL_MAX_CONNECTIONS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(INSTANCE_CLASSES).map(([cls, facts]) => [cls, facts.maxConnections]),
);
export const MAX_CONNECTIONS_MAPPING = 'AuroraMaxConnections';
/** Values as strings: they are substituted into an Fn::Sub expression. */
export const maxConnectionsMapping = (): Record<string, Record<string, string>> =>
  Object.fromEntries(Object.entries(AURORA_MYSQL_MAX_CONNECTIONS).map(([cls, max]) => [cls, { MaxConnections: String(max) }]));

const number = (description: string, def: number, min: number, max: number, unit: string): ParameterDef => ({
  Type: 'Number',
  Description: description,
  Default: def,
  MinValue: min,
  MaxValue: max,
  ConstraintDescription: `Must be a number from ${min} to ${max} ${unit}.`,
});

/**
 * Only what operators tune: the root re-declares every nested parameter and must
 * stay under 51,200 bytes (StackSet TemplateBody), so descriptions are short.
 */
export const MonitoringParameters = {
  AlarmEmail: {
    Type: 'String',
    Description: 'E-mail address subscribed to the alarm topic; empty for none.',
    Default: '',
    MaxLength: 254,
    AllowedPattern: '^$|^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$',
    ConstraintDescription: 'Must be empty or an e-mail address.',
  },
  AlarmEvaluationPeriods: number('Periods each alarm evaluates (N of "M out of N").', 3, 1, 10, 'periods'),
  AlarmDatapointsToAlarm: number('Breaching periods that trigger an alarm (M of "M out of N"); at most AlarmEvaluationPeriods.', 2, 1, 10, 'periods, at most AlarmEvaluationPeriods'),
  AlarmMinRequests: number('Requests per alarm period below which error rates and the p99 count as 0 (small-sample guard).', 20, 1, 100000, 'requests'),
  ErrorRatePercent: number('Validator error rate and API 5xx rate (%) that raise an alarm.', 1, 0.1, 100, 'percent'),
  ThrottleThreshold: number('Throttled validator invocations or session-table throttle events per minute that raise an alarm.', 5, 0, 100000, 'per minute'),
  ValidatorP99PercentOfTimeout: number('Validator p99 duration, as % of its timeout, that raises an alarm.', 80, 10, 100, 'percent'),
  DbConnectionsPercent: number('Aurora connections on the busiest instance, as % of its class max_connections, that raise an alarm.', 80, 10, 100, 'percent'),
  DbCpuPercent: number('Aurora CPU utilization (%) on one instance that raises an alarm.', 80, 1, 100, 'percent'),
  DbFreeableMemoryMiB: number('Aurora freeable memory (MiB) on one instance below which an alarm is raised.', 1024, 64, 1048576, 'MiB'),
} as const satisfies Record<string, ParameterDef>;

/**
 * Other stacks' own definitions, declared here too: the root passes a parameter to
 * every nested stack that declares it (one definition, so the root accepts both), so
 * the duration alarm follows the validator's timeout and the connection alarm the
 * instance class, instead of copies of them.
 */
export const SharedWithOtherStacks = {
  ValidatorTimeoutSeconds: ComputeParameters.ValidatorTimeoutSeconds,
  DbInstanceClass: DatabaseParameters.DbInstanceClass,
} as const satisfies Record<string, ParameterDef>;

export type MonitoringParameterName = keyof typeof MonitoringParameters;
