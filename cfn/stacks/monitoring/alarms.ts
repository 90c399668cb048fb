/**
 * The alarm catalogue: every alarm tap raises, its metric or metric math, its
 * threshold parameter and whether it gates deployments (GATED_ALARM_PURPOSES),
 * and how one renders as AWS::CloudWatch::Alarm properties.
 * Alarm set and thresholds: docs/monitoring.md.
 */
import { Fn, JsonLike, ref, sub, importValue, resourceName, Value } from '../../lib/intrinsics';
import { CloudWatchAlarmDimension, CloudWatchAlarmProps } from '../../lib/cfnTypes.generated';
import { Untagged } from '../../lib/template';
import { Exports, GATED_ALARM_PURPOSES, Names } from '../../contract/names';
import { HTTP_API_STAGE } from '../api';
import { MAX_CONNECTIONS_MAPPING, MonitoringParameterName } from './parameters';

/** One metric as CloudWatch names it; `dimensions` hold template values (imports, Fn::Sub). */
interface MetricSpec {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: ReadonlyArray<readonly [string, Value<string>]>;
  /** Sum, Maximum, Minimum, or a percentile such as p99. */
  readonly stat: string;
}

/** A single metric with a plain statistic (Statistic), or metric math over named metrics (any stat, p99 included). */
type Source =
  | { readonly kind: 'metric'; readonly metric: MetricSpec }
  | {
      readonly kind: 'math';
      /** Fn::Sub pattern: `${Parameter}` and the names in `variables` are substituted at deploy time. */
      readonly expression: string;
      readonly variables?: { readonly [name: string]: JsonLike };
      readonly label: string;
      readonly metrics: Readonly<Record<string, MetricSpec>>;
    };

export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export interface AlarmSpec {
  /** Logical ID; also the stem of its export keys. */
  readonly id: string;
  /** Alarm name: `<purpose>-${EnvironmentSuffix}`. */
  readonly purpose: string;
  /** Dashboard graph title. */
  readonly title: string;
  readonly description: string;
  readonly source: Source;
  readonly comparison: 'GreaterThanThreshold' | 'LessThanThreshold';
  readonly threshold: MonitoringParameterName;
  readonly treatMissingData: TreatMissingData;
  /** 60 s for what must act within a deployment's bake; 300 s for slow capacity and latency trends. */
  readonly periodSeconds: 60 | 300;
  readonly exportKeys: { readonly name: string; readonly arn: string };
}

// Dimension values are the derived names the owning stacks give their resources
// (cfn/contract/names.ts), so this stack waits for neither DatabaseStack nor ComputeStack
// and is complete long before Aurora; tests keep each name equal to the owner's.
// The HTTP API is the exception: API Gateway publishes its metrics by ApiId, which
// no name derives, so that one is ApiStack's export.
const CLUSTER: readonly [string, Value<string>] = ['DBClusterIdentifier', resourceName(Names.auroraCluster)];
const FUNCTION: readonly [string, Value<string>] = ['FunctionName', resourceName(Names.validatorFunction)];
const API: ReadonlyArray<readonly [string, Value<string>]> = [
  ['ApiId', importValue(Exports.api.httpApiId)],
  ['Stage', HTTP_API_STAGE],
];
const TABLE: readonly [string, Value<string>] = ['TableName', resourceName(Names.sessionTable)];

const rds = (name: string, stat: string): MetricSpec => ({ namespace: 'AWS/RDS', name, dimensions: [CLUSTER], stat });
const lambda = (name: string, stat: string): MetricSpec => ({ namespace: 'AWS/Lambda', name, dimensions: [FUNCTION], stat });

/**
 * An error rate in percent with a small-sample guard: below AlarmMinRequests
 * requests a period counts as 0 %, so two failures out of three requests at night
 * do not page anyone or roll a deployment back. FILL: a period with requests but
 * no error datapoint has no errors.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
export const guardedRate = (errors: string, total: string): string =>
  `IF(${total} >= \${AlarmMinRequests}, 100 * FILL(${errors}, 0) / ${total}, 0)`;

const BYTES_PER_MIB = 1048576;

/**
 * The alarm set. Cluster-wide Aurora metrics use Maximum (Minimum for memory):
 * the DBClusterIdentifier dimension aggregates every instance, so the extreme is
 * the busiest instance, which is what runs out first
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html).
 */
