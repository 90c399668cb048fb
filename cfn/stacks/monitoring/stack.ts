/**
 * MonitoringStack: the alarms that page operators and, through the composite
 * alarm `deployment-health-<suffix>`, fail a deployment that hurts production
 * (the root's deployment gate watches it; README.md, "How a bad deployment is rolled back").
 *
 * Alarm set and thresholds: docs/monitoring.md.
 */
import { TemplateBuilder } from '../../lib/template';
import { NestedStackDefinition } from '../../contract/layout';
import { shared, ParameterDef } from '../../lib/params';
import { Fn, getAtt, Intrinsic, JsonLike, not, equals, ref, sub, importValue, resourceName, Value } from '../../lib/intrinsics';
import { CloudWatchAlarmDimension, CloudWatchAlarmProps } from '../../lib/cfnTypes.generated';
import { Untagged } from '../../lib/template';
import { Exports, GATED_ALARM_NAMES_OUTPUT, GATED_ALARM_PURPOSES, Names, namePattern } from '../../contract/names';
import { kmsKey } from '../../lib/patterns';
import { ComputeParameters } from '../compute/stack';
import { HTTP_API_STAGE } from '../api';
import { DatabaseParameters, INSTANCE_CLASSES } from '../database';

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

const TOPIC = 'AlarmTopic';
const COMPOSITE = 'DeploymentHealthAlarm';

