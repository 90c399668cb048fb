/**
 * TapStack.json: nested-stack wiring, parameters and conditions, the
 * cross-region wait, the schema migration and the deployment gate, and the
 * cross-template properties of the whole set (waves, the critical path, no
 * cycle, no dependency on a resource that may not exist).
 */
import { templates, template, resources, Resource, findValues } from '../support/assertions';
import { render, parameterValues, Deployment } from '../support/conditions';
import {
  SCHEMA_MIGRATION,
  DEPLOYMENT_GATE,
  GATE_SERVICE_TIMEOUT_SECONDS,
  RootParameters,
  parameterLabel,
  REGION_PREREQUISITES,
  REGION_PREREQUISITES_TYPE,
  PREREQUISITES_SERVICE_TIMEOUT_SECONDS,
  RELEASE_INPUTS_PROPERTY,
  ROOT_COMPUTED_PARAMETERS,
  METRIC_PUBLISH_DELAY_SECONDS,
} from '../../cfn/stacks/root';
import { PREREQUISITES_MAX_WAIT_SECONDS } from '../../cfn/stacks/compute/parameters';
import { templateUrlPattern } from '../../cfn/contract/layout';
import { deploymentPlan } from '../../tools/review/deploymentPlan';
import { NESTED_STACKS, ROOT_TEMPLATE_NAME } from '../../cfn/stacks';
import { ancestors as ancestorsIn, deploymentWaves, referencedIds, resourceGraph, waves } from '../../cfn/lib/graph';
import { migrationsHash, readMigrationFiles } from '../../cfn/lib/migrations';
import { DATABASE_NAME, Exports, exportNamePattern } from '../../cfn/contract/names';
import { TAG_KEYS } from '../../cfn/lib/tags';
import { Json, JsonObject, renderTemplate } from '../../cfn/lib/template';
import { MonitoringParameters } from '../../cfn/stacks/monitoring/parameters';

const all = templates();
const root = template(ROOT_TEMPLATE_NAME);
const res = resources(root);
const nestedNames: string[] = NESTED_STACKS.map((d) => d.templateName);
const outputs = (root.Outputs ?? {}) as Record<string, JsonObject>;
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? [...v] : [v]);
const getAtt = (stack: string, output: string): JsonObject => ({ 'Fn::GetAtt': [stack, `Outputs.${output}`] });
/** Root resource -> the root resources it waits for (DependsOn, Ref, GetAtt), and its transitive ancestors. */
const rootEdges = resourceGraph(root);
const ancestors = (id: string): Set<string> => ancestorsIn(rootEdges, id);

