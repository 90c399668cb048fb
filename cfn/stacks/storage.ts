/**
 * StorageStack: the audit-log bucket and the session store (a DynamoDB global
 * table). Both regions deploy this template. In the primary region the bucket
 * replicates to the secondary region's bucket, and the global table, created
 * there, keeps a replica in the secondary region: both need things the
 * secondary's own StorageStack creates (the replica bucket with versioning on,
 * the keys behind `alias/tap-audit-logs-<suffix>` and `alias/tap-sessions-<suffix>`).
 * Both regions deploy at the same time, so the primary's root waits for them
 * (custom resource SecondaryRegionPrerequisites) and passes the keys' ARNs in as
 * AuditReplicaKeyArn and SessionReplicaKeyArn; in the secondary both are empty.
 * Nothing on the Aurora path waits for this stack.
 *
 * Encryption is SSE-KMS with a customer-managed key and an S3 Bucket Key:
 * Control Tower CT.S3.PR.10 asks for KMS, the key policy (not only IAM) guards
 * audit data, and the Bucket Key keeps KMS request costs flat
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
 * Replicas are re-encrypted with the secondary region's own key, by the key
 * ARN the wait resolved from its alias
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_EncryptionConfiguration.html).
 */
import { DynamoDB, IAM, S3 } from 'cloudform-types';
import { TemplateBuilder } from '../lib/template';
import { NestedStackDefinition } from '../contract/layout';
import { IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION, ParameterDef, shared } from '../lib/params';
import { Fn, getAtt, iff, noValue, ref, sub, resourceName } from '../lib/intrinsics';
import { Exports, IAM_ROLE_PATH_PATTERN, Names, arnPattern, bucketArnPattern, globalNamePattern, namePattern } from '../contract/names';
import { tags } from '../lib/tags';
import { kmsKey } from '../lib/patterns';

/** Lifecycle of audit objects, in days. */
export const AUDIT_LIFECYCLE = {
  toStandardIa: 30,
  toGlacier: 90,
  noncurrentExpiration: 365,
  abortMultipart: 7,
} as const;

/** Server access logs are kept for a year (PCI DSS 10.5.1 asks for 12 months of audit history). */
export const ACCESS_LOG_RETENTION_DAYS = 365;

/** Prefix of the audit bucket's server access logs inside the log bucket. */
export const ACCESS_LOG_PREFIX = `${Names.auditBucket}/`;

/** ARN pattern of the audit bucket in `region` (a Sub variable such as AWS::Region or SecondaryRegion). */
export const auditBucketArn = (region: string): string => bucketArnPattern(Names.auditBucket, region);

/** Sessions: partition key and the TTL attribute (epoch seconds) the validator writes. */
export const SESSION_PARTITION_KEY = 'sessionId';
export const SESSION_TTL_ATTRIBUTE = 'expiresAt';

/** A KMS key ARN in any region and partition (multi-Region keys included), or empty. */
const KEY_ARN_OR_EMPTY = '^$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/(mrk-)?[a-f0-9-]{32,36}$';

/**
 * Set by the root, not by operators: the ARNs the cross-region prerequisites wait
 * resolved in the secondary region (primary only; empty in the secondary).
 */
export const StorageParameters = {
  AuditReplicaKeyArn: {
    Type: 'String',
    Description: "Set by the root: ARN of the secondary region's audit key, for the replicas (primary only; empty in the secondary).",
    Default: '',
    AllowedPattern: KEY_ARN_OR_EMPTY,
    ConstraintDescription: 'Must be empty or a KMS key ARN.',
  },
  SessionReplicaKeyArn: {
    Type: 'String',
    Description: "Set by the root: ARN of the secondary region's session key, for the table replica (primary only; empty in the secondary).",
    Default: '',
    AllowedPattern: KEY_ARN_OR_EMPTY,
    ConstraintDescription: 'Must be empty or a KMS key ARN.',
  },
} as const satisfies Record<string, ParameterDef>;