export const ALARMS: readonly AlarmSpec[] = [
  {
    id: 'AuroraConnectionsAlarm',
    purpose: 'aurora-connections',
    title: 'Aurora connections (% of max_connections, busiest instance)',
    description: 'Aurora connections near max_connections: new connections will be refused. Gates deployments (leaked or unpooled connections).',
    source: {
      kind: 'math',
      expression: '100 * connections / ${MaxConnections}',
      variables: { MaxConnections: Fn.FindInMap(MAX_CONNECTIONS_MAPPING, ref('DbInstanceClass'), 'MaxConnections') },
      label: 'Connections (% of max_connections)',
      metrics: { connections: rds('DatabaseConnections', 'Maximum') },
    },
    comparison: 'GreaterThanThreshold',
    threshold: 'DbConnectionsPercent',
    // Aurora reports DatabaseConnections every minute while an instance runs, even at 0:
    // no data means the cluster is down or not the one watched, and a deployment must not pass then.
    treatMissingData: 'breaching',
    periodSeconds: 60,
    exportKeys: { name: Exports.monitoring.auroraConnectionsAlarmName, arn: Exports.monitoring.auroraConnectionsAlarmArn },
  },
  {
    id: 'AuroraCpuAlarm',
    purpose: 'aurora-cpu',
    title: 'Aurora CPU % (busiest instance)',
    description: 'Aurora CPU high on the busiest instance: scale the instance class or find the expensive queries.',
    source: { kind: 'metric', metric: rds('CPUUtilization', 'Maximum') },
    comparison: 'GreaterThanThreshold',
    threshold: 'DbCpuPercent',
    // A silent cluster is already reported (and gated) by the connections alarm; here
    // missing data keeps the last state instead of paging twice for one outage.
    treatMissingData: 'missing',
    periodSeconds: 300,
    exportKeys: { name: Exports.monitoring.auroraCpuAlarmName, arn: Exports.monitoring.auroraCpuAlarmArn },
  },
  {
    id: 'AuroraFreeableMemoryAlarm',
    purpose: 'aurora-freeable-memory',
    title: 'Aurora freeable memory MiB (lowest instance)',
    description: 'Aurora freeable memory low on one instance: risk of an out-of-memory restart.',
    source: {
      kind: 'math',
      expression: `memory / ${BYTES_PER_MIB}`,
      label: 'Freeable memory (MiB)',
      metrics: { memory: rds('FreeableMemory', 'Minimum') },
    },
    comparison: 'LessThanThreshold',
    threshold: 'DbFreeableMemoryMiB',
    // As for CPU: the connections alarm owns "the cluster is silent".
    treatMissingData: 'missing',
    periodSeconds: 300,
    exportKeys: { name: Exports.monitoring.auroraFreeableMemoryAlarmName, arn: Exports.monitoring.auroraFreeableMemoryAlarmArn },
  },
  {
    id: 'ValidatorErrorRateAlarm',
    purpose: 'validator-error-rate',
    title: 'Validator error rate %',
    description: 'Transaction validator error rate (Errors / Invocations, %) high: unhandled exceptions or timeouts. Gates deployments.',
    source: {
      kind: 'math',
      expression: guardedRate('errors', 'invocations'),
      label: 'Validator error rate (%)',
      metrics: { errors: lambda('Errors', 'Sum'), invocations: lambda('Invocations', 'Sum') },
    },
    comparison: 'GreaterThanThreshold',
    threshold: 'ErrorRatePercent',
    // No invocations, no errors: a quiet period is healthy.
    treatMissingData: 'notBreaching',
    periodSeconds: 60,
    exportKeys: { name: Exports.monitoring.validatorErrorRateAlarmName, arn: Exports.monitoring.validatorErrorRateAlarmArn },
  },
  {
    id: 'ValidatorThrottlesAlarm',
    purpose: 'validator-throttles',
    title: 'Validator throttles',
    description: 'Transaction validator throttled: requests rejected at the concurrency limit. Gates deployments (a slower release needs more concurrency).',
    source: { kind: 'metric', metric: lambda('Throttles', 'Sum') },
    comparison: 'GreaterThanThreshold',
    threshold: 'ThrottleThreshold',
    // Lambda publishes nothing without invocation attempts: nothing was throttled.
    treatMissingData: 'notBreaching',
    periodSeconds: 60,
    exportKeys: { name: Exports.monitoring.validatorThrottlesAlarmName, arn: Exports.monitoring.validatorThrottlesAlarmArn },
  },
  {
    id: 'ValidatorDurationAlarm',
    purpose: 'validator-p99-duration',
    title: 'Validator duration p99 (% of timeout)',
    description: 'Transaction validator p99 duration near its timeout: timeouts (counted as errors) follow.',
    source: {
      kind: 'math',
      // p99 in ms as a share of ValidatorTimeoutSeconds; a p99 of a handful of samples is
      // noise, so the small-sample guard applies here too (per 5-minute period).
      expression: 'IF(invocations >= ${AlarmMinRequests}, 100 * duration / (1000 * ${ValidatorTimeoutSeconds}), 0)',
      label: 'Validator duration p99 (% of timeout)',
      metrics: { duration: lambda('Duration', 'p99'), invocations: lambda('Invocations', 'Sum') },
    },
    comparison: 'GreaterThanThreshold',
    threshold: 'ValidatorP99PercentOfTimeout',
    // No invocations, no duration.
    treatMissingData: 'notBreaching',
    periodSeconds: 300,
    exportKeys: { name: Exports.monitoring.validatorDurationAlarmName, arn: Exports.monitoring.validatorDurationAlarmArn },
  },
  {
    id: 'Api5xxRateAlarm',
    purpose: 'api-5xx-rate',
    title: 'API 5xx rate %',
    description: 'HTTP API 5xx rate (5xx / Count, %) high: clients see server errors. Gates deployments.',
    source: {
      kind: 'math',
      expression: guardedRate('errors', 'requests'),
      label: 'API 5xx rate (%)',
      metrics: {
        errors: { namespace: 'AWS/ApiGateway', name: '5xx', dimensions: API, stat: 'Sum' },
        requests: { namespace: 'AWS/ApiGateway', name: 'Count', dimensions: API, stat: 'Sum' },
      },
    },
    comparison: 'GreaterThanThreshold',
    threshold: 'ErrorRatePercent',
    // No requests, no errors.
    treatMissingData: 'notBreaching',
    periodSeconds: 60,
    exportKeys: { name: Exports.monitoring.api5xxRateAlarmName, arn: Exports.monitoring.api5xxRateAlarmArn },
  },
  {
    id: 'SessionTableThrottlesAlarm',
    purpose: 'sessions-throttles',
    title: 'Session table throttle events',
    description: 'Session table throttling (read + write throttle events): idempotency checks fail. Gates deployments (a release that changes access patterns).',
    source: {
      kind: 'math',
      expression: 'FILL(reads, 0) + FILL(writes, 0)',
      label: 'Session table throttle events',
      metrics: {
        // ThrottledRequests needs an Operation dimension; these two cover every operation per table.
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
        reads: { namespace: 'AWS/DynamoDB', name: 'ReadThrottleEvents', dimensions: [TABLE], stat: 'Sum' },
        writes: { namespace: 'AWS/DynamoDB', name: 'WriteThrottleEvents', dimensions: [TABLE], stat: 'Sum' },
      },
    },
    comparison: 'GreaterThanThreshold',
    threshold: 'ThrottleThreshold',
    // DynamoDB publishes throttle events only when there are some.
    treatMissingData: 'notBreaching',
    periodSeconds: 60,
    exportKeys: { name: Exports.monitoring.sessionTableThrottlesAlarmName, arn: Exports.monitoring.sessionTableThrottlesAlarmArn },
  },
];