describe('TapStack deployment order', () => {
  test('GIVEN synth WHEN the deployment waves are derived THEN the network core and the API come first; the database starts right after the core', () => {
    expect(deploymentWaves(root)).toEqual([
      ['ApiStack', 'NetworkStack'],
      ['ComputeStack', 'DatabaseStack', 'DnsStack', 'EndpointsStack', 'MonitoringStack'],
      [SCHEMA_MIGRATION, REGION_PREREQUISITES],
      ['StorageStack'],
      [DEPLOYMENT_GATE],
    ]);
  });

  test.each([
    // stack, what it explicitly waits for, its condition
    ['NetworkStack', [], undefined],
    ['EndpointsStack', ['NetworkStack'], undefined],
    ['StorageStack', [], undefined],
    ['DatabaseStack', ['NetworkStack'], undefined],
    ['ApiStack', [], undefined],
    ['ComputeStack', ['ApiStack', 'NetworkStack'], undefined],
    ['MonitoringStack', ['ApiStack'], undefined],
    ['DnsStack', ['ApiStack'], 'EnableDnsFailover'],
  ])('GIVEN nested stack %s WHEN wired THEN it waits for exactly %j, under condition %s', (name, dependsOn, condition) => {
    expect(asList(res[name].DependsOn).sort()).toEqual(dependsOn);
    expect(res[name].Condition).toBe(condition);
  });

  test('GIVEN the nested stacks WHEN wired THEN each has a timeout of at most an hour, and DatabaseStack\'s outlasts a slow Aurora creation (AWS: 10-20 minutes for cluster and instance)', () => {
    expect(nestedNames.filter((n) => !(Number(res[n].Properties?.TimeoutInMinutes) > 0 && Number(res[n].Properties?.TimeoutInMinutes) <= 60))).toEqual([]);
    expect(res.DatabaseStack.Properties?.TimeoutInMinutes).toBeGreaterThanOrEqual(45);
  });

  test.each(nestedNames.map((n) => [n]))('GIVEN nested stack %s WHEN wired THEN it has tags and its content-addressed template in this region\'s bucket', (name) => {
    const stack = res[name];
    expect(stack).toMatchObject({ Type: 'AWS::CloudFormation::Stack', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(stack.Properties?.TemplateURL).toEqual({ 'Fn::Sub': templateUrlPattern(name, renderTemplate(all.get(name) as JsonObject)) });
    expect((stack.Properties?.TemplateURL as JsonObject)['Fn::Sub']).toMatch(
      new RegExp(`^https://tap-templates-\\$\\{EnvironmentSuffix\\}-\\$\\{AWS::AccountId\\}-\\$\\{AWS::Region\\}\\.s3\\.\\$\\{AWS::Region\\}\\.\\$\\{AWS::URLSuffix\\}/templates/${name}-[0-9a-f]{16}\\.json$`),
    );
    expect((stack.Properties?.Tags as Array<{ Key: string }>).map((t) => t.Key)).toEqual(expect.arrayContaining([...TAG_KEYS]));
  });

  test.each(nestedNames.map((n) => [n]))('GIVEN nested stack %s WHEN wired THEN the root declares each of its parameters identically and passes it by Ref, or computes it per region', (name) => {
    const nestedParams = (all.get(name)?.Parameters ?? {}) as JsonObject;
    const rootParams = root.Parameters as JsonObject;
    const computed = ROOT_COMPUTED_PARAMETERS[name] ?? {};
    for (const [id, def] of Object.entries(nestedParams)) {
      if (id in computed) expect({ id, declared: id in rootParams }).toEqual({ id, declared: false });
      else expect({ id, def: rootParams[id] }).toEqual({ id, def });
    }
    const expected = Object.fromEntries(Object.keys(nestedParams).map((id) => [id, id in computed ? JSON.parse(JSON.stringify(computed[id])) : { Ref: id }]));
    expect(res[name].Properties?.Parameters).toEqual(expected);
  });

  test('GIVEN ComputeStack WHEN wired THEN each region runs its own image: the primary PrimaryImageUri, the secondary SecondaryImageUri', () => {
    expect((res.ComputeStack.Properties?.Parameters as JsonObject).ImageUri).toEqual({ 'Fn::If': ['IsPrimaryRegion', { Ref: 'PrimaryImageUri' }, { Ref: 'SecondaryImageUri' }] });
  });
});

describe('TapStack critical path: Aurora alone', () => {
  const nestedAncestors = (id: string): string[] => [...ancestors(id)].filter((a) => a in res).sort();

  test('GIVEN DatabaseStack WHEN its predecessors are listed THEN they are only what the cluster uses: NetworkStack (subnets, security group)', () => {
    expect(nestedAncestors('DatabaseStack')).toEqual(['NetworkStack']);
    const imports = findValues(all.get('DatabaseStack') as Json, (_v, at) => at.endsWith('/Fn::ImportValue')).map(({ value }) => (value as JsonObject)['Fn::Sub']);
    expect([...new Set(imports)].sort()).toEqual(
      [Exports.network.databaseSecurityGroupId, Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id].map(exportNamePattern).sort(),
    );
  });

  test('GIVEN NetworkStack WHEN read THEN it holds nothing that takes minutes: no VPC endpoint, flow log or key delays the database', () => {
    const types = Object.values(resources(all.get('NetworkStack') as JsonObject)).map((r) => r.Type);
    expect(types.filter((ty) => ['AWS::EC2::VPCEndpoint', 'AWS::EC2::FlowLog', 'AWS::KMS::Key', 'AWS::Logs::LogGroup'].includes(ty))).toEqual([]);
  });

  test.each(['ComputeStack', 'MonitoringStack', 'EndpointsStack', 'StorageStack', 'ApiStack', 'DnsStack', REGION_PREREQUISITES])(
    'GIVEN %s WHEN ordered THEN it is not after DatabaseStack',
    (id) => {
      expect(ancestors(id).has('DatabaseStack')).toBe(false);
    },
  );

  test('GIVEN MonitoringStack WHEN ordered THEN it waits for neither DatabaseStack nor ComputeStack (alarm dimensions are derived names)', () => {
    expect(nestedAncestors('MonitoringStack')).toEqual(['ApiStack']);
  });

  test('GIVEN the cross-region wait WHEN read THEN it exists in the primary region only and is not on the path to the writer', () => {
    expect(res[REGION_PREREQUISITES]).toMatchObject({ Type: REGION_PREREQUISITES_TYPE, Condition: 'IsPrimaryRegion' });
    expect(ancestors('DatabaseStack').has(REGION_PREREQUISITES)).toBe(false);
    expect(ancestors(SCHEMA_MIGRATION).has(REGION_PREREQUISITES)).toBe(false);
    const first = deploymentPlan(all).scenarios.find((sc) => sc.key === 'first-deployment');
    expect(first?.path.map((p) => p.id)).not.toContain(REGION_PREREQUISITES);
  });

  test('GIVEN a first deployment WHEN its longest path is computed THEN it is the Aurora chain: the network core, DatabaseStack\'s cluster and instance, the migration, the gate', () => {
    const first = deploymentPlan(all).scenarios.find((sc) => sc.key === 'first-deployment');
    expect(first?.path.map((p) => p.id)).toEqual(['StackSet operation', 'NetworkStack', 'DatabaseStack', SCHEMA_MIGRATION, DEPLOYMENT_GATE]);
    const database = first?.path.find((p) => p.id === 'DatabaseStack');
    expect(database?.note).toMatch(/AuroraCluster \d+ s -> Aurora(Writer|Reader\d) \d+ s$/);
  });
});

/** Exporting template of every export name pattern. */
const exporters = new Map(
  [...all].flatMap(([name, t]) =>
    Object.values((t.Outputs ?? {}) as Record<string, JsonObject>)
      .filter((o) => o.Export !== undefined)
      .map((o) => [((o.Export as JsonObject).Name as JsonObject)['Fn::Sub'] as string, name] as const),
  ),
);
/** importing template -> exporting templates, from every Fn::ImportValue. */
const importEdges = new Map(
  [...all].map(([name, t]) => [
    name,
    new Set(findValues(t, (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'Fn::ImportValue' in v).map(({ value }) => {
      const pattern = (((value as JsonObject)['Fn::ImportValue'] as JsonObject)['Fn::Sub']) as string;
      const exporter = exporters.get(pattern);
      if (exporter === undefined) throw new Error(`${name} imports ${pattern}, which no template exports`);
      return exporter;
    })),
  ]),
);

describe('TapStack across templates', () => {
  test('GIVEN every ImportValue edge and the root DependsOn WHEN combined THEN no cycle exists and each importer waits for its exporter', () => {
    const combined = new Map([...rootEdges].map(([id, deps]) => [id, new Set([...deps, ...(importEdges.get(id) ?? [])])]));
    expect(() => waves(combined)).not.toThrow();
    const order = waves(rootEdges).flat();
    for (const [importer, exportersOf] of importEdges) {
      for (const exporter of exportersOf) expect({ importer, exporter, first: order.indexOf(exporter) < order.indexOf(importer) }).toEqual({ importer, exporter, first: true });
    }
    expect(importEdges.get('DnsStack')).toEqual(new Set(['ApiStack']));
    expect(importEdges.get('MonitoringStack')).toEqual(new Set(['ApiStack']));
    expect(importEdges.get('ComputeStack')).toEqual(new Set(['NetworkStack', 'ApiStack']));
    expect(importEdges.get('DatabaseStack')).toEqual(new Set(['NetworkStack']));
    expect(importEdges.get('EndpointsStack')).toEqual(new Set(['NetworkStack']));
  });

  test.each([...all.keys()].map((n) => [n]))('GIVEN %s WHEN DependsOn is read THEN no unconditional resource waits for a conditional one (unresolvable when its condition is false)', (name) => {
    const rs = resources(all.get(name) as JsonObject);
    for (const [id, r] of Object.entries(rs)) {
      for (const d of asList(r.DependsOn)) {
        const target = rs[d]?.Condition;
        expect({ id, d, ok: target === undefined || target === r.Condition }).toEqual({ id, d, ok: true });
      }
    }
  });
});

describe('TapStack parameters and conditions', () => {
  const params = root.Parameters as Record<string, JsonObject>;

  test('GIVEN BakeMinutes WHEN declared THEN it is auto by default, or a whole number of minutes from 0 to 10', () => {
    expect(params.BakeMinutes).toMatchObject({ Type: 'String', Default: 'auto' });
    const pattern = new RegExp(RootParameters.BakeMinutes.AllowedPattern);
    expect(['auto', '0', '3', '10', '11', '2.5', '-1', 'Auto', '03', ''].map((v) => [v, pattern.test(v)])).toEqual([
      ['auto', true],
      ['0', true],
      ['3', true],
      ['10', true],
      ['11', false],
      ['2.5', false],
      ['-1', false],
      ['Auto', false],
      ['03', false],
      ['', false],
    ]);
  });

  test('GIVEN the images WHEN declared THEN both regions\' images are root parameters with the ECR digest pattern, and no per-region value is a parameter', () => {
    for (const id of ['PrimaryImageUri', 'SecondaryImageUri']) expect(params[id]).toMatchObject({ Type: 'String', AllowedPattern: (all.get('ComputeStack')?.Parameters as Record<string, JsonObject>).ImageUri.AllowedPattern });
    expect(Object.keys(params).filter((p) => /TemplateUrl$|^ImageUri$|^DeploymentStamp$/.test(p))).toEqual([]);
  });

  test.each(['PrimaryImageUri', 'SecondaryImageUri', 'HostedZoneId', 'DomainName', 'EnvironmentSuffix', 'EnvironmentType', 'PrimaryRegion', 'SecondaryRegion', 'BakeMinutes'])(
    'GIVEN parameter %s WHEN the root is built THEN it is declared with a Description and a ConstraintDescription',
    (id) => {
      expect(params[id]).toMatchObject({ Description: expect.any(String), ConstraintDescription: expect.any(String) });
    },
  );

  test('GIVEN the console interface WHEN read THEN every parameter sits in exactly one group and has a label', () => {
    const iface = (root.Metadata as JsonObject)['AWS::CloudFormation::Interface'] as { ParameterGroups: Array<{ Label: { default: string }; Parameters: string[] }>; ParameterLabels: Record<string, { default: string }> };
    const grouped = iface.ParameterGroups.flatMap((g) => g.Parameters);
    expect([...grouped].sort()).toEqual(Object.keys(params).sort());
    expect(new Set(grouped).size).toBe(grouped.length);
    expect(Object.keys(iface.ParameterLabels).sort()).toEqual(Object.keys(params).sort());
    expect(iface.ParameterGroups[0].Label.default).toBe('Environment');
  });

  test.each([
    ['PrivateSubnet1Cidr', 'Private subnet 1 CIDR'],
    ['ImageUri', 'Image URI'],
    ['DbFreeableMemoryMiB', 'DB freeable memory MiB'],
    ['PrimaryImageUri', 'Primary image URI'],
    ['ValidatorP99PercentOfTimeout', 'Validator p99 percent of timeout'],
  ])('GIVEN parameter ID %s WHEN labelled THEN the label reads %j', (id, label) => {
    expect(parameterLabel(id)).toBe(label);
  });

  test('GIVEN the root conditions WHEN declared THEN they are exactly the ones the root uses (nested stacks declare their own)', () => {
    expect(Object.keys(root.Conditions as object).sort()).toEqual(['EnableDnsFailover', 'IsPrimaryRegion']);
    expect((root.Conditions as JsonObject).EnableDnsFailover).toEqual({
      'Fn::And': [{ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'HostedZoneId' }, ''] }] }, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'DomainName' }, ''] }] }],
    });
  });

  test('GIVEN the root template WHEN rendered to bytes THEN it fits a StackSet TemplateBody (51,200 bytes)', () => {
    expect(Buffer.byteLength(renderTemplate(root))).toBeLessThan(51_200);
  });
});