function alarmProperties(a: AlarmSpec): Untagged<CloudWatchAlarmProps> {
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

function build(): TemplateBuilder {
  const t = new TemplateBuilder('MonitoringStack', 'tap monitoring: alarm topic, alarms, the deployment-health composite alarm and the service dashboard.');
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter'), ...SharedWithOtherStacks, ...MonitoringParameters });
  t.mapping(MAX_CONNECTIONS_MAPPING, maxConnectionsMapping());
  const emailCondition = t.condition('EnableAlarmEmail', not(equals(ref('AlarmEmail'), '')));

  // Alarms publish to an encrypted topic only if CloudWatch may use its key; without
  // this statement they deploy cleanly and deliver nothing:
  // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
  const key = kmsKey(t, 'AlarmTopicKey', {
    description: 'tap monitoring: encrypts the alarm topic',
    alias: Names.alarmTopic,
    services: [
      {
        principal: 'cloudwatch.amazonaws.com',
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
      },
    ],
  });
  t.resource(
    TOPIC,
    'AWS::SNS::Topic',
    {
      TopicName: resourceName(Names.alarmTopic),
      DisplayName: 'tap alarms',
      KmsMasterKeyId: key.arn,
    },
  );
  t.resource(
    'AlarmTopicPolicy',
    'AWS::SNS::TopicPolicy',
    {
      Topics: [ref(TOPIC)],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CloudWatchAlarmsOfThisAccount',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: ref(TOPIC),
            Condition: {
              StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
              ArnLike: { 'aws:SourceArn': sub('arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*') },
            },
          },
          {
            Sid: 'DenyInsecureTransport',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: ref(TOPIC),
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  );
  t.resource('AlarmEmailSubscription', 'AWS::SNS::Subscription', { TopicArn: ref(TOPIC), Protocol: 'email', Endpoint: ref('AlarmEmail') }, {
    condition: emailCondition,
  });

  for (const a of ALARMS) t.resource(a.id, 'AWS::CloudWatch::Alarm', alarmProperties(a));

  t.resource(
    COMPOSITE,
    'AWS::CloudWatch::CompositeAlarm',
    {
      AlarmName: resourceName(Names.deploymentHealthAlarm),
      AlarmDescription: 'Any alarm that should stop a deployment. The deployment gate fails an update while this is in ALARM, which rolls the root stack back.',
      AlarmRule: sub(deploymentHealthRule(GATING_ALARMS)),
      AlarmActions: [ref(TOPIC)],
    },
  );

  t.resource('Dashboard', 'AWS::CloudWatch::Dashboard', { DashboardName: sub(DASHBOARD_NAME_PATTERN), DashboardBody: dashboardBody() });

  const e = Exports.monitoring;
  t.export(e.alarmTopicArn, ref(TOPIC), { description: 'SNS topic every tap alarm notifies' });
  t.export(e.deploymentHealthAlarmName, ref(COMPOSITE), { description: 'Composite alarm the deployment gate watches' });
  t.export(e.deploymentHealthAlarmArn, getAtt(COMPOSITE, 'Arn'), { description: 'ARN of the deployment-health composite alarm' });
  for (const a of ALARMS) {
    t.export(a.exportKeys.name, ref(a.id), { description: `Name of the ${a.purpose} alarm` });
    t.export(a.exportKeys.arn, getAtt(a.id, 'Arn'), { description: `ARN of the ${a.purpose} alarm` });
  }
  // For the gate's AlarmNames (Fn::Split in the root): the composite, then its members,
  // so a FAILED answer names the member alarm that fired and its reason.
  t.output(GATED_ALARM_NAMES_OUTPUT, Fn.Join(',', [ref(COMPOSITE), ...GATING_ALARMS.map((a) => ref(a.id))]), {
    description: 'Comma-separated names of the deployment-health alarm and its member alarms',
  });
  return t;
}

/**
 * Dashboards are global to the account, not regional, and both regions deploy this
 * template with the same suffix: the region keeps their names apart.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html
 */
export const DASHBOARD_NAME_PATTERN = `${namePattern('tap')}-\${AWS::Region}`;

type Widget = Record<string, unknown>;

/**
 * The dashboard body as Fn::Sub, so region, names and IDs are never literal:
 * `${AWS::Region}`, `${EnvironmentSuffix}`, `${<Alarm>.Arn}` and the imported
 * IDs through the variable map. Each alarm gets a graph of its own metric with
 * its threshold (an alarm annotation), so the dashboard and the alarms cannot
 * drift apart. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
function dashboardBody(): Intrinsic {
  const region = '${AWS::Region}';
  const widgets: Widget[] = [];
  let y = 0;
  widgets.push({
    type: 'text',
    x: 0,
    y,
    width: 24,
    height: 2,
    properties: {
      markdown: `# tap \${EnvironmentSuffix} (${region})\nAlarms in **deployment-health-\${EnvironmentSuffix}** fail a deployment that is baking and roll it back; the others page only.`,
    },
  });
  y += 2;
  widgets.push({
    type: 'alarm',
    x: 0,
    y,
    width: 24,
    height: 4,
    properties: { title: 'Alarm states', alarms: [`\${${COMPOSITE}.Arn}`, ...ALARMS.map((a) => `\${${a.id}.Arn}`)] },
  });
  y += 4;
  ALARMS.forEach((a, i) => {
    widgets.push({
      type: 'metric',
      x: (i % 3) * 8,
      y: y + Math.floor(i / 3) * 6,
      width: 8,
      height: 6,
      properties: { title: a.title, region, view: 'timeSeries', annotations: { alarms: [`\${${a.id}.Arn}`] } },
    });
  });
  y += Math.ceil(ALARMS.length / 3) * 6;
  const traffic: Array<[string, unknown[][]]> = [
    [
      'API requests and latency',
      [
        ['AWS/ApiGateway', 'Count', 'ApiId', '${ApiId}', 'Stage', HTTP_API_STAGE, { stat: 'Sum', label: 'Requests' }],
        ['AWS/ApiGateway', 'Latency', 'ApiId', '${ApiId}', 'Stage', HTTP_API_STAGE, { stat: 'p99', label: 'Latency p99 (ms)', yAxis: 'right' }],
      ],
    ],
    [
      'Validator invocations and concurrency',
      [
        ['AWS/Lambda', 'Invocations', 'FunctionName', '${ValidatorFunctionName}', { stat: 'Sum' }],
        ['AWS/Lambda', 'ConcurrentExecutions', 'FunctionName', '${ValidatorFunctionName}', { stat: 'Maximum', yAxis: 'right' }],
      ],
    ],
    [
      'Session table capacity consumed',
      [
        ['AWS/DynamoDB', 'ConsumedReadCapacityUnits', 'TableName', '${SessionTableName}', { stat: 'Sum' }],
        ['AWS/DynamoDB', 'ConsumedWriteCapacityUnits', 'TableName', '${SessionTableName}', { stat: 'Sum' }],
      ],
    ],
  ];
  traffic.forEach(([title, metrics], i) => {
    widgets.push({ type: 'metric', x: i * 8, y, width: 8, height: 6, properties: { title, region, view: 'timeSeries', period: 60, metrics } });
  });
  return sub(JSON.stringify({ widgets }), {
    ApiId: importValue(Exports.api.httpApiId),
    ValidatorFunctionName: resourceName(Names.validatorFunction),
    SessionTableName: resourceName(Names.sessionTable),
  });
}

export const MonitoringStack: NestedStackDefinition = { templateName: 'MonitoringStack', build };
