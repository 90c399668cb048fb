import { template, templates, findValues, resourcesOfType, hasResourceProperties, onlyResource, Resource } from '../support/assertions';
import { AURORA_MYSQL_MAX_CONNECTIONS, MonitoringParameters } from '../../cfn/stacks/monitoring/parameters';
import { guardedRate } from '../../cfn/stacks/monitoring/alarms';
import { Exports } from '../../cfn/contract/names';
import { Json, JsonObject } from '../../cfn/lib/template';

const t = template('MonitoringStack');
const parameters = t.Parameters as Record<string, JsonObject>;
const outputs = t.Outputs as Record<string, JsonObject>;
const alarms = resourcesOfType(t, 'AWS::CloudWatch::Alarm');
const alarm = (id: string): JsonObject => {
  const a = alarms[id] as Resource | undefined;
  if (a === undefined) throw new Error(`no alarm ${id}; have ${Object.keys(alarms).join(', ')}`);
  return a.Properties ?? {};
};

/** Every metric an alarm reads, as [namespace, metric name, stat, period, dimension names]. */
function metricsOf(props: JsonObject): Array<[string, string, string, number, string[]]> {
  const dims = (d: Json | undefined): string[] => ((d ?? []) as JsonObject[]).map((x) => x.Name as string);
  if (props.Metrics === undefined) {
    return [[props.Namespace as string, props.MetricName as string, (props.Statistic ?? props.ExtendedStatistic) as string, props.Period as number, dims(props.Dimensions)]];
  }
  return (props.Metrics as JsonObject[])
    .filter((q) => q.MetricStat !== undefined)
    .map((q) => {
      const stat = q.MetricStat as JsonObject;
      const m = stat.Metric as JsonObject;
      return [m.Namespace as string, m.MetricName as string, stat.Stat as string, stat.Period as number, dims(m.Dimensions)];
    });
}

/** The metric-math expression an alarm evaluates (the query with ReturnData true), as its Fn::Sub pattern. */
function expressionOf(props: JsonObject): string {
  const e = returnedExpression(props);
  if (typeof e === 'string') return e;
  const arg = (e as JsonObject)['Fn::Sub'];
  return (Array.isArray(arg) ? arg[0] : arg) as string;
}

function returnedExpression(props: JsonObject): Json {
  const returned = (props.Metrics as JsonObject[]).filter((q) => q.ReturnData === true);
  expect(returned).toHaveLength(1);
  return returned[0].Expression as Json;
}

/**
 * The expression as CloudFormation renders it with every parameter at its default:
 * `${Parameter}` and Fn::Sub variables (Fn::FindInMap over a parameter's default).
 */
function withDefaults(expression: Json): string {
  const arg = typeof expression === 'string' ? expression : (expression as JsonObject)['Fn::Sub'];
  const [pattern, variables] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, JsonObject];
  const resolve = (name: string): string => {
    const v = variables[name] as JsonObject | undefined;
    if (v === undefined) return String(parameters[name]?.Default ?? `<no parameter ${name}>`);
    const [mapping, key, attribute] = v['Fn::FindInMap'] as [string, JsonObject, string];
    const mappings = t.Mappings as Record<string, Record<string, JsonObject>>;
    return String(mappings[mapping][parameters[key.Ref as string].Default as string][attribute]);
  };
  return pattern.replace(/\$\{(\w+)\}/g, (_m, name: string) => resolve(name));
}

/**
 * Evaluates one datapoint of a CloudWatch metric-math expression of the shapes tap
 * uses (numbers, metric ids, + - * /, >=, IF, FILL). An id without a datapoint is
 * undefined, as in CloudWatch; FILL replaces it; arithmetic on it yields undefined.
 */