/** Deny any request not made over TLS 1.2 or later (Control Tower CT.S3.PR.8; https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html). */
const tlsOnlyStatements = (bucketId: string): unknown[] => {
  // Fn::Join rather than Fn::Sub for the object ARN: it is the form CT.S3.PR.8 recognises as a reference to the bucket.
  const resources = [getAtt(bucketId, 'Arn'), Fn.Join('', [getAtt(bucketId, 'Arn'), '/*'])];
  return [
    { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resources, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    { Sid: 'DenyOutdatedTls', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resources, Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } },
  ];
};

/** cfn-lint I1022 (informational) on the TLS-only policies, and why tap keeps the Fn::Join. */
const TLS_POLICY_LINT_IGNORES = {
  I1022:
    'Fn::Join is the form Control Tower CT.S3.PR.8 (cfn-guard s3_bucket_policy_ssl_requests_only_check) recognises for the bucket-objects ARN; with Fn::Sub that rule fails, and every template must pass the Control Tower rules',
};

const blockPublicAccess = new S3.Bucket.PublicAccessBlockConfiguration({
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
});

/** ACLs off: the bucket owner owns every object, access is decided by policies only (CT.S3.PR.5). */
const ownerEnforced = new S3.Bucket.OwnershipControls({ Rules: [new S3.Bucket.OwnershipControlsRule({ ObjectOwnership: 'BucketOwnerEnforced' })] });

/**
 * Object Lock (CT.S3.PR.9) would make audit objects undeletable for their
 * retention period, and tap's environments must tear down completely. Integrity
 * comes from versioning, the TLS-only policy and the cross-region replica.
 */
const OBJECT_LOCK_REASON =
  'Teardown requirement: every tap environment must delete cleanly, and Object Lock retention would keep objects undeletable; versioning plus cross-region replication protect the audit trail instead.';