/*
 * deployment-health = OR of the alarms a bad release moves within minutes: its own
 * errors (validator error rate, API 5xx rate), the capacity it consumes per request
 * (connections, validator and session-table throttles). Left out, because they page
 * but would roll back good releases: Aurora CPU and freeable memory (slow capacity
 * trends driven by load, 5-minute periods, not attributable to one deployment) and
 * the validator's p99 duration (a new image's cold starts raise it right after every
 * deployment; real timeouts already count as validator errors).
 */
/** Members of `deployment-health` (ALARM during a deployment rolls it back): named once, in GATED_ALARM_PURPOSES. */
export const GATING_ALARMS: readonly AlarmSpec[] = ALARMS.filter((a) => (GATED_ALARM_PURPOSES as readonly string[]).includes(a.purpose));

/** `ALARM("<name>") OR ...` with each member's name by Ref (Fn::Sub), so the composite is created after them. */
export const deploymentHealthRule = (members: readonly AlarmSpec[]): string => members.map((a) => `ALARM("\${${a.id}}")`).join(' OR ');

/** Logical IDs of the alarm topic and the composite alarm (alarm actions and the dashboard name them). */
export const TOPIC = 'AlarmTopic';
export const COMPOSITE = 'DeploymentHealthAlarm';

export function alarmProperties(a: AlarmSpec): Untagged<CloudWatchAlarmProps> {
  const common = {
    AlarmName: resourceName(a.purpose),
    AlarmDescription: a.description,
    ComparisonOperator: a.comparison,
    Threshold: ref(a.threshold),
    EvaluationPeriods: ref('AlarmEvaluationPeriods'),
    DatapointsToAlarm: ref('AlarmDatapointsToAlarm'),
    TreatMissingData: a.treatMissingData,
    // CT.CLOUDWATCH.PR.1: an action for ALARM; OK too, so the e-mail thread shows the recovery.
    AlarmActions: [ref(TOPIC)],
    OKActions: [ref(TOPIC)],
  };
  if (a.source.kind === 'metric') {
    const m = a.source.metric;
    return { ...common, Namespace: m.namespace, MetricName: m.name, Dimensions: dimensions(m), Period: a.periodSeconds, Statistic: m.stat };
  }
  const { expression: pattern, variables } = a.source;
  const expression = variables !== undefined ? sub(pattern, variables) : pattern.includes('${') ? sub(pattern) : pattern;
  return {
    ...common,
    Metrics: [
      { Id: 'result', Expression: expression, Label: a.source.label, ReturnData: true },
      ...Object.entries(a.source.metrics).map(
        ([id, m]) => ({
          Id: id,
          ReturnData: false,
          MetricStat: {
            Metric: { Namespace: m.namespace, MetricName: m.name, Dimensions: dimensions(m) },
            Stat: m.stat,
            Period: a.periodSeconds,
          },
        }),
      ),
    ],
  };
}

const dimensions = (m: MetricSpec): CloudWatchAlarmDimension[] => m.dimensions.map(([name, value]) => ({ Name: name, Value: value }));