/** The function behind a ComputeStack ARN output, for its Timeout. */
const computeFunctionTimeout = (exportKey: string): Json | undefined => {
  const compute = all.get('ComputeStack') as JsonObject;
  const output = Object.values(compute.Outputs as Record<string, JsonObject>).find((o) => ((o.Export as JsonObject).Name as JsonObject)['Fn::Sub'] === exportNamePattern(exportKey));
  const [fn] = (output?.Value as JsonObject)['Fn::GetAtt'] as [string, string];
  return resources(compute)[fn].Properties?.Timeout;
};

describe('TapStack schema migration', () => {
  const migration = res[SCHEMA_MIGRATION];

  test('GIVEN the migration WHEN built THEN the migration function serves it with the SSM parameter names, the database name and the files’ hash', () => {
    expect(migration.Type).toBe('Custom::SchemaMigration');
    expect(migration.Properties).toEqual({
      ServiceToken: getAtt('ComputeStack', 'MigrationFunctionArn'),
      ServiceTimeout: 300,
      WriterEndpointParameter: { 'Fn::Sub': '/tap/${EnvironmentSuffix}/db/writer-endpoint' },
      PortParameter: { 'Fn::Sub': '/tap/${EnvironmentSuffix}/db/port' },
      SecretArnParameter: { 'Fn::Sub': '/tap/${EnvironmentSuffix}/db/secret-arn' },
      DatabaseName: DATABASE_NAME,
      MigrationsHash: migrationsHash(readMigrationFiles()),
    });
    expect(migration.Properties?.MigrationsHash).toMatch(/^[a-f0-9]{64}$/);
  });

  test('GIVEN the migration WHEN ordered THEN it waits for DatabaseStack and the endpoints the function reads settings through, and for ComputeStack through its ServiceToken', () => {
    expect(migration.DependsOn).toEqual(['DatabaseStack', 'EndpointsStack']);
    expect(rootEdges.get(SCHEMA_MIGRATION)).toEqual(new Set(['DatabaseStack', 'EndpointsStack', 'ComputeStack']));
  });

  test('GIVEN the migration function WHEN compared THEN CloudFormation waits exactly as long as the function may run', () => {
    expect(computeFunctionTimeout(Exports.compute.migrationFunctionArn)).toBe((migration.Properties as JsonObject).ServiceTimeout);
  });
});

