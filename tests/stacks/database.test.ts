import { execFileSync } from 'child_process';
/**
 * DatabaseStack.json: the cluster, its credentials, instances, logs, deletion
 * policies, run-time endpoints and exports, one describe per concern.
 */
import { template, templates, hasResourceProperties, propertiesOf, resources, resourcesOfType, onlyResource, findValues, Resource } from '../support/assertions';
import { render, Deployment } from '../support/conditions';
import {
  INSTANCE_CLASSES,
  Ids,
  LOG_EXPORTS,
} from '../../cfn/stacks/database/settings';
import { windowsOverlap } from '../../cfn/lib/windows';
import { DATABASE_NAME, Exports, Names, SsmPaths } from '../../cfn/contract/names';
import { PRIMARY_REGION, SECONDARY_REGION } from '../../cfn/contract/regions';
import { GUARD_SUPPRESSIONS_KEY, JsonObject } from '../../cfn/lib/template';
import { factsFor } from '../../tools/validate/spec';

const t = template('DatabaseStack');
const res = resources(t);
const params = t.Parameters as Record<string, JsonObject>;
const outputs = t.Outputs as Record<string, JsonObject>;
const props = (id: string): JsonObject => propertiesOf(t, id);
const [clusterId, cluster] = onlyResource(t, 'AWS::RDS::DBCluster');
const clusterProps = cluster.Properties ?? {};
const instanceIds = [Ids.writer, ...Ids.readers];
const KEY_ARN = { 'Fn::GetAtt': [Ids.key, 'Arn'] };

const deployment = (region: string, parameters: Record<string, string | number> = {}): Deployment => ({
  region,
  parameters: { EnvironmentSuffix: 'test', ...parameters },
});
const primary = (parameters: Record<string, string | number> = {}): Deployment => deployment(PRIMARY_REGION, parameters);
const existing = (d: Deployment): string[] => Object.keys(render(t, d).resources);