function evaluate(expression: string, values: Record<string, number | undefined>): number | undefined {
  const tokens = expression.match(/\d+(\.\d+)?|[A-Za-z_]\w*|>=|[-+*/(),]/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (expected?: string): string => {
    const tok = tokens[i++];
    if (expected !== undefined && tok !== expected) throw new Error(`expected ${expected}, got ${tok} in ${expression}`);
    return tok;
  };
  const arith = (a: number | undefined, b: number | undefined, f: (x: number, y: number) => number): number | undefined =>
    a === undefined || b === undefined ? undefined : f(a, b);
  const primary = (): number | undefined => {
    const tok = take();
    if (/^\d/.test(tok)) return Number(tok);
    if (tok === '(') {
      const v = comparison();
      take(')');
      return v;
    }
    if (tok === 'IF' || tok === 'FILL') {
      take('(');
      const args = [comparison()];
      while (peek() === ',') {
        take(',');
        args.push(comparison());
      }
      take(')');
      if (tok === 'FILL') return args[0] ?? args[1];
      return args[0] === undefined ? undefined : args[0] !== 0 ? args[1] : args[2];
    }
    if (!(tok in values)) throw new Error(`unknown metric id ${tok} in ${expression}`);
    return values[tok];
  };
  const term = (): number | undefined => {
    let v = primary();
    while (peek() === '*' || peek() === '/') v = take() === '*' ? arith(v, primary(), (a, b) => a * b) : arith(v, primary(), (a, b) => a / b);
    return v;
  };
  const sum = (): number | undefined => {
    let v = term();
    while (peek() === '+' || peek() === '-') v = take() === '+' ? arith(v, term(), (a, b) => a + b) : arith(v, term(), (a, b) => a - b);
    return v;
  };
  function comparison(): number | undefined {
    const left = sum();
    if (peek() !== '>=') return left;
    take('>=');
    return arith(left, sum(), (a, b) => (a >= b ? 1 : 0));
  }
  const result = comparison();
  if (i !== tokens.length) throw new Error(`unparsed input after ${tokens.slice(0, i).join(' ')} in ${expression}`);
  return result;
}

describe('MonitoringStack alarms', () => {
  // alarm -> name, metrics (namespace/metric/stat), threshold parameter, comparison, missing data, period
  const spec: Array<[string, string, string, string[], string, string, string, string, number]> = [
    ['AuroraConnectionsAlarm', 'aurora-connections', 'AWS/RDS', ['DatabaseConnections/Maximum'], 'DbConnectionsPercent', 'GreaterThanThreshold', 'breaching', 'DBClusterIdentifier', 60],
    ['AuroraCpuAlarm', 'aurora-cpu', 'AWS/RDS', ['CPUUtilization/Maximum'], 'DbCpuPercent', 'GreaterThanThreshold', 'missing', 'DBClusterIdentifier', 300],
    ['AuroraFreeableMemoryAlarm', 'aurora-freeable-memory', 'AWS/RDS', ['FreeableMemory/Minimum'], 'DbFreeableMemoryMiB', 'LessThanThreshold', 'missing', 'DBClusterIdentifier', 300],
    ['ValidatorErrorRateAlarm', 'validator-error-rate', 'AWS/Lambda', ['Errors/Sum', 'Invocations/Sum'], 'ErrorRatePercent', 'GreaterThanThreshold', 'notBreaching', 'FunctionName', 60],
    ['ValidatorThrottlesAlarm', 'validator-throttles', 'AWS/Lambda', ['Throttles/Sum'], 'ThrottleThreshold', 'GreaterThanThreshold', 'notBreaching', 'FunctionName', 60],
    ['ValidatorDurationAlarm', 'validator-p99-duration', 'AWS/Lambda', ['Duration/p99', 'Invocations/Sum'], 'ValidatorP99PercentOfTimeout', 'GreaterThanThreshold', 'notBreaching', 'FunctionName', 300],
    ['Api5xxRateAlarm', 'api-5xx-rate', 'AWS/ApiGateway', ['5xx/Sum', 'Count/Sum'], 'ErrorRatePercent', 'GreaterThanThreshold', 'notBreaching', 'ApiId,Stage', 60],
    ['SessionTableThrottlesAlarm', 'sessions-throttles', 'AWS/DynamoDB', ['ReadThrottleEvents/Sum', 'WriteThrottleEvents/Sum'], 'ThrottleThreshold', 'GreaterThanThreshold', 'notBreaching', 'TableName', 60],
  ];

  test('GIVEN the stack WHEN built THEN it has exactly the specified alarms', () => {
    expect(Object.keys(alarms).sort()).toEqual(spec.map(([id]) => id).sort());
  });

  test.each(spec)(
    'GIVEN %s WHEN built THEN it is named %s-<suffix> and reads %s %j, threshold Ref %s, %s, TreatMissingData %s, dimensions %s, period %i s',
    (id, purpose, namespace, metrics, threshold, comparison, missing, dimensionNames, period) => {
      const props = alarm(id);
      expect(props).toMatchObject({
        AlarmName: { 'Fn::Sub': `${purpose}-\${EnvironmentSuffix}` },
        Threshold: { Ref: threshold },
        ComparisonOperator: comparison,
        TreatMissingData: missing,
        EvaluationPeriods: { Ref: 'AlarmEvaluationPeriods' },
        DatapointsToAlarm: { Ref: 'AlarmDatapointsToAlarm' },
      });
      const read = metricsOf(props);
      expect(read.map(([ns, name, stat]) => `${ns}:${name}/${stat}`)).toEqual(metrics.map((m) => `${namespace}:${m}`));
      for (const [, , , p, dims] of read) {
        expect(p).toBe(period);
        expect(dims.join(',')).toBe(dimensionNames);
      }
    },
  );

  test.each(Object.keys(alarms))('GIVEN %s WHEN built THEN ALARM and OK notify the alarm topic and actions stay enabled (CT.CLOUDWATCH.PR.1, PR.4)', (id) => {
    const props = alarm(id);
    expect(props.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(props.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(props.ActionsEnabled ?? true).toBe(true);
  });

  test.each([
    ['DbConnectionsPercent', 80],
    ['ValidatorP99PercentOfTimeout', 80],
  ])('GIVEN %s WHEN defaulted THEN it is %i (%% of the limit it guards)', (name, expected) => {
    expect(parameters[name].Default).toBe(expected);
  });
});

describe('MonitoringStack metric math', () => {
  test.each([
    ['ValidatorErrorRateAlarm', 'IF(invocations >= ${AlarmMinRequests}, 100 * FILL(errors, 0) / invocations, 0)'],
    ['Api5xxRateAlarm', 'IF(requests >= ${AlarmMinRequests}, 100 * FILL(errors, 0) / requests, 0)'],
  ])('GIVEN %s WHEN built THEN it alarms on a guarded rate: %s', (id, expected) => {
    expect(expressionOf(alarm(id))).toBe(expected);
    const hidden = (alarm(id).Metrics as JsonObject[]).filter((q) => q.ReturnData === false).map((q) => q.Id);
    expect(hidden.sort()).toEqual((id === 'Api5xxRateAlarm' ? ['errors', 'requests'] : ['errors', 'invocations']).sort());
  });

  const rate = withDefaults({ 'Fn::Sub': guardedRate('errors', 'total') });
  test.each([
    ['enough requests, some errors', { total: 200, errors: 3 }, 1.5],
    ['enough requests, no error datapoint', { total: 200, errors: undefined }, 0],
    ['exactly the minimum, all failing', { total: 20, errors: 20 }, 100],
    ['a small sample, mostly failing', { total: 3, errors: 2 }, 0],
    ['no traffic at all', { total: undefined, errors: undefined }, undefined],
  ])('GIVEN %s WHEN the guarded rate is evaluated with default parameters THEN it is %p', (_case, values, expected) => {
    expect(evaluate(rate, values)).toBe(expected);
  });

  test('GIVEN the default small-sample guard WHEN read THEN it is 20 requests per minute', () => {
    expect(rate).toBe('IF(total >= 20, 100 * FILL(errors, 0) / total, 0)');
  });

  test.each([
    ['reads only', { reads: 7, writes: undefined }, 7],
    ['both', { reads: 2, writes: 4 }, 6],
  ])('GIVEN session-table throttle events on %s WHEN summed THEN the alarm sees %i', (_case, values, expected) => {
    expect(evaluate(expressionOf(alarm('SessionTableThrottlesAlarm')), values)).toBe(expected);
  });

  test.each([
    ['a p99 of 8 s against the default 10 s timeout', { duration: 8000, invocations: 500 }, 80],
    ['a p99 of 2 s', { duration: 2000, invocations: 500 }, 20],
    ['a slow p99 over too few invocations', { duration: 9500, invocations: 4 }, 0],
  ])('GIVEN %s WHEN the duration alarm evaluates THEN it sees %p %% of the timeout', (_case, values, expected) => {
    expect(evaluate(withDefaults(returnedExpression(alarm('ValidatorDurationAlarm'))), values)).toBe(expected);
  });

  test.each([
    ['db.r6g.large (default): 800 connections', 800, 80],
    ['db.r6g.large: 1000 connections', 1000, 100],
  ])('GIVEN %s WHEN the connection alarm evaluates THEN it sees %p %% of max_connections', (_case, connections, expected) => {
    expect(evaluate(withDefaults(returnedExpression(alarm('AuroraConnectionsAlarm'))), { connections })).toBe(expected);
  });

  test('GIVEN the connection alarm WHEN built THEN max_connections comes from the mapping, keyed by DbInstanceClass', () => {
    expect(returnedExpression(alarm('AuroraConnectionsAlarm'))).toEqual({
      'Fn::Sub': ['100 * connections / ${MaxConnections}', { MaxConnections: { 'Fn::FindInMap': ['AuroraMaxConnections', { Ref: 'DbInstanceClass' }, 'MaxConnections'] } }],
    });
  });

  test('GIVEN freeable memory in bytes WHEN converted THEN the alarm compares MiB with its MiB threshold', () => {
    expect(evaluate(expressionOf(alarm('AuroraFreeableMemoryAlarm')), { memory: 512 * 1048576 })).toBe(512);
  });
});

describe('MonitoringStack thresholds', () => {
  const thresholdParameters = [...new Set(Object.values(alarms).map((a) => (a.Properties?.Threshold as JsonObject).Ref as string))];

  test('GIVEN every alarm WHEN built THEN its threshold is a Ref to a parameter the stack declares', () => {
    expect(thresholdParameters.sort()).toEqual(
      ['DbConnectionsPercent', 'DbCpuPercent', 'DbFreeableMemoryMiB', 'ErrorRatePercent', 'ThrottleThreshold', 'ValidatorP99PercentOfTimeout'].sort(),
    );
  });

  test.each([...thresholdParameters, 'AlarmEvaluationPeriods', 'AlarmDatapointsToAlarm', 'AlarmMinRequests'].map((p) => [p]))(
    'GIVEN parameter %s WHEN declared THEN it is a bounded Number whose default lies within the bounds',
    (name) => {
      const p = parameters[name];
      expect(p).toMatchObject({ Type: 'Number', Description: expect.any(String), ConstraintDescription: expect.any(String) });
      const [min, max, def] = [p.MinValue, p.MaxValue, p.Default] as number[];
      expect(min).toBeLessThanOrEqual(def);
      expect(def).toBeLessThanOrEqual(max);
    },
  );

  test('GIVEN the evaluation defaults WHEN read THEN an alarm needs 2 breaching minutes out of 3, which fits the default 3-minute bake', () => {
    expect([parameters.AlarmDatapointsToAlarm.Default, parameters.AlarmEvaluationPeriods.Default]).toEqual([2, 3]);
  });

  test('GIVEN the stack parameters WHEN listed THEN there are only the shared ones plus the monitoring ones (the root re-declares them all)', () => {
    expect(Object.keys(parameters).sort()).toEqual(
      ['CostCenter', 'DbInstanceClass', 'EnvironmentSuffix', 'EnvironmentType', 'ValidatorTimeoutSeconds', ...Object.keys(MonitoringParameters)].sort(),
    );
  });

  test.each([
    ['ValidatorTimeoutSeconds', 'ComputeStack'],
    ['DbInstanceClass', 'DatabaseStack'],
  ])('GIVEN %s WHEN declared THEN it is %s\'s definition, so the root passes one value to both stacks', (name, owner) => {
    expect(parameters[name]).toEqual((template(owner).Parameters as Record<string, JsonObject>)[name]);
    expect((template('TapStack').Resources as Record<string, Resource>).MonitoringStack.Properties?.Parameters).toMatchObject({ [name]: { Ref: name } });
  });

  test('GIVEN every instance class DatabaseStack allows WHEN mapped THEN its max_connections is the AWS default, 1000 for db.r6g.large', () => {
    const mapping = (t.Mappings as Record<string, Record<string, JsonObject>>).AuroraMaxConnections;
    expect(Object.keys(mapping).sort()).toEqual([...(parameters.DbInstanceClass.AllowedValues as string[])].sort());
    for (const [cls, row] of Object.entries(mapping)) expect(row).toEqual({ MaxConnections: String(AURORA_MYSQL_MAX_CONNECTIONS[cls]) });
    expect(mapping['db.r6g.large']).toEqual({ MaxConnections: '1000' });
  });
});

describe('MonitoringStack deployment-health composite alarm', () => {
  const [, composite] = onlyResource(t, 'AWS::CloudWatch::CompositeAlarm');
  const rule = (composite.Properties?.AlarmRule as JsonObject)['Fn::Sub'] as string;

  test('GIVEN the composite WHEN built THEN it is named deployment-health-<suffix> and notifies the topic', () => {
    expect(composite.Properties).toMatchObject({ AlarmName: { 'Fn::Sub': 'deployment-health-${EnvironmentSuffix}' }, AlarmActions: [{ Ref: 'AlarmTopic' }] });
  });

  test('GIVEN its rule WHEN parsed THEN it ORs exactly the alarms that should stop a deployment', () => {
    const terms = rule.split(' OR ');
    expect(terms.every((term) => /^ALARM\("\$\{\w+\}"\)$/.test(term))).toBe(true);
    expect(terms.map((term) => /\$\{(\w+)\}/.exec(term)?.[1]).sort()).toEqual(
      ['AuroraConnectionsAlarm', 'ValidatorErrorRateAlarm', 'ValidatorThrottlesAlarm', 'Api5xxRateAlarm', 'SessionTableThrottlesAlarm'].sort(),
    );
  });

  test.each([['AuroraCpuAlarm'], ['AuroraFreeableMemoryAlarm'], ['ValidatorDurationAlarm']])('GIVEN %s WHEN the rule is read THEN it pages but does not gate deployments', (id) => {
    expect(rule).not.toContain(`\${${id}}`);
    expect(alarms[id]).toBeDefined();
  });

  test('GIVEN a gating alarm WHEN built THEN it evaluates 1-minute periods, so it can fire within the bake', () => {
    for (const id of ['AuroraConnectionsAlarm', 'ValidatorErrorRateAlarm', 'ValidatorThrottlesAlarm', 'Api5xxRateAlarm', 'SessionTableThrottlesAlarm']) {
      expect(metricsOf(alarm(id)).map(([, , , period]) => period)).toEqual(metricsOf(alarm(id)).map(() => 60));
    }
  });

  test('GIVEN the gate WHEN it reads the outputs THEN DeploymentHealthAlarmName and the gated names are there, the composite first', () => {
    expect(outputs.DeploymentHealthAlarmName.Value).toEqual({ Ref: 'DeploymentHealthAlarm' });
    const [sep, names] = (outputs.GatedAlarmNames.Value as JsonObject)['Fn::Join'] as [string, JsonObject[]];
    expect(sep).toBe(',');
    expect(names[0]).toEqual({ Ref: 'DeploymentHealthAlarm' });
    expect(names.slice(1).map((n) => n.Ref).sort()).toEqual([...rule.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]).sort());
  });
});

describe('MonitoringStack alarm topic', () => {
  test('GIVEN the topic WHEN built THEN it is named tap-alarms-<suffix> and encrypted with the stack key', () => {
    hasResourceProperties(t, 'AWS::SNS::Topic', {
      TopicName: { 'Fn::Sub': 'tap-alarms-${EnvironmentSuffix}' },
      KmsMasterKeyId: { 'Fn::GetAtt': ['AlarmTopicKey', 'Arn'] },
    });
  });

  test('GIVEN the key WHEN built THEN it rotates and CloudWatch of this account may generate data keys and decrypt', () => {
    const [id, key] = onlyResource(t, 'AWS::KMS::Key');
    expect(id).toBe('AlarmTopicKey');
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    const statements = ((key.Properties?.KeyPolicy as JsonObject).Statement as JsonObject[]).filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
  });

  test('GIVEN the topic policy WHEN built THEN only CloudWatch alarms of this account may publish, over TLS', () => {
    const [, policy] = onlyResource(t, 'AWS::SNS::TopicPolicy');
    const statements = (policy.Properties?.PolicyDocument as JsonObject).Statement as JsonObject[];
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlarmTopic' },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]);
  });

  test('GIVEN AlarmEmail WHEN empty (the default) THEN no subscription exists; WHEN set THEN an e-mail subscription does', () => {
    const [, subscription] = onlyResource(t, 'AWS::SNS::Subscription');
    expect(subscription.Condition).toBe('EnableAlarmEmail');
    expect(subscription.Properties).toEqual({ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: { Ref: 'AlarmTopic' } });
    expect((t.Conditions as JsonObject).EnableAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }] });
    expect(parameters.AlarmEmail.Default).toBe('');
  });

  test.each([
    ['', true],
    ['payments-oncall@example.com', true],
    ['ops+tap@pay.example.co.uk', true],
    ['not-an-address', false],
    ['two words@example.com', false],
  ])('GIVEN AlarmEmail %p WHEN validated THEN accepted is %p', (value, accepted) => {
    expect(new RegExp(parameters.AlarmEmail.AllowedPattern as string).test(value)).toBe(accepted);
  });
});