function build(): TemplateBuilder {
  const t = new TemplateBuilder(
    'StorageStack',
    'tap storage: versioned, KMS-encrypted audit-log bucket replicated from the primary to the secondary region; DynamoDB session global table.',
  );
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter', 'PrimaryRegion', 'SecondaryRegion'), ...StorageParameters });
  const isPrimary = t.condition(IS_PRIMARY_REGION_CONDITION, IS_PRIMARY_REGION);

  const key = kmsKey(t, 'AuditKey', { description: 'tap audit logs: encrypts the audit bucket (and, in the secondary region, the replicas)', alias: Names.auditKeyAlias });

  // Server access logs. Log delivery writes only to SSE-S3 buckets
  // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html),
  // and is authorised by the bucket policy because ACLs are disabled.
  t.resource(
    'AccessLogsBucket',
    new S3.Bucket({
      BucketName: sub(globalNamePattern(Names.auditAccessLogsBucket)),
      BucketEncryption: new S3.Bucket.BucketEncryption({
        ServerSideEncryptionConfiguration: [new S3.Bucket.ServerSideEncryptionRule({ ServerSideEncryptionByDefault: new S3.Bucket.ServerSideEncryptionByDefault({ SSEAlgorithm: 'AES256' }) })],
      }),
      VersioningConfiguration: new S3.Bucket.VersioningConfiguration({ Status: 'Enabled' }),
      PublicAccessBlockConfiguration: blockPublicAccess,
      OwnershipControls: ownerEnforced,
      NotificationConfiguration: new S3.Bucket.NotificationConfiguration({ EventBridgeConfiguration: new S3.Bucket.EventBridgeConfiguration({ EventBridgeEnabled: true }) }),
      LifecycleConfiguration: new S3.Bucket.LifecycleConfiguration({
        Rules: [
          new S3.Bucket.Rule({
            Id: 'expire-access-logs',
            Status: 'Enabled',
            ExpirationInDays: ACCESS_LOG_RETENTION_DAYS,
            NoncurrentVersionExpiration: new S3.Bucket.NoncurrentVersionExpiration({ NoncurrentDays: 30 }),
            AbortIncompleteMultipartUpload: new S3.Bucket.AbortIncompleteMultipartUpload({ DaysAfterInitiation: AUDIT_LIFECYCLE.abortMultipart }),
          }),
        ],
      }),
      Tags: tags(),
    }),
    {
      deletionPolicy: 'Delete',
      guardSuppressions: {
        s3_bucket_default_encryption_kms_check: 'S3 server access log delivery supports only SSE-S3 on the target bucket; SSE-KMS default encryption would stop the audit bucket\'s access logs (CT.S3.PR.2 on the audit bucket needs this target).',
        s3_bucket_logging_enabled_check: 'This is the server access log target of the audit bucket; logging it into itself would loop, and another log bucket would need one in turn.',
        s3_bucket_object_lock_enabled_check: OBJECT_LOCK_REASON,
      },
    },
  );
  t.resource(
    'AccessLogsBucketPolicy',
    new S3.BucketPolicy({
      Bucket: ref('AccessLogsBucket'),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          ...tlsOnlyStatements('AccessLogsBucket'),
          {
            Sid: 'AllowAuditBucketAccessLogs',
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: sub(`\${AccessLogsBucket.Arn}/${ACCESS_LOG_PREFIX}*`),
            // The audit bucket by derived ARN, not by Ref: the audit bucket waits for this policy (DependsOn below).
            Condition: { ArnLike: { 'aws:SourceArn': sub(auditBucketArn('AWS::Region')) }, StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
          },
        ],
      },
    }),
    { lintIgnores: TLS_POLICY_LINT_IGNORES },
  );

  const auditBucketName = sub(globalNamePattern(Names.auditBucket));
  t.resource(
    'AuditBucket',
    new S3.Bucket({
      BucketName: auditBucketName,
      BucketEncryption: new S3.Bucket.BucketEncryption({
        ServerSideEncryptionConfiguration: [
          new S3.Bucket.ServerSideEncryptionRule({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: new S3.Bucket.ServerSideEncryptionByDefault({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.arn as string }),
          }),
        ],
      }),
      VersioningConfiguration: new S3.Bucket.VersioningConfiguration({ Status: 'Enabled' }),
      PublicAccessBlockConfiguration: blockPublicAccess,
      OwnershipControls: ownerEnforced,
      LoggingConfiguration: new S3.Bucket.LoggingConfiguration({ DestinationBucketName: ref('AccessLogsBucket'), LogFilePrefix: ACCESS_LOG_PREFIX }),
      // Audit consumers (SIEM, alerting) subscribe to object events through EventBridge (CT.S3.PR.4).
      NotificationConfiguration: new S3.Bucket.NotificationConfiguration({ EventBridgeConfiguration: new S3.Bucket.EventBridgeConfiguration({ EventBridgeEnabled: true }) }),
      LifecycleConfiguration: new S3.Bucket.LifecycleConfiguration({
        Rules: [
          new S3.Bucket.Rule({
            Id: 'tier-and-expire-noncurrent',
            Status: 'Enabled',
            Transitions: [
              new S3.Bucket.Transition({ StorageClass: 'STANDARD_IA', TransitionInDays: AUDIT_LIFECYCLE.toStandardIa }),
              new S3.Bucket.Transition({ StorageClass: 'GLACIER', TransitionInDays: AUDIT_LIFECYCLE.toGlacier }),
            ],
            NoncurrentVersionExpiration: new S3.Bucket.NoncurrentVersionExpiration({ NoncurrentDays: AUDIT_LIFECYCLE.noncurrentExpiration }),
            AbortIncompleteMultipartUpload: new S3.Bucket.AbortIncompleteMultipartUpload({ DaysAfterInitiation: AUDIT_LIFECYCLE.abortMultipart }),
          }),
        ],
      }),
      // cloudform-types types this property as the structure only; Fn::If keeps one template for both regions.
      ReplicationConfiguration: iff(
        isPrimary,
        new S3.Bucket.ReplicationConfiguration({
          Role: getAtt('ReplicationRole', 'Arn'),
          Rules: [
            new S3.Bucket.ReplicationRule({
              Id: 'audit-logs-to-secondary-region',
              Status: 'Enabled',
              Priority: 1,
              Filter: new S3.Bucket.ReplicationRuleFilter({ Prefix: '' }),
              DeleteMarkerReplication: new S3.Bucket.DeleteMarkerReplication({ Status: 'Enabled' }),
              SourceSelectionCriteria: new S3.Bucket.SourceSelectionCriteria({ SseKmsEncryptedObjects: new S3.Bucket.SseKmsEncryptedObjects({ Status: 'Enabled' }) }),
              Destination: new S3.Bucket.ReplicationDestination({
                Bucket: sub(auditBucketArn('SecondaryRegion')),
                // The key ARN the prerequisites wait found behind the secondary's alias: an alias
                // that does not exist would fail every object silently (DstKmsKeyNotFound).
                EncryptionConfiguration: new S3.Bucket.EncryptionConfiguration({ ReplicaKmsKeyID: ref('AuditReplicaKeyArn') }),
              }),
            }),
          ],
        }),
        noValue(),
      ) as unknown as InstanceType<typeof S3.Bucket.ReplicationConfiguration>,
      Tags: tags(),
    }),
    {
      deletionPolicy: 'Delete',
      // S3 checks at PutBucketLogging time that log delivery may write to the target.
      dependsOn: ['AccessLogsBucketPolicy'],
      guardSuppressions: { s3_bucket_object_lock_enabled_check: OBJECT_LOCK_REASON },
    },
  );
  t.resource(
    'AuditBucketPolicy',
    new S3.BucketPolicy({
      Bucket: ref('AuditBucket'),
      PolicyDocument: { Version: '2012-10-17', Statement: tlsOnlyStatements('AuditBucket') },
    }),
    { lintIgnores: TLS_POLICY_LINT_IGNORES },
  );

  replicationRole(t, isPrimary, key.arn);

  // --- Sessions: one global table, created by the primary region with a replica in the secondary.
  const sessionKey = kmsKey(t, 'SessionKey', {
    description: 'tap sessions: encrypts the session table replica in this region',
    alias: Names.sessionKeyAlias,
  });
  const replica = (region: unknown, keyId: unknown): InstanceType<typeof DynamoDB.GlobalTable.ReplicaSpecification> =>
    new DynamoDB.GlobalTable.ReplicaSpecification({
      Region: region as string,
      SSESpecification: new DynamoDB.GlobalTable.ReplicaSSESpecification({ KMSMasterKeyId: keyId as string }),
      PointInTimeRecoverySpecification: new DynamoDB.GlobalTable.PointInTimeRecoverySpecification({ PointInTimeRecoveryEnabled: true }),
      DeletionProtectionEnabled: false,
      Tags: tags(),
    });
  t.resource(
    'SessionTable',
    new DynamoDB.GlobalTable({
      TableName: resourceName(Names.sessionTable),
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [new DynamoDB.GlobalTable.AttributeDefinition({ AttributeName: SESSION_PARTITION_KEY, AttributeType: 'S' })],
      KeySchema: [new DynamoDB.GlobalTable.KeySchema({ AttributeName: SESSION_PARTITION_KEY, KeyType: 'HASH' })],
      TimeToLiveSpecification: new DynamoDB.GlobalTable.TimeToLiveSpecification({ AttributeName: SESSION_TTL_ATTRIBUTE, Enabled: true }),
      // Customer-managed keys: SSEType KMS here, each replica's key below (keys are regional:
      // the secondary's replica uses the secondary's session key, found by the prerequisites wait).
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-globaltable-replicassespecification.html
      SSESpecification: new DynamoDB.GlobalTable.SSESpecification({ SSEEnabled: true, SSEType: 'KMS' }),
      // Global tables replicate through the table's stream.
      StreamSpecification: new DynamoDB.GlobalTable.StreamSpecification({ StreamViewType: 'NEW_AND_OLD_IMAGES' }),
      Replicas: [replica(ref('AWS::Region'), sessionKey.arn), replica(ref('SecondaryRegion'), ref('SessionReplicaKeyArn'))],
    }),
    { condition: isPrimary, deletionPolicy: 'Delete' },
  );

  const e = Exports.storage;
  t.output('AuditBucketName', ref('AuditBucket'), { description: 'Audit-log bucket name', exportKey: e.auditBucketName });
  t.output('AuditBucketArn', getAtt('AuditBucket', 'Arn'), { description: 'Audit-log bucket ARN', exportKey: e.auditBucketArn });
  t.output('AuditKeyArn', key.arn, { description: 'KMS key that encrypts the audit-log bucket', exportKey: e.auditKeyArn });
  // In the secondary region the table is the primary's replica, with the same name: derived there.
  t.output('SessionTableName', iff(isPrimary, ref('SessionTable'), resourceName(Names.sessionTable)), {
    description: 'Session table (global table replica) in this region',
    exportKey: e.sessionTableName,
  });
  t.output('SessionTableArn', iff(isPrimary, getAtt('SessionTable', 'Arn'), sub(arnPattern('dynamodb', `table/${namePattern(Names.sessionTable)}`))), {
    description: 'ARN of the session table replica in this region',
    exportKey: e.sessionTableArn,
  });
  t.output('SessionKeyArn', sessionKey.arn, { description: 'KMS key of the session table replica in this region', exportKey: e.sessionKeyArn });
  return t;
}

