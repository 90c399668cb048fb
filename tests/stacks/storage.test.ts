import { template, hasResourceProperties, resources, resourcesOfType, matchesPartial, findValues } from '../support/assertions';
import { render, Deployment, Rendered } from '../support/conditions';
import { ACCESS_LOG_PREFIX, AUDIT_LIFECYCLE, StorageParameters } from '../../cfn/stacks/storage';
import { Exports, Names, exportNamePattern } from '../../cfn/contract/names';
import { Json, JsonObject } from '../../cfn/lib/template';

const t = template('StorageStack');
const res = resources(t);
const auditName = { 'Fn::Sub': 'audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}' };
const auditArn = 'arn:${AWS::Partition}:s3:::audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}';
const secondaryArn = 'arn:${AWS::Partition}:s3:::audit-logs-${EnvironmentSuffix}-${AWS::AccountId}-${SecondaryRegion}';

const deployment = (region: string): Deployment => ({ region, parameters: { PrimaryRegion: 'us-east-1', SecondaryRegion: 'eu-west-1', EnvironmentSuffix: 'test' } });
// The same template in both regions: replication exists only where AWS::Region equals PrimaryRegion.
const primary = render(t, deployment('us-east-1'));
const secondary = render(t, deployment('eu-west-1'));

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: Json; Condition?: JsonObject; Principal?: Json };
const statements = (doc: Json | undefined): Statement[] => ((doc as JsonObject).Statement ?? []) as unknown as Statement[];
const policyOf = (bucketId: string): Statement[] => {
  const [, policy] = Object.entries(resourcesOfType(t, 'AWS::S3::BucketPolicy')).find(([, p]) => matchesPartial(p.Properties?.Bucket, { Ref: bucketId })) ?? [];
  if (policy === undefined) throw new Error(`no bucket policy for ${bucketId}`);
  return statements(policy.Properties?.PolicyDocument);
};