describe('TapStack cross-region prerequisites (primary only)', () => {
  const wait = res[REGION_PREREQUISITES];

  test('GIVEN the wait WHEN built THEN it checks the secondary\'s replica bucket and both replica keys by their aliases, within a bounded wait', () => {
    expect(wait.Properties).toEqual({
      ServiceToken: getAtt('ComputeStack', 'PrerequisitesFunctionArn'),
      ServiceTimeout: PREREQUISITES_SERVICE_TIMEOUT_SECONDS,
      Region: { Ref: 'SecondaryRegion' },
      Bucket: { 'Fn::Sub': 'audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${SecondaryRegion}' },
      Keys: {
        AuditReplicaKeyArn: { 'Fn::Sub': 'alias/tap-audit-logs-${EnvironmentSuffix}' },
        SessionReplicaKeyArn: { 'Fn::Sub': 'alias/tap-sessions-${EnvironmentSuffix}' },
      },
      MaxWaitSeconds: PREREQUISITES_MAX_WAIT_SECONDS,
    });
    expect(PREREQUISITES_MAX_WAIT_SECONDS).toBeLessThan(PREREQUISITES_SERVICE_TIMEOUT_SECONDS);
    expect(computeFunctionTimeout(Exports.compute.prerequisitesFunctionArn)).toBe((wait.Properties as JsonObject).ServiceTimeout);
  });

  test('GIVEN StorageStack WHEN wired THEN in the primary its replica keys are the ARNs the wait found (so it waits for the wait), in the secondary empty', () => {
    const passed = res.StorageStack.Properties?.Parameters as JsonObject;
    expect(passed.AuditReplicaKeyArn).toEqual({ 'Fn::If': ['IsPrimaryRegion', { 'Fn::GetAtt': [REGION_PREREQUISITES, 'AuditReplicaKeyArn'] }, ''] });
    expect(passed.SessionReplicaKeyArn).toEqual({ 'Fn::If': ['IsPrimaryRegion', { 'Fn::GetAtt': [REGION_PREREQUISITES, 'SessionReplicaKeyArn'] }, ''] });
    expect(ancestors('StorageStack').has(REGION_PREREQUISITES)).toBe(true);
  });

  test('GIVEN the secondary\'s StorageStack WHEN read THEN it creates what the wait looks for: the versioned audit bucket and the two aliased keys', () => {
    const storage = resources(all.get('StorageStack') as JsonObject);
    const aliases = Object.values(storage).filter((r) => r.Type === 'AWS::KMS::Alias').map((r) => (r.Properties?.AliasName as JsonObject)['Fn::Sub']);
    expect(aliases).toEqual(expect.arrayContaining(Object.values((wait.Properties?.Keys ?? {}) as Record<string, JsonObject>).map((k) => k['Fn::Sub'])));
    expect(storage.AuditBucket.Condition).toBeUndefined();
    expect(storage.AuditBucket.Properties?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });
});

describe('TapStack deployment gate', () => {
  const gate = res[DEPLOYMENT_GATE];
  const gateProps = gate.Properties as JsonObject;

  test('GIVEN the gate WHEN built THEN it watches the deployment-health alarm and its members here, the other region\'s deployment-health alarm, for BakeMinutes, and waits for the other region\'s gate of the same StackSet', () => {
    expect(gate.Type).toBe('Custom::DeploymentGate');
    expect(gateProps).toEqual({
      ServiceToken: getAtt('ComputeStack', 'GateFunctionArn'),
      ServiceTimeout: GATE_SERVICE_TIMEOUT_SECONDS,
      AlarmNames: { 'Fn::Split': [',', getAtt('MonitoringStack', 'GatedAlarmNames')] },
      BakeMinutes: { Ref: 'BakeMinutes' },
      MetricPublishDelaySeconds: METRIC_PUBLISH_DELAY_SECONDS,
      PeerRegion: { 'Fn::If': ['IsPrimaryRegion', { Ref: 'SecondaryRegion' }, { Ref: 'PrimaryRegion' }] },
      PeerAlarmNames: [{ 'Fn::Sub': 'deployment-health-${EnvironmentSuffix}' }],
      PeerStackSetName: { 'Fn::Sub': 'tap-${EnvironmentSuffix}' },
      DnsHealthCheckId: { 'Fn::If': ['EnableDnsFailover', getAtt('DnsStack', 'HealthCheckId'), { Ref: 'AWS::NoValue' }] },
      [RELEASE_INPUTS_PROPERTY]: expect.any(Object),
    });
  });

  const releaseInputs = gateProps[RELEASE_INPUTS_PROPERTY] as { Templates: JsonObject; Parameters: JsonObject; MigrationsHash: string };

  test('GIVEN the release inputs WHEN read THEN they are every nested template but MonitoringStack\'s, by its content-addressed URL, and the migrations\' hash', () => {
    expect(Object.keys(releaseInputs.Templates).sort()).toEqual(nestedNames.filter((n) => n !== 'MonitoringStack').sort());
    for (const [name, url] of Object.entries(releaseInputs.Templates)) expect(url).toEqual(res[name].Properties?.TemplateURL);
    expect(releaseInputs.MigrationsHash).toBe(migrationsHash(readMigrationFiles()));
  });

  test('GIVEN the release inputs WHEN read THEN they name both images and every parameter a stack other than MonitoringStack takes, and no monitoring-only one', () => {
    const named = Object.keys(releaseInputs.Parameters);
    expect(named).toEqual(expect.arrayContaining(['PrimaryImageUri', 'SecondaryImageUri', 'VpcCidr', 'DbInstanceClass', 'ValidatorTimeoutSeconds', 'MaxTransactionAmount']));
    for (const p of named) expect(releaseInputs.Parameters[p]).toEqual({ Ref: p });
    const monitoringOnly = Object.keys(MonitoringParameters).filter((p) => nestedNames.filter((n) => n !== 'MonitoringStack').every((n) => !(p in ((all.get(n)?.Parameters ?? {}) as JsonObject))));
    expect(monitoringOnly.length).toBeGreaterThan(0);
    expect(named.filter((p) => monitoringOnly.includes(p) || p === 'BakeMinutes')).toEqual([]);
  });

  test('GIVEN the longest bake WHEN compared with the timeouts THEN the gate function and CloudFormation both wait past it, with a margin for the last poll and the answer', () => {
    const longestBakeSeconds = 10 * 60;
    expect(GATE_SERVICE_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(longestBakeSeconds + 120);
    expect(computeFunctionTimeout(Exports.compute.gateFunctionArn)).toBe(gateProps.ServiceTimeout);
  });

  test('GIVEN the gate WHEN ordered THEN every other nested stack and custom resource is its ancestor, so it runs last', () => {
    const ws = deploymentWaves(root);
    expect(ws[ws.length - 1]).toEqual([DEPLOYMENT_GATE]);
    expect([...ancestors(DEPLOYMENT_GATE)].sort()).toEqual(Object.keys(res).filter((id) => id !== DEPLOYMENT_GATE).sort());
    expect(asList(gate.DependsOn).sort()).toEqual(['ApiStack', 'DatabaseStack', 'EndpointsStack', 'NetworkStack', SCHEMA_MIGRATION, 'StorageStack']);
  });
});

describe('TapStack outputs', () => {
  test('GIVEN the outputs WHEN read THEN operators find the API, the DNS name, the writer endpoint parameter, the audit buckets and the alarm topic, and nothing is exported', () => {
    expect(outputs).toEqual({
      ApiEndpoint: expect.objectContaining({ Value: getAtt('ApiStack', 'HttpApiEndpoint') }),
      ApiDomainName: expect.objectContaining({ Condition: 'EnableDnsFailover', Value: getAtt('DnsStack', 'ApiDomainName') }),
      DbWriterEndpointParameter: expect.objectContaining({ Value: { 'Fn::Sub': '/tap/${EnvironmentSuffix}/db/writer-endpoint' } }),
      AuditBucketName: expect.objectContaining({ Value: getAtt('StorageStack', 'AuditBucketName') }),
      AuditReplicaBucketName: expect.objectContaining({ Condition: 'IsPrimaryRegion', Value: { 'Fn::Sub': 'audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${SecondaryRegion}' } }),
      AlarmTopicArn: expect.objectContaining({ Value: getAtt('MonitoringStack', 'AlarmTopicArn') }),
    });
    expect(Object.values(outputs).filter((o) => o.Export !== undefined)).toEqual([]);
  });
});

/** Values for every parameter without a Default, valid against its pattern. */
const REQUIRED_VALUES: Record<string, string> = {
  EnvironmentSuffix: 'pr-1234',
  PrimaryRegion: 'us-east-1',
  SecondaryRegion: 'eu-west-1',
  PrimaryImageUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/tap-pr-1234@sha256:${'c'.repeat(64)}`,
  SecondaryImageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/tap-pr-1234@sha256:${'d'.repeat(64)}`,
};

interface Scenario {
  readonly region: 'primary' | 'secondary';
  readonly dns: boolean;
  readonly environment: 'prod' | 'dev';
}
const scenarios: Scenario[] = (['primary', 'secondary'] as const).flatMap((region) =>
  [true, false].flatMap((dns) => (['prod', 'dev'] as const).map((environment) => ({ region, dns, environment }))),
);

/** The root and each nested template as deployed in one scenario (nested stacks get the root's values by name). */
function deploy(s: Scenario): { root: ReturnType<typeof render>; nested: Map<string, ReturnType<typeof render>> } {
  const values: Record<string, string> = {
    ...REQUIRED_VALUES,
    EnvironmentType: s.environment,
    HostedZoneId: s.dns ? 'Z0123456789ABCDEFGHIJ' : '',
    DomainName: s.dns ? 'api.example.com' : '',
    ...('DbReaderCount' in (root.Parameters as object) ? { DbReaderCount: '0' } : {}),
  };
  const region = s.region === 'primary' ? values.PrimaryRegion : values.SecondaryRegion;
  // What the root computes per region for its nested stacks (ROOT_COMPUTED_PARAMETERS).
  const key = (n: string): string => `arn:aws:kms:${values.SecondaryRegion}:123456789012:key/${n.repeat(8)}-1234-1234-1234-123456789012`;
  Object.assign(values, {
    ImageUri: s.region === 'primary' ? values.PrimaryImageUri : values.SecondaryImageUri,
    AuditReplicaKeyArn: s.region === 'primary' ? key('a') : '',
    SessionReplicaKeyArn: s.region === 'primary' ? key('b') : '',
  });
  const withValues = (t: JsonObject): Deployment => {
    const declared = Object.keys((t.Parameters ?? {}) as object);
    return { region, parameters: Object.fromEntries(Object.entries(values).filter(([k]) => declared.includes(k))) };
  };
  const rendered = render(root, withValues(root));
  parameterValues(root, withValues(root).parameters); // every value valid for its parameter
  const nested = new Map(Object.keys(rendered.resources).filter((id) => nestedNames.includes(id)).map((id) => {
    const t = all.get(id) as JsonObject;
    return [id, render(t, withValues(t))] as const;
  }));
  return { root: rendered, nested };
}

describe.each(scenarios)('TapStack deployed in the $region region, DNS $dns, $environment', (s) => {
  const d = deploy(s);
  const primary = s.region === 'primary';

  test('WHEN rendered THEN DnsStack and the DNS output exist exactly when DNS failover is on, the cross-region wait in the primary only, and everything else always', () => {
    const expected = nestedNames.filter((n) => n !== 'DnsStack' || s.dns);
    expect(Object.keys(d.root.resources).filter((id) => res[id].Type === 'AWS::CloudFormation::Stack').sort()).toEqual(expected.sort());
    expect(Object.keys(d.root.resources)).toEqual(expect.arrayContaining([SCHEMA_MIGRATION, DEPLOYMENT_GATE]));
    expect(REGION_PREREQUISITES in d.root.resources).toBe(primary);
    expect('ApiDomainName' in d.root.outputs).toBe(s.dns);
    expect('DnsHealthCheckId' in (d.root.resources[DEPLOYMENT_GATE].Properties as JsonObject)).toBe(s.dns);
  });

  test('WHEN rendered THEN every DependsOn, Ref and GetAtt in the root names a resource that exists in this deployment', () => {
    const present = new Set([...Object.keys(d.root.resources), ...Object.keys(root.Parameters as object)]);
    for (const [id, r] of Object.entries(d.root.resources)) {
      const targets = [...asList((r as unknown as Resource).DependsOn), ...referencedIds(r.Properties as Json)].filter((x) => !x.startsWith('AWS::'));
      expect({ id, missing: targets.filter((x) => !present.has(x)) }).toEqual({ id, missing: [] });
    }
    expect(deploymentWaves({ Resources: d.root.resources } as JsonObject).pop()).toEqual([DEPLOYMENT_GATE]);
  });

  test('WHEN rendered THEN audit replication and its role exist only in the primary region, and only the primary names the replica bucket', () => {
    const storage = d.nested.get('StorageStack');
    expect('ReplicationRole' in (storage?.resources ?? {})).toBe(primary);
    expect('ReplicationConfiguration' in (storage?.resources.AuditBucket.Properties as JsonObject)).toBe(primary);
    expect('AuditReplicaBucketName' in d.root.outputs).toBe(primary);
  });

  test('WHEN rendered THEN the failover record, if any, is PRIMARY in the primary region and SECONDARY in the other', () => {
    const record = d.nested.get('DnsStack')?.resources.FailoverRecord?.Properties as JsonObject | undefined;
    expect(record?.Failover).toBe(s.dns ? (primary ? 'PRIMARY' : 'SECONDARY') : undefined);
  });

  test('WHEN rendered THEN the session global table exists only in the primary region and prod keeps an Aurora reader', () => {
    const ofType = (stack: string, type: string): string[] => Object.entries(d.nested.get(stack)?.resources ?? {}).filter(([, r]) => r.Type === type).map(([id]) => id);
    expect(ofType('StorageStack', 'AWS::DynamoDB::GlobalTable')).toHaveLength(primary ? 1 : 0);
    // DbReaderCount is 0 in every scenario: prod still keeps a reader, dev runs the writer alone.
    expect(ofType('DatabaseStack', 'AWS::RDS::DBInstance')).toHaveLength(s.environment === 'prod' ? 2 : 1);
  });

  test('WHEN rendered THEN the image ComputeStack runs is this region\'s, and StorageStack gets replica keys in the primary only', () => {
    const params = (id: string): JsonObject => (d.root.resources[id].Properties as JsonObject).Parameters as JsonObject;
    expect(params('ComputeStack').ImageUri).toEqual({ Ref: primary ? 'PrimaryImageUri' : 'SecondaryImageUri' });
    expect(params('StorageStack').AuditReplicaKeyArn).toEqual(primary ? { 'Fn::GetAtt': [REGION_PREREQUISITES, 'AuditReplicaKeyArn'] } : '');
  });
});