describe('Aurora MySQL cluster, Multi-AZ', () => {
  test('GIVEN the cluster WHEN built THEN it is aurora-mysql at the version of a parameter offering only current 3.x releases', () => {
    expect(clusterProps).toMatchObject({ Engine: 'aurora-mysql', EngineVersion: { Ref: 'DbEngineVersion' }, DatabaseName: DATABASE_NAME });
    const allowed = params.DbEngineVersion.AllowedValues as string[];
    for (const v of allowed) expect(v).toMatch(/^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$/);
    expect(allowed).toContain(params.DbEngineVersion.Default);
  });

  test("GIVEN the pinned cfn-lint's RDS data WHEN compared THEN every offered version is current, each the newest patch of its minor, and the newest release is offered", () => {
    // cfn-lint ships AWS's engine-version lists (current and deprecated); requirements-dev.txt pins it.
    const script = [
      'import json, os, re, cfnlint',
      "d = os.path.join(os.path.dirname(cfnlint.__file__), 'data/schemas/extensions/aws_rds_dbcluster')",
      "find = lambda f: sorted(set(re.findall(r'8[.]0[.]mysql_aurora[.]3[.][0-9]+[.][0-9]+(?:[.][0-9]+)?', open(os.path.join(d, f)).read())))",
      "print(json.dumps({'all': find('engine_version.json'), 'deprecated': find('engine_version_deprecated.json')}))",
    ].join('\n');
    const data = JSON.parse(execFileSync('python3', ['-c', script], { encoding: 'utf8' })) as { all: string[]; deprecated: string[] };
    const current = data.all.filter((v) => !data.deprecated.includes(v));
    const minorOf = (v: string): string => v.split('.').slice(0, 5).join('.');
    const newestOfMinor = (minor: string): string => current.filter((v) => minorOf(v) === minor).sort().pop() as string;
    expect(current.length).toBeGreaterThan(0);
    const offered = params.DbEngineVersion.AllowedValues as string[];
    for (const v of offered) {
      expect(current).toContain(v);
      expect(newestOfMinor(minorOf(v))).toBe(v);
    }
    expect(offered).toContain([...current].sort().pop());
    expect(params.DbEngineVersion.Default).toBe([...current].sort().pop());
  });

  test('GIVEN the cluster WHEN built THEN its identifier is the derivable aurora-cluster-<suffix>', () => {
    expect(clusterProps.DBClusterIdentifier).toEqual({ 'Fn::Sub': `${Names.auroraCluster}-\${EnvironmentSuffix}` });
  });

  test("GIVEN the DB subnet group WHEN built THEN it holds NetworkStack's three private subnets, imported", () => {
    const subnetGroup = hasResourceProperties(t, 'AWS::RDS::DBSubnetGroup', {
      SubnetIds: [1, 2, 3].map((i) => ({ 'Fn::ImportValue': { 'Fn::Sub': `tap-\${EnvironmentSuffix}-PrivateSubnet${i}Id` } })),
    });
    expect(clusterProps.DBSubnetGroupName).toEqual({ Ref: subnetGroup });
    expect(clusterProps.VpcSecurityGroupIds).toEqual([{ 'Fn::ImportValue': { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${Exports.network.databaseSecurityGroupId}` } }]);
  });

  test.each(instanceIds.map((id, i) => [id, i]))('GIVEN instance %s WHEN built THEN it joins the cluster with the class parameter in AZ %i of Fn::GetAZs', (id, i) => {
    expect(props(id)).toMatchObject({
      DBClusterIdentifier: { Ref: clusterId },
      Engine: 'aurora-mysql',
      DBInstanceClass: { Ref: 'DbInstanceClass' },
      AvailabilityZone: { 'Fn::Select': [i, { 'Fn::GetAZs': '' }] },
      PubliclyAccessible: false,
    });
  });

  test('GIVEN the instance class parameter WHEN read THEN it offers exactly the classes the stack knows facts for', () => {
    expect(params.DbInstanceClass.AllowedValues).toEqual(Object.keys(INSTANCE_CLASSES));
    expect(Object.keys(INSTANCE_CLASSES)).toContain(params.DbInstanceClass.Default);
  });

  test.each([
    ['prod', 0, [Ids.writer, Ids.readers[0]]],
    ['prod', 1, [Ids.writer, Ids.readers[0]]],
    ['prod', 2, [Ids.writer, ...Ids.readers]],
    ['staging', 0, [Ids.writer]],
    ['dev', 0, [Ids.writer]],
    ['dev', 1, [Ids.writer, Ids.readers[0]]],
    ['dev', 2, [Ids.writer, ...Ids.readers]],
  ])('GIVEN EnvironmentType %s and DbReaderCount %i WHEN deployed THEN the instances are %j (prod keeps a reader)', (type, count, expected) => {
    for (const d of [primary({ EnvironmentType: type, DbReaderCount: count }), deployment(SECONDARY_REGION, { EnvironmentType: type, DbReaderCount: count })]) {
      expect(existing(d).filter((id) => res[id].Type === 'AWS::RDS::DBInstance').sort()).toEqual([...expected].sort());
    }
  });
});

describe('Credentials in Secrets Manager, never in parameters', () => {
  const secret = props(Ids.secret);
  const generate = secret.GenerateSecretString as JsonObject;

  test('GIVEN the secret WHEN built THEN Secrets Manager generates a long password beside the fixed username, under the stack key', () => {
    expect(secret.Name).toEqual({ 'Fn::Sub': `${Names.dbSecret}-\${EnvironmentSuffix}` });
    expect(secret.KmsKeyId).toEqual(KEY_ARN);
    expect(JSON.parse(generate.SecretStringTemplate as string)).toEqual({ username: 'tapadmin' });
    expect(generate.GenerateStringKey).toBe('password');
    expect(generate.PasswordLength).toBeGreaterThanOrEqual(32);
    expect(secret.SecretString).toBeUndefined();
  });

  test.each([...'"\'@/\\ :;?#%&=+,$`'].map((c) => [c]))('GIVEN the password WHEN generated THEN it never contains %j (breaks MySQL clients, DSNs or URLs)', (c) => {
    expect(String(generate.ExcludeCharacters)).toContain(c);
  });

  test.each([
    ['MasterUsername', 'username'],
    ['MasterUserPassword', 'password'],
  ])('GIVEN the cluster WHEN built THEN %s is a dynamic reference to the secret key %s', (property, field) => {
    expect(clusterProps[property]).toEqual({ 'Fn::Sub': `{{resolve:secretsmanager:\${${Ids.secret}}:SecretString:${field}}}` });
  });

  test.each(['DatabaseStack', 'TapStack'])('GIVEN %s WHEN its parameters are read THEN none carries a password (name, description, NoEcho)', (name) => {
    const declared = Object.entries((template(name).Parameters ?? {}) as Record<string, JsonObject>);
    expect(declared.length).toBeGreaterThan(0);
    for (const [id, def] of declared) {
      expect({ id, mentions: /pass(word|wd)?\b|pwd/i.test(`${id} ${String(def.Description)}`) }).toEqual({ id, mentions: false });
      expect({ id, NoEcho: def.NoEcho }).toEqual({ id, NoEcho: undefined });
    }
  });

  test('GIVEN the template WHEN searched THEN no literal password-like property holds a plain string', () => {
    const plain = findValues(t, (v, path) => /Password$/.test(path) && typeof v === 'string');
    expect(plain).toEqual([]);
  });

  test('GIVEN the secret and the cluster WHEN built THEN a target attachment links them (host and port join the secret)', () => {
    hasResourceProperties(t, 'AWS::SecretsManager::SecretTargetAttachment', { SecretId: { Ref: Ids.secret }, TargetId: { Ref: clusterId }, TargetType: 'AWS::RDS::DBCluster' });
  });

  test.each([
    ['no rotation function (the default)', false, {}],
    ['a rotation function name', true, { RotationFunctionName: 'SecretsManagerRDSMySQLRotationSingleUser' }],
  ])('GIVEN %s WHEN deployed THEN the rotation schedule exists: %s', (_what, exists, given) => {
    expect(existing(primary(given)).includes(Ids.rotation)).toBe(exists);
  });

  test('GIVEN the rotation schedule WHEN built THEN it rotates the attached secret every 30 days with the function of that name in this region', () => {
    expect(res[Ids.rotation].Condition).toBe('EnableSecretRotation');
    expect(props(Ids.rotation)).toEqual({
      SecretId: { Ref: Ids.secretAttachment },
      RotationLambdaARN: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${RotationFunctionName}' },
      RotationRules: { AutomaticallyAfterDays: 30 },
    });
  });

  test.each([
    ['', true],
    ['rotate-db', true],
    ['SecretsManagerRDSMySQLRotationSingleUser:live', true],
    ['arn:aws:lambda:eu-west-1:123456789012:function:rotate-db', false],
    ['rotate db', false],
  ])('GIVEN RotationFunctionName %j WHEN validated THEN the pattern accepts it: %s (a name serves both regions; an ARN names one)', (value, ok) => {
    expect(new RegExp(params.RotationFunctionName.AllowedPattern as string).test(value)).toBe(ok);
  });
});

describe('Data protection and observability: encryption, TLS, IAM authentication, backups, logs, monitoring', () => {
  test('GIVEN the cluster WHEN built THEN storage is encrypted with the stack key, IAM auth is on, backups keep 30 days and snapshots copy tags', () => {
    expect(clusterProps).toMatchObject({
      StorageEncrypted: true,
      KmsKeyId: KEY_ARN,
      EnableIAMDatabaseAuthentication: true,
      BackupRetentionPeriod: 30,
      CopyTagsToSnapshot: true,
    });
  });

  test('GIVEN the stack key WHEN built THEN it rotates and grants services nothing without a condition', () => {
    const key = props(Ids.key);
    expect(key.EnableKeyRotation).toBe(true);
    const statements = (key.KeyPolicy as JsonObject).Statement as JsonObject[];
    for (const s of statements) {
      const principal = s.Principal as JsonObject;
      expect(principal).not.toBe('*');
      if (principal.Service !== undefined) expect(s.Condition).toBeDefined();
    }
    expect(props(`${Ids.key}Alias`).AliasName).toEqual({ 'Fn::Sub': `alias/${Names.databaseKeyAlias}-\${EnvironmentSuffix}` });
  });

  test('GIVEN the cluster parameter group WHEN built THEN TLS is required and the server audit log is on', () => {
    const group = hasResourceProperties(t, 'AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-mysql8.0',
      Parameters: { require_secure_transport: 'ON', server_audit_logging: '1' },
    });
    expect(clusterProps.DBClusterParameterGroupName).toEqual({ Ref: group });
  });

  test('GIVEN the instance parameter group WHEN built THEN the slow query log is on and every instance uses it', () => {
    const group = hasResourceProperties(t, 'AWS::RDS::DBParameterGroup', { Family: 'aurora-mysql8.0', Parameters: { slow_query_log: '1' } });
    for (const id of instanceIds) expect(props(id).DBParameterGroupName).toEqual({ Ref: group });
  });

  test('GIVEN the cluster WHEN built THEN it exports the error, slowquery and audit logs', () => {
    expect([...(clusterProps.EnableCloudwatchLogsExports as string[])].sort()).toEqual(['audit', 'error', 'slowquery']);
  });

  test.each(LOG_EXPORTS.map((type) => [type]))('GIVEN the %s log WHEN exported THEN its log group exists first, KMS-encrypted, with retention', (type) => {
    const group = hasResourceProperties(t, 'AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Sub': `/aws/rds/cluster/${Names.auroraCluster}-\${EnvironmentSuffix}/${type}` },
      KmsKeyId: KEY_ARN,
      RetentionInDays: { Ref: 'LogRetentionDays' },
    });
    expect(cluster.DependsOn).toContain(group);
  });

  test.each(Object.entries(INSTANCE_CLASSES).map(([c, f]) => [c, f.performanceInsights]))(
    'GIVEN instance class %s WHEN deployed THEN Performance Insights is enabled: %s',
    (instanceClass, supported) => {
      const rendered = render(t, primary({ DbInstanceClass: instanceClass, EnvironmentType: 'prod' }));
      for (const id of [Ids.writer, Ids.readers[0]]) {
        const p = rendered.resources[id].Properties as JsonObject;
        expect(p.EnablePerformanceInsights).toBe(supported);
        expect(p.PerformanceInsightsKMSKeyId).toEqual(supported ? KEY_ARN : undefined);
      }
    },
  );

  test('GIVEN every instance WHEN built THEN enhanced monitoring uses a role without a fixed name', () => {
    const [roleId, role] = onlyResource(t, 'AWS::IAM::Role');
    expect(role.Properties?.RoleName).toBeUndefined();
    for (const id of instanceIds) expect(props(id)).toMatchObject({ MonitoringInterval: 60, MonitoringRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } });
  });

  test('GIVEN the backup and maintenance windows WHEN compared THEN they do not overlap', () => {
    expect(windowsOverlap(String(clusterProps.PreferredBackupWindow), String(clusterProps.PreferredMaintenanceWindow))).toBe(false);
  });

});

