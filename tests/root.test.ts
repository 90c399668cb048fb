import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
/**
 * TapStack.json: nested-stack wiring, parameters and conditions, the schema
 * migration and the deployment gate, and the cross-template properties of the
 * whole set (waves, no cycle, nothing unused, nothing obsolete).
 */
import { templates, template, resources, Resource, findValues } from './support/template';
import { render, parameterValues, Deployment } from './support/conditions';
import {
  NESTED_STACK_DEPENDENCIES,
  NESTED_STACK_TIMEOUTS,
  NESTED_STACK_CONDITIONS,
  SCHEMA_MIGRATION,
  DEPLOYMENT_GATE,
  GATE_SERVICE_TIMEOUT_SECONDS,
  MIGRATION_SERVICE_TIMEOUT_SECONDS,
  RootParameters,
  parameterLabel,
  ROOT_TEMPLATE_HASH_PROPERTY,
  withRootTemplateHash,
} from '../cfn/root';
import { NESTED_STACKS, ROOT_TEMPLATE_NAME } from '../cfn/stacks';
import { ancestors as ancestorsIn, deploymentWaves, referencedIds, resourceGraph, waves } from '../cfn/lib/graph';
import { migrationsHash, readMigrationFiles } from '../cfn/lib/migrations';
import { DATABASE_NAME, Exports, exportNamePattern } from '../cfn/lib/names';
import { TAG_KEYS } from '../cfn/lib/tags';
import { Json, JsonObject, renderTemplate } from '../cfn/lib/template';
import { validateCrossStack } from '../cfn/validate/validateCrossStack';

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
  test('GIVEN synth WHEN the deployment waves are derived THEN they read network and storage; compute and database; DNS, monitoring and migration; the gate', () => {
    expect(deploymentWaves(root)).toEqual([
      ['NetworkStack', 'StorageStack'],
      ['ComputeStack', 'DatabaseStack'],
      ['DnsStack', 'MonitoringStack', SCHEMA_MIGRATION],
      [DEPLOYMENT_GATE],
    ]);
  });

  test.each(nestedNames.map((n) => [n]))('GIVEN nested stack %s WHEN wired THEN it waits for exactly its table entry, has a timeout, tags and its template URL parameter', (name) => {
    const stack = res[name];
    expect(stack).toMatchObject({ Type: 'AWS::CloudFormation::Stack', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(asList(stack.DependsOn).sort()).toEqual([...NESTED_STACK_DEPENDENCIES[name]].sort());
    expect(stack.Condition).toBe(NESTED_STACK_CONDITIONS[name]);
    expect(stack.Properties?.TimeoutInMinutes).toBe(NESTED_STACK_TIMEOUTS[name]);
    expect(stack.Properties?.TemplateURL).toEqual({ Ref: `${name}TemplateUrl` });
    expect((stack.Properties?.Tags as Array<{ Key: string }>).map((t) => t.Key)).toEqual(expect.arrayContaining([...TAG_KEYS]));
  });

  test.each(nestedNames.map((n) => [n]))('GIVEN nested stack %s WHEN wired THEN the root declares each of its parameters identically and passes it by Ref', (name) => {
    const nestedParams = (all.get(name)?.Parameters ?? {}) as JsonObject;
    const rootParams = root.Parameters as JsonObject;
    for (const [id, def] of Object.entries(nestedParams)) expect({ id, def: rootParams[id] }).toEqual({ id, def });
    expect(res[name].Properties?.Parameters).toEqual(Object.fromEntries(Object.keys(nestedParams).map((id) => [id, { Ref: id }])));
  });

  test('GIVEN ComputeStack WHEN its ancestors are listed THEN DatabaseStack is not among them (the two deploy in parallel)', () => {
    expect([...ancestors('ComputeStack')].filter((a) => nestedNames.includes(a))).toEqual(['NetworkStack']);
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
    expect(importEdges.get('DnsStack')).toEqual(new Set(['ComputeStack']));
    expect(importEdges.get('ComputeStack')).toEqual(new Set(['NetworkStack']));
  });

  test('GIVEN the cross-stack validator WHEN run over the templates THEN it finds nothing (parameters, outputs, imports, cycles)', () => {
    expect(validateCrossStack(all, ROOT_TEMPLATE_NAME)).toEqual([]);
  });

  test.each([...all.keys()].map((n) => [n]))('GIVEN %s WHEN DependsOn is read THEN none is implied already by a Ref or GetAtt (cfn-lint W3005)', (name) => {
    for (const [id, r] of Object.entries(resources(all.get(name) as JsonObject))) {
      const refs = referencedIds(r.Properties as Json);
      expect({ id, obsolete: asList(r.DependsOn).filter((d) => refs.has(d)) }).toEqual({ id, obsolete: [] });
    }
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

  test.each([...all.keys()].map((n) => [n]))('GIVEN %s WHEN read THEN every parameter and every condition is used (cfn-lint W2001, W8001)', (name) => {
    const t = all.get(name) as JsonObject;
    const used = referencedIds({ Resources: t.Resources ?? {}, Outputs: t.Outputs ?? {}, Conditions: t.Conditions ?? {} } as Json);
    expect(Object.keys((t.Parameters ?? {}) as object).filter((p) => !used.has(p))).toEqual([]);
    const conditionUses = new Set([
      ...findValues(t, (_v, path) => /^\/(Resources|Outputs)\/[^/]+\/Condition$/.test(path) || /\/Condition$/.test(path)).map(({ value }) => value as string),
      ...findValues(t, (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as JsonObject)['Fn::If'])).map(
        ({ value }) => ((value as JsonObject)['Fn::If'] as Json[])[0] as string,
      ),
    ]);
    expect(Object.keys((t.Conditions ?? {}) as object).filter((c) => !conditionUses.has(c))).toEqual([]);
  });
});

describe('TapStack parameters and conditions', () => {
  const params = root.Parameters as Record<string, JsonObject>;

  test('GIVEN the root-only parameters WHEN declared THEN the bake is 0-10 minutes (default 3) and the stamp is a SHA-256 hex digest', () => {
    expect(params.BakeMinutes).toMatchObject({ Type: 'Number', MinValue: 0, MaxValue: 10, Default: 3 });
    expect(params.DeploymentStamp).toMatchObject({ Type: 'String', AllowedPattern: '^[a-f0-9]{64}$' });
    expect(params.DeploymentStamp.Default).toBeUndefined();
    const stamp = new RegExp(RootParameters.DeploymentStamp.AllowedPattern);
    expect(['a'.repeat(64), 'A'.repeat(64), 'a'.repeat(63), `${'a'.repeat(64)}0`].map((s) => stamp.test(s))).toEqual([true, false, false, false]);
  });

  test.each(['ImageUri', 'HostedZoneId', 'DomainName', 'EnvironmentSuffix', 'EnvironmentType', 'PrimaryRegion', 'SecondaryRegion', 'BakeMinutes', 'DeploymentStamp'])(
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
    ['NetworkStackTemplateUrl', 'Network stack template URL'],
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

  test('GIVEN the migration WHEN ordered THEN it waits for DatabaseStack explicitly and for ComputeStack through its ServiceToken', () => {
    expect(migration.DependsOn).toBe('DatabaseStack');
    expect(rootEdges.get(SCHEMA_MIGRATION)).toEqual(new Set(['DatabaseStack', 'ComputeStack']));
  });

  test('GIVEN the migration function WHEN compared THEN CloudFormation waits exactly as long as the function may run', () => {
    expect(computeFunctionTimeout(Exports.compute.migrationFunctionArn)).toBe(MIGRATION_SERVICE_TIMEOUT_SECONDS);
  });
});

describe('TapStack deployment gate', () => {
  const gate = res[DEPLOYMENT_GATE];

  test('GIVEN the gate WHEN built THEN the gate function watches the deployment-health alarm and its members for BakeMinutes and re-runs on every DeploymentStamp', () => {
    expect(gate.Type).toBe('Custom::DeploymentGate');
    expect(gate.Properties).toEqual({
      ServiceToken: getAtt('ComputeStack', 'GateFunctionArn'),
      ServiceTimeout: GATE_SERVICE_TIMEOUT_SECONDS,
      AlarmNames: { 'Fn::Split': [',', getAtt('MonitoringStack', 'GatedAlarmNames')] },
      BakeMinutes: { Ref: 'BakeMinutes' },
      DeploymentStamp: { Ref: 'DeploymentStamp' },
      DnsHealthCheckId: { 'Fn::If': ['EnableDnsFailover', getAtt('DnsStack', 'HealthCheckId'), { Ref: 'AWS::NoValue' }] },
      RootTemplateHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test('GIVEN the committed root WHEN its gate hash is recomputed THEN it is the SHA-256 of the root rendered with that property empty', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cfn', 'templates', `${ROOT_TEMPLATE_NAME}.json`), 'utf8')) as JsonObject;
    expect(committed).toEqual(root);
    const blank = JSON.parse(JSON.stringify(root)) as JsonObject;
    ((blank.Resources as Record<string, JsonObject>)[DEPLOYMENT_GATE].Properties as JsonObject)[ROOT_TEMPLATE_HASH_PROPERTY] = '';
    const expected = createHash('sha256').update(renderTemplate(blank)).digest('hex');
    expect((gate.Properties as JsonObject)[ROOT_TEMPLATE_HASH_PROPERTY]).toBe(expected);
    expect(withRootTemplateHash(root)).toEqual(root);
  });

  test.each([
    ['a nested-stack timeout', (t: JsonObject) => (((t.Resources as Record<string, JsonObject>).NetworkStack.Properties as JsonObject).TimeoutInMinutes = 16)],
    ['a parameter default', (t: JsonObject) => (((t.Parameters as Record<string, JsonObject>).BakeMinutes as JsonObject).Default = 4)],
    ['the description', (t: JsonObject) => (t.Description = 'changed')],
  ])('GIVEN a root whose %s changed WHEN hashed THEN the gate property changes, so the gate runs in the StackSet-level operation', (_what, change) => {
    const changed = JSON.parse(JSON.stringify(root)) as JsonObject;
    change(changed);
    const hashOf = (t: JsonObject): unknown => ((t.Resources as Record<string, JsonObject>)[DEPLOYMENT_GATE].Properties as JsonObject)[ROOT_TEMPLATE_HASH_PROPERTY];
    expect(hashOf(withRootTemplateHash(changed))).not.toEqual(hashOf(root));
  });

  test('GIVEN the longest bake WHEN compared with the timeouts THEN the gate function and CloudFormation both wait past it, with a margin for the last poll and the answer', () => {
    const longestBakeSeconds = RootParameters.BakeMinutes.MaxValue * 60;
    expect(GATE_SERVICE_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(longestBakeSeconds + 120);
    expect(computeFunctionTimeout(Exports.compute.gateFunctionArn)).toBe(GATE_SERVICE_TIMEOUT_SECONDS);
  });

  test('GIVEN the gate WHEN ordered THEN every other nested stack and custom resource is its ancestor, so it runs last', () => {
    const ws = deploymentWaves(root);
    expect(ws[ws.length - 1]).toEqual([DEPLOYMENT_GATE]);
    expect([...ancestors(DEPLOYMENT_GATE)].sort()).toEqual(Object.keys(res).filter((id) => id !== DEPLOYMENT_GATE).sort());
    expect(asList(gate.DependsOn).sort()).toEqual(['DatabaseStack', 'NetworkStack', SCHEMA_MIGRATION, 'StorageStack']);
  });
});

describe('TapStack outputs', () => {
  test('GIVEN the outputs WHEN read THEN operators find the API, the DNS name, the writer endpoint parameter, the audit buckets and the alarm topic, and nothing is exported', () => {
    expect(outputs).toEqual({
      ApiEndpoint: expect.objectContaining({ Value: getAtt('ComputeStack', 'HttpApiEndpoint') }),
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
  ImageUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/tap-pr-1234@sha256:${'c'.repeat(64)}`,
  DeploymentStamp: 'd'.repeat(64),
  ...Object.fromEntries(nestedNames.map((n) => [`${n}TemplateUrl`, `https://tap-templates.s3.us-east-1.amazonaws.com/${n}-${'e'.repeat(16)}.json`])),
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

  test('WHEN rendered THEN DnsStack and the DNS output exist exactly when DNS failover is on, and everything else always', () => {
    const expected = nestedNames.filter((n) => n !== 'DnsStack' || s.dns);
    expect(Object.keys(d.root.resources).filter((id) => res[id].Type === 'AWS::CloudFormation::Stack').sort()).toEqual(expected.sort());
    expect(Object.keys(d.root.resources)).toEqual(expect.arrayContaining([SCHEMA_MIGRATION, DEPLOYMENT_GATE]));
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
    const db = d.nested.get('DatabaseStack');
    const ofType = (type: string): string[] => Object.entries(db?.resources ?? {}).filter(([, r]) => r.Type === type).map(([id]) => id);
    expect(ofType('AWS::DynamoDB::GlobalTable')).toHaveLength(primary ? 1 : 0);
    // DbReaderCount is 0 in every scenario: prod still keeps a reader, dev runs the writer alone.
    expect(ofType('AWS::RDS::DBInstance')).toHaveLength(s.environment === 'prod' ? 2 : 1);
  });
});