describe('MonitoringStack dimensions and dashboard', () => {
  test.each([
    ['AuroraCpuAlarm', 'DBClusterIdentifier', 'DatabaseStack', 'AuroraCluster', 'DBClusterIdentifier'],
    ['ValidatorThrottlesAlarm', 'FunctionName', 'ComputeStack', 'ValidatorFunction', 'FunctionName'],
  ])('GIVEN %s WHEN built THEN its %s is the derived name %s gives %s, so the alarm waits for no other stack', (id, name, owner, resource, property) => {
    const ownerName = (templates().get(owner)?.Resources as Record<string, JsonObject>)[resource].Properties as JsonObject;
    expect(alarm(id).Dimensions).toEqual([{ Name: name, Value: ownerName[property] }]);
    expect(JSON.stringify(alarm(id).Dimensions)).not.toContain('Fn::ImportValue');
  });

  test('GIVEN the API alarm WHEN built THEN it watches the API ID imported from ApiStack (no name derives it) on the $default stage', () => {
    const dims = (alarm('Api5xxRateAlarm').Metrics as JsonObject[]).flatMap((q) => (q.MetricStat === undefined ? [] : [((q.MetricStat as JsonObject).Metric as JsonObject).Dimensions]));
    for (const d of dims) {
      expect(d).toEqual([
        { Name: 'ApiId', Value: { 'Fn::ImportValue': { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${Exports.api.httpApiId}` } } },
        { Name: 'Stage', Value: '$default' },
      ]);
    }
  });

  test('GIVEN the session-table alarm WHEN built THEN the table name is the derived one StorageStack gives the global table in both regions', () => {
    const dims = (alarm('SessionTableThrottlesAlarm').Metrics as JsonObject[]).flatMap((q) => (q.MetricStat === undefined ? [] : [((q.MetricStat as JsonObject).Metric as JsonObject).Dimensions]));
    expect(dims).toHaveLength(2);
    const table = ((templates().get('StorageStack')?.Resources as Record<string, JsonObject>).SessionTable.Properties as JsonObject).TableName;
    for (const d of dims) expect(d).toEqual([{ Name: 'TableName', Value: table }]);
  });

  test('GIVEN every Fn::ImportValue in MonitoringStack WHEN listed THEN each is ApiStack\'s API ID: monitoring waits for neither database nor compute', () => {
    const imports = new Set(findValues(t, (_v, at) => at.endsWith('/Fn::ImportValue')).map(({ value }) => JSON.stringify(value)));
    expect([...imports]).toEqual([JSON.stringify({ 'Fn::Sub': `tap-\${EnvironmentSuffix}-${Exports.api.httpApiId}` })]);
  });

  const [, dashboard] = onlyResource(t, 'AWS::CloudWatch::Dashboard');
  const [body, variables] = (dashboard.Properties?.DashboardBody as JsonObject)['Fn::Sub'] as [string, JsonObject];
  const widgets = (JSON.parse(body) as { widgets: Array<{ type: string; x: number; width: number; properties: JsonObject }> }).widgets;

  test('GIVEN the dashboard WHEN built THEN its name carries suffix and region (dashboards are global to the account)', () => {
    expect(dashboard.Properties?.DashboardName).toEqual({ 'Fn::Sub': 'tap-${EnvironmentSuffix}-${AWS::Region}' });
  });

  test('GIVEN the dashboard body WHEN parsed THEN it is JSON whose widgets fit the 24-column grid and name the region only through ${AWS::Region}', () => {
    expect(widgets.length).toBeGreaterThan(0);
    for (const w of widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      if (w.type === 'metric') expect(w.properties.region).toBe('${AWS::Region}');
    }
    expect(Object.keys(variables).sort()).toEqual(['ApiId', 'SessionTableName', 'ValidatorFunctionName']);
  });

  test('GIVEN every alarm WHEN the dashboard is built THEN it has a graph with that alarm and the state widget lists it', () => {
    const states = widgets.find((w) => w.type === 'alarm')?.properties.alarms as string[];
    for (const id of [...Object.keys(alarms), 'DeploymentHealthAlarm']) expect(states).toContain(`\${${id}.Arn}`);
    for (const id of Object.keys(alarms)) {
      expect(widgets.filter((w) => JSON.stringify(w.properties.annotations ?? {}).includes(`\${${id}.Arn}`))).toHaveLength(1);
    }
  });
});

describe('MonitoringStack exports', () => {
  test.each(Object.values(Exports.monitoring).map((k) => [k]))('GIVEN export %s WHEN built THEN exactly one output exports it under the suffixed name', (key) => {
    const found = Object.entries(outputs).filter(([, o]) => JSON.stringify(o.Export) === JSON.stringify({ Name: { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${key}` } }));
    expect(found).toHaveLength(1);
  });

  test.each(Object.keys(alarms).map((id) => [id]))('GIVEN alarm %s WHEN built THEN its name and ARN are exported', (id) => {
    expect(outputs[`${id}Name`]).toMatchObject({ Value: { Ref: id }, Export: expect.anything() });
    expect(outputs[`${id}Arn`]).toMatchObject({ Value: { 'Fn::GetAtt': [id, 'Arn'] }, Export: expect.anything() });
  });

  test('GIVEN the topic WHEN built THEN its ARN is exported', () => {
    expect(outputs.AlarmTopicArn).toMatchObject({ Value: { Ref: 'AlarmTopic' }, Export: { Name: { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${Exports.monitoring.alarmTopicArn}` } } });
  });
});