/**
 * The role S3 assumes to replicate, primary region only, least privilege
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
 * With S3 Bucket Keys the KMS encryption context is the bucket ARN rather than
 * the object ARN, so each KMS condition admits both.
 */
function replicationRole(t: TemplateBuilder, condition: string, sourceKeyArn: unknown): void {
  const source = auditBucketArn('AWS::Region');
  const destination = auditBucketArn('SecondaryRegion');
  t.resource(
    'ReplicationRole',
    new IAM.Role({
      Path: sub(IAM_ROLE_PATH_PATTERN),
      Description: sub(`S3 replication of ${globalNamePattern(Names.auditBucket)} to the secondary region`),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') }, ArnLike: { 'aws:SourceArn': sub(source) } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'replicate-audit-logs',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'ReadReplicationConfiguration', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: sub(source) },
              {
                Sid: 'ReadSourceVersions',
                Effect: 'Allow',
                Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
                Resource: sub(`${source}/*`),
              },
              { Sid: 'WriteReplicas', Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: sub(`${destination}/*`) },
              {
                Sid: 'DecryptSourceObjects',
                Effect: 'Allow',
                Action: 'kms:Decrypt',
                Resource: sourceKeyArn,
                Condition: {
                  StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') },
                  StringLike: { 'kms:EncryptionContext:aws:s3:arn': [sub(source), sub(`${source}/*`)] },
                },
              },
              {
                // Exactly the key the prerequisites wait found behind the secondary's audit alias.
                Sid: 'EncryptReplicas',
                Effect: 'Allow',
                Action: 'kms:Encrypt',
                Resource: ref('AuditReplicaKeyArn'),
                Condition: {
                  StringEquals: { 'kms:ViaService': sub('s3.${SecondaryRegion}.amazonaws.com') },
                  StringLike: { 'kms:EncryptionContext:aws:s3:arn': [sub(destination), sub(`${destination}/*`)] },
                },
              },
            ],
          },
        },
      ],
      Tags: tags(),
    }),
    { condition },
  );
}

export const StorageStack: NestedStackDefinition = { templateName: 'StorageStack', build };