describe('StorageStack audit bucket', () => {
  test('GIVEN the audit bucket WHEN built THEN its name carries suffix, account and region, and it is versioned and deleted with the stack', () => {
    hasResourceProperties(t, 'AWS::S3::Bucket', { BucketName: auditName, VersioningConfiguration: { Status: 'Enabled' } });
    expect(res.AuditBucket).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('GIVEN the audit bucket WHEN built THEN it is SSE-KMS with the stack key and an S3 Bucket Key', () => {
    hasResourceProperties(t, 'AWS::S3::Bucket', {
      BucketName: auditName,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['AuditKey', 'Arn'] } } }],
      },
    });
    hasResourceProperties(t, 'AWS::KMS::Key', { EnableKeyRotation: true });
    hasResourceProperties(t, 'AWS::KMS::Alias', { AliasName: { 'Fn::Sub': 'alias/tap-audit-logs-${EnvironmentSuffix}' }, TargetKeyId: { Ref: 'AuditKey' } });
  });

  test.each(['AuditBucket', 'AccessLogsBucket'])('GIVEN %s WHEN built THEN public access is blocked and ACLs are disabled', (id) => {
    expect(res[id].Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test.each(['AuditBucket', 'AccessLogsBucket'])('GIVEN the policy of %s WHEN read THEN every non-TLS request is denied on the bucket and its objects', (id) => {
    const deny = policyOf(id).find((s) => s.Effect === 'Deny' && matchesPartial(s.Condition, { Bool: { 'aws:SecureTransport': 'false' } }));
    expect(deny).toMatchObject({ Principal: '*', Action: 's3:*', Resource: [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/*']] }] });
  });

  test('GIVEN the lifecycle WHEN read THEN objects tier to STANDARD_IA at 30 days and GLACIER at 90, noncurrent versions expire, uploads are aborted', () => {
    expect(AUDIT_LIFECYCLE).toEqual({ toStandardIa: 30, toGlacier: 90, noncurrentExpiration: 365, abortMultipart: 7 });
    hasResourceProperties(t, 'AWS::S3::Bucket', {
      BucketName: auditName,
      LifecycleConfiguration: {
        Rules: [
          {
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER', TransitionInDays: 90 },
            ],
            NoncurrentVersionExpiration: { NoncurrentDays: 365 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          },
        ],
      },
    });
  });

  test('GIVEN server access logging WHEN built THEN the audit bucket logs to an SSE-S3 bucket whose policy admits only S3 log delivery for the audit bucket', () => {
    expect(res.AuditBucket.Properties?.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: 'AccessLogsBucket' }, LogFilePrefix: ACCESS_LOG_PREFIX });
    expect(res.AccessLogsBucket.Properties).toMatchObject({
      BucketName: { 'Fn::Sub': 'audit-access-logs-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    const allow = policyOf('AccessLogsBucket').filter((s) => s.Effect === 'Allow');
    expect(allow).toEqual([
      expect.objectContaining({
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Sub': `\${AccessLogsBucket.Arn}/${ACCESS_LOG_PREFIX}*` },
        Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::Sub': auditArn } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    // S3 checks the target's permission when logging is switched on.
    expect(res.AuditBucket.DependsOn).toBe('AccessLogsBucketPolicy');
  });

  test('GIVEN the Control Tower exceptions WHEN read THEN each names its rule and the requirement behind it', () => {
    const suppressions = Object.fromEntries(Object.entries(res).map(([id, r]) => [id, Object.keys((r.Metadata?.['tap:guard-suppressions'] ?? {}) as object).sort()]));
    const reasons = Object.values(res).flatMap((r) => Object.values((r.Metadata?.['tap:guard-suppressions'] ?? {}) as Record<string, string>));
    for (const reason of reasons) expect(reason).toMatch(/requirement|supports only|would loop/i);
    expect(suppressions).toMatchObject({
      AuditBucket: ['s3_bucket_object_lock_enabled_check'],
      AccessLogsBucket: ['s3_bucket_default_encryption_kms_check', 's3_bucket_logging_enabled_check', 's3_bucket_object_lock_enabled_check'],
    });
  });

  test('GIVEN the exports WHEN read THEN the buckets\', the session table\'s and the keys\' values are exported under the storage keys', () => {
    const exported = Object.values((t.Outputs ?? {}) as Record<string, JsonObject>).map((o) => (o.Export as JsonObject)['Name']);
    expect(exported).toEqual(expect.arrayContaining(Object.values(Exports.storage).map((k) => ({ 'Fn::Sub': exportNamePattern(k) }))));
    expect(exported).toHaveLength(Object.keys(Exports.storage).length);
  });
});

describe('StorageStack replication', () => {
  const replication = (rendered: Rendered): Json | undefined => (rendered.resources.AuditBucket.Properties as JsonObject).ReplicationConfiguration;

  test('GIVEN the primary region WHEN rendered THEN KMS-encrypted objects replicate to the derived secondary bucket under the key the root resolved there', () => {
    expect(replication(primary)).toEqual({
      Role: { 'Fn::GetAtt': ['ReplicationRole', 'Arn'] },
      Rules: [
        {
          Id: 'audit-logs-to-secondary-region',
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Enabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: { 'Fn::Sub': secondaryArn },
            EncryptionConfiguration: { ReplicaKmsKeyID: { Ref: 'AuditReplicaKeyArn' } },
          },
        },
      ],
    });
    expect(Object.keys(primary.resources)).toContain('ReplicationRole');
  });

  test('GIVEN the secondary region WHEN rendered THEN it neither replicates nor has a replication role', () => {
    expect(replication(secondary)).toBeUndefined();
    expect(Object.keys(secondary.resources)).not.toContain('ReplicationRole');
  });

  test('GIVEN the replication role WHEN read THEN S3 alone may assume it, for the audit bucket of this account', () => {
    const role = res.ReplicationRole;
    expect(role.Condition).toBe('IsPrimaryRegion');
    expect(role.Properties?.RoleName).toBeUndefined();
    expect(statements(role.Properties?.AssumeRolePolicyDocument)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': { 'Fn::Sub': auditArn } } },
      },
    ]);
  });

  const policy = statements(((res.ReplicationRole.Properties?.Policies as unknown as JsonObject[])[0]).PolicyDocument);
  test.each([
    ['ReadReplicationConfiguration', ['s3:GetReplicationConfiguration', 's3:ListBucket'], { 'Fn::Sub': auditArn }],
    ['ReadSourceVersions', ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], { 'Fn::Sub': `${auditArn}/*` }],
    ['WriteReplicas', ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], { 'Fn::Sub': `${secondaryArn}/*` }],
  ])('GIVEN statement %s WHEN read THEN it allows exactly %j on %j', (sid, actions, resource) => {
    expect(policy.find((s) => s.Sid === sid)).toEqual({ Sid: sid, Effect: 'Allow', Action: actions, Resource: resource });
  });

  test('GIVEN the KMS statements WHEN read THEN Decrypt is limited to the source key and Encrypt to the resolved secondary key, both only through S3 for the audit buckets', () => {
    expect(policy.find((s) => s.Sid === 'DecryptSourceObjects')).toEqual({
      Sid: 'DecryptSourceObjects',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': ['AuditKey', 'Arn'] },
      Condition: {
        StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [{ 'Fn::Sub': auditArn }, { 'Fn::Sub': `${auditArn}/*` }] },
      },
    });
    expect(policy.find((s) => s.Sid === 'EncryptReplicas')).toEqual({
      Sid: 'EncryptReplicas',
      Effect: 'Allow',
      Action: 'kms:Encrypt',
      Resource: { Ref: 'AuditReplicaKeyArn' },
      Condition: {
        StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${SecondaryRegion}.amazonaws.com' } },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [{ 'Fn::Sub': secondaryArn }, { 'Fn::Sub': `${secondaryArn}/*` }] },
      },
    });
    expect(policy.map((s) => s.Sid)).toEqual(['ReadReplicationConfiguration', 'ReadSourceVersions', 'WriteReplicas', 'DecryptSourceObjects', 'EncryptReplicas']);
  });
});

describe('StorageStack sessions: a global table created by the primary region', () => {
  const table = res.SessionTable;
  const tableProps = table.Properties ?? {};

  test('GIVEN the session table WHEN built THEN it is on-demand, keyed by sessionId, expires by TTL, KMS-encrypted and deletable', () => {
    expect(table).toMatchObject({ Type: 'AWS::DynamoDB::GlobalTable', Condition: 'IsPrimaryRegion', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(tableProps).toMatchObject({
      TableName: { 'Fn::Sub': `${Names.sessionTable}-\${EnvironmentSuffix}` },
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'sessionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'sessionId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
  });

  test("GIVEN the replicas WHEN built THEN this region and the secondary each have PITR and their own region's customer-managed key", () => {
    const replicas = tableProps.Replicas as JsonObject[];
    expect(replicas.map((r) => r.Region)).toEqual([{ Ref: 'AWS::Region' }, { Ref: 'SecondaryRegion' }]);
    for (const r of replicas) expect(r.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(replicas[0].SSESpecification).toEqual({ KMSMasterKeyId: { 'Fn::GetAtt': ['SessionKey', 'Arn'] } });
    // The secondary's own instance of this template creates the key there; the root resolves its alias to this ARN.
    expect(replicas[1].SSESpecification).toEqual({ KMSMasterKeyId: { Ref: 'SessionReplicaKeyArn' } });
    hasResourceProperties(t, 'AWS::KMS::Alias', { AliasName: { 'Fn::Sub': `alias/${Names.sessionKeyAlias}-\${EnvironmentSuffix}` }, TargetKeyId: { Ref: 'SessionKey' } });
  });

  test.each([
    ['the primary region', primary, true],
    ['the secondary region', secondary, false],
  ])('GIVEN %s WHEN rendered THEN the session table is created: %s, and the session key always', (_where, rendered, created) => {
    expect('SessionTable' in rendered.resources).toBe(created);
    expect('SessionKey' in rendered.resources).toBe(true);
  });

  test.each([
    ['the primary region', primary, { Ref: 'SessionTable' }, { 'Fn::GetAtt': ['SessionTable', 'Arn'] }],
    [
      'the secondary region',
      secondary,
      { 'Fn::Sub': `${Names.sessionTable}-\${EnvironmentSuffix}` },
      { 'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${Names.sessionTable}-\${EnvironmentSuffix}` },
    ],
  ])('GIVEN %s WHEN rendered THEN the session table exports resolve to the table or its derived replica name', (_where, rendered, name, arn) => {
    expect(rendered.outputs.SessionTableName.Value).toEqual(name);
    expect(rendered.outputs.SessionTableArn.Value).toEqual(arn);
    const refs = findValues(rendered as unknown as Json, (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && ('Ref' in v || 'Fn::GetAtt' in v));
    const ids = new Set(Object.keys(rendered.resources));
    for (const { value } of refs) {
      const target = 'Ref' in (value as JsonObject) ? (value as JsonObject).Ref : ((value as JsonObject)['Fn::GetAtt'] as string[])[0];
      if (typeof target === 'string' && target in res) expect({ target, exists: ids.has(target) }).toEqual({ target, exists: true });
    }
  });
});

describe('StorageStack replica keys: set by the root from the cross-region wait', () => {
  test.each(Object.keys(StorageParameters))('GIVEN parameter %s WHEN validated THEN it takes a KMS key ARN (multi-Region ones too) or nothing', (name) => {
    const pattern = new RegExp((StorageParameters as Record<string, { AllowedPattern: string }>)[name].AllowedPattern);
    expect(pattern.test('')).toBe(true);
    expect(pattern.test('arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab')).toBe(true);
    expect(pattern.test('arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab')).toBe(true);
    expect(pattern.test('arn:aws:kms:eu-west-1:123456789012:alias/tap-audit-logs-prod')).toBe(false);
    expect(pattern.test('alias/tap-audit-logs-prod')).toBe(false);
  });
});
