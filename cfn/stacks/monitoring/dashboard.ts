/**
 * The service dashboard: the alarm states, one graph per alarm with its
 * threshold, and the traffic the alarms are about.
 */
import { JsonLike } from '../../lib/value';
import { Intrinsic, sub, importValue, resourceName } from '../../lib/intrinsics';
import { Exports, Names, namePattern } from '../../contract/names';
import { HTTP_API_STAGE } from '../api';
import { ALARMS, COMPOSITE } from './alarms';

/**
 * Dashboards are global to the account, not regional, and both regions deploy this
 * template with the same suffix: the region keeps their names apart.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html
 */
export const DASHBOARD_NAME_PATTERN = `${namePattern('tap')}-\${AWS::Region}`;

/** One widget of the dashboard body (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html#CloudWatch-Dashboard-Properties-Widgets-Structure). */
interface Widget {
  readonly type: 'text' | 'metric' | 'alarm';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: { readonly [key: string]: JsonLike };
}

/** A graphed metric: namespace, name, dimension name/value pairs, then its rendering options. */
type MetricRow = ReadonlyArray<string | { readonly [option: string]: string }>;

/**
 * The dashboard body as Fn::Sub, so region, names and IDs are never literal:
 * `${AWS::Region}`, `${EnvironmentSuffix}`, `${<Alarm>.Arn}` and the imported
 * IDs through the variable map. Each alarm gets a graph of its own metric with
 * its threshold (an alarm annotation), so the dashboard and the alarms cannot
 * drift apart. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
export function dashboardBody(): Intrinsic {
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
  const traffic: Array<[string, MetricRow[]]> = [
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