describe('Teardown: final snapshot on delete or replacement', () => {
  test('GIVEN the cluster WHEN deleted or replaced THEN a final snapshot is taken and deletion protection is off', () => {
    expect(cluster).toMatchObject({ DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
    expect(clusterProps.DeletionProtection).toBe(false);
  });

  test('GIVEN the Control Tower deletion-protection rule WHEN suppressed THEN only on the cluster, with the requirement as reason', () => {
    const suppressions = findValues(t, (_v, path) => path.endsWith(`/Metadata/${GUARD_SUPPRESSIONS_KEY}/rds_cluster_deletion_protection_enabled_check`));
    expect(suppressions.map((s) => s.path)).toEqual([`/Resources/${clusterId}/Metadata/${GUARD_SUPPRESSIONS_KEY}/rds_cluster_deletion_protection_enabled_check`]);
    const reason = (cluster.Metadata?.[GUARD_SUPPRESSIONS_KEY] as JsonObject).rds_cluster_deletion_protection_enabled_check;
    expect(reason).toMatch(/^Teardown requirement: DeletionProtection must be false/);
  });

  test.each(instanceIds.map((id) => [id]))('GIVEN instance %s WHEN deleted THEN its policies are Delete, explicitly', (id) => {
    expect(res[id]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('GIVEN every other resource WHEN deleted THEN nothing but the cluster is kept, and every stateful one says Delete', () => {
    const others = Object.entries(res).filter(([id]) => id !== clusterId);
    for (const [id, r] of others) {
      const stateful = factsFor(r.Type)?.stateful ?? false;
      const policies = { id, DeletionPolicy: r.DeletionPolicy, UpdateReplacePolicy: r.UpdateReplacePolicy };
      if (stateful) expect(policies).toEqual({ id, DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      else expect([undefined, 'Delete']).toContain(r.DeletionPolicy);
    }
  });
});

describe('Endpoints for run time in SSM', () => {
  test.each([
    ['writerEndpoint', { 'Fn::GetAtt': [Ids.cluster, 'Endpoint.Address'] }],
    ['readerEndpoint', { 'Fn::GetAtt': [Ids.cluster, 'ReadEndpoint.Address'] }],
    ['port', { 'Fn::GetAtt': [Ids.cluster, 'Endpoint.Port'] }],
    ['secretArn', { Ref: Ids.secretAttachment }],
  ] as const)('GIVEN SSM path %s WHEN built THEN a String parameter under /tap/<suffix>/db/ holds it', (key, value) => {
    const path = SsmPaths[key];
    expect(path.startsWith('/tap/${EnvironmentSuffix}/db/')).toBe(true);
    hasResourceProperties(t, 'AWS::SSM::Parameter', { Name: { 'Fn::Sub': path }, Type: 'String', Value: value });
  });

  test('GIVEN the SSM parameters WHEN counted THEN there are exactly the four, tagged as a map', () => {
    const ssm = Object.values(resourcesOfType(t, 'AWS::SSM::Parameter'));
    expect(ssm).toHaveLength(4);
    for (const p of ssm) expect(Object.keys(p.Properties?.Tags as JsonObject).sort()).toEqual(['CostCenter', 'Environment', 'EnvironmentType', 'Project']);
  });
});

describe('Exports and imports', () => {
  const exported = Object.values(outputs).map((o) => ((o.Export as JsonObject | undefined)?.Name as JsonObject | undefined)?.['Fn::Sub']);

  test.each(Object.entries(Exports.database))('GIVEN export key %s WHEN built THEN tap-<suffix>-%s is exported, unconditionally', (_key, name) => {
    expect(exported).toContain(`tap-\${EnvironmentSuffix}-${name}`);
    for (const o of Object.values(outputs)) expect(o.Condition).toBeUndefined();
  });

  test('GIVEN the exports WHEN counted THEN they are exactly the database keys', () => {
    expect(exported.sort()).toEqual(Object.values(Exports.database).map((n) => `tap-\${EnvironmentSuffix}-${n}`).sort());
  });

  test('GIVEN every Fn::ImportValue WHEN read THEN it names a NetworkStack export', () => {
    const imports = findValues(t, (_v, path) => path.endsWith('/Fn::ImportValue')).map(({ value }) => (value as JsonObject)['Fn::Sub']);
    const network = Object.values(Exports.network).map((n) => `tap-\${EnvironmentSuffix}-${n}`);
    expect(imports.length).toBeGreaterThan(0);
    for (const name of imports) expect(network).toContain(name);
  });

  test('GIVEN the root WHEN wired THEN DatabaseStack waits for NetworkStack and receives every parameter it declares by Ref', () => {
    const root = resources(templates().get('TapStack') ?? {})['DatabaseStack'] as Resource;
    expect([root.DependsOn].flat()).toContain('NetworkStack');
    const passed = root.Properties?.Parameters as JsonObject;
    expect(Object.keys(passed).sort()).toEqual(Object.keys(params).sort());
    for (const id of Object.keys(params)) expect(passed[id]).toEqual({ Ref: id });
  });
});
