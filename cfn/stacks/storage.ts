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
import { TemplateBuilder, NestedStackDefinition } from '../lib/template';
import { IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION, ParameterDef, shared } from '../lib/sharedParameters';
import { Fn, getAtt, iff, Intrinsic, JsonLike, noValue, ref, sub, resourceName } from '../lib/intrinsics';
import { DynamoDBGlobalTableReplicaSpecification } from '../lib/cfnTypes.generated';
import { Exports, Names, arnPattern, bucketArnPattern, globalNamePattern, namePattern } from '../contract/names';
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
const tlsOnlyStatements = (bucketId: string): JsonLike[] => {
  // Fn::Join rather than Fn::Sub for the object ARN: it is the form CT.S3.PR.8 recognises as a reference to the bucket.
  const resources = [getAtt(bucketId, 'Arn'), Fn.Join('', [getAtt(bucketId, 'Arn'), '/*'])];
  return [
    { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resources, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    { Sid: 'DenyOutdatedTls', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: resources, Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } },
  ];
};

/** No public access of any kind: a payments bucket is reached through IAM only (CT.S3.PR.1). */
const blockPublicAccess = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

/** ACLs off: the bucket owner owns every object, access is decided by policies only (CT.S3.PR.5). */
const ownerEnforced = { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] };

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
    'AWS::S3::Bucket',
    {
      BucketName: sub(globalNamePattern(Names.auditAccessLogsBucket)),
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: blockPublicAccess,
      OwnershipControls: ownerEnforced,
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-access-logs',
            Status: 'Enabled',
            ExpirationInDays: ACCESS_LOG_RETENTION_DAYS,
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: AUDIT_LIFECYCLE.abortMultipart },
          },
        ],
      },
    },
    // No Object Lock, no KMS default key and no access logging of its own: see the
    // registry of rule exceptions (cfn/lib/exceptions.ts).
    { deletionPolicy: 'Delete' },
  );
  t.resource(
    'AccessLogsBucketPolicy',
    'AWS::S3::BucketPolicy',
    {
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
    },
  );

  const auditBucketName = sub(globalNamePattern(Names.auditBucket));
  t.resource(
    'AuditBucket',
    'AWS::S3::Bucket',
    {
      BucketName: auditBucketName,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.arn },
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: blockPublicAccess,
      OwnershipControls: ownerEnforced,
      LoggingConfiguration: { DestinationBucketName: ref('AccessLogsBucket'), LogFilePrefix: ACCESS_LOG_PREFIX },
      // Audit consumers (SIEM, alerting) subscribe to object events through EventBridge (CT.S3.PR.4).
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'tier-and-expire-noncurrent',
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: AUDIT_LIFECYCLE.toStandardIa },
              { StorageClass: 'GLACIER', TransitionInDays: AUDIT_LIFECYCLE.toGlacier },
            ],
            NoncurrentVersionExpiration: { NoncurrentDays: AUDIT_LIFECYCLE.noncurrentExpiration },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: AUDIT_LIFECYCLE.abortMultipart },
          },
        ],
      },
      // Fn::If keeps one template for both regions: only the primary replicates.
      ReplicationConfiguration: iff(
        isPrimary,
        {
          Role: getAtt('ReplicationRole', 'Arn'),
          Rules: [
            {
              Id: 'audit-logs-to-secondary-region',
              Status: 'Enabled',
              Priority: 1,
              Filter: { Prefix: '' },
              DeleteMarkerReplication: { Status: 'Enabled' },
              SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
              Destination: {
                Bucket: sub(auditBucketArn('SecondaryRegion')),
                // The key ARN the prerequisites wait found behind the secondary's alias: an alias
                // that does not exist would fail every object silently (DstKmsKeyNotFound).
                EncryptionConfiguration: { ReplicaKmsKeyID: ref('AuditReplicaKeyArn') },
              },
            },
          ],
        },
        noValue(),
      ),
    },
    {
      deletionPolicy: 'Delete',
      // S3 checks at PutBucketLogging time that log delivery may write to the target.
      dependsOn: ['AccessLogsBucketPolicy'],
    },
  );
  t.resource(
    'AuditBucketPolicy',
    'AWS::S3::BucketPolicy',
    {
      Bucket: ref('AuditBucket'),
      PolicyDocument: { Version: '2012-10-17', Statement: tlsOnlyStatements('AuditBucket') },
    },
  );

  replicationRole(t, isPrimary, key.arn);

  // --- Sessions: one global table, created by the primary region with a replica in the secondary.
  const sessionKey = kmsKey(t, 'SessionKey', {
    description: 'tap sessions: encrypts the session table replica in this region',
    alias: Names.sessionKeyAlias,
  });
  // Each replica carries the cost-allocation tags; the builder adds them.
  const replica = (region: Intrinsic, keyId: Intrinsic): DynamoDBGlobalTableReplicaSpecification => ({
    Region: region,
    SSESpecification: { KMSMasterKeyId: keyId },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    DeletionProtectionEnabled: false,
  });
  t.resource(
    'SessionTable',
    'AWS::DynamoDB::GlobalTable',
    {
      TableName: resourceName(Names.sessionTable),
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: SESSION_PARTITION_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: SESSION_PARTITION_KEY, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: SESSION_TTL_ATTRIBUTE, Enabled: true },
      // Customer-managed keys: SSEType KMS here, each replica's key below (keys are regional:
      // the secondary's replica uses the secondary's session key, found by the prerequisites wait).
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-globaltable-replicassespecification.html
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      // Global tables replicate through the table's stream.
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      Replicas: [replica(ref('AWS::Region'), sessionKey.arn), replica(ref('SecondaryRegion'), ref('SessionReplicaKeyArn'))],
    },
    { condition: isPrimary, deletionPolicy: 'Delete' },
  );

  const e = Exports.storage;
  t.export(e.auditBucketName, ref('AuditBucket'), { description: 'Audit-log bucket name' });
  t.export(e.auditBucketArn, getAtt('AuditBucket', 'Arn'), { description: 'Audit-log bucket ARN' });
  t.export(e.auditKeyArn, key.arn, { description: 'KMS key that encrypts the audit-log bucket' });
  // In the secondary region the table is the primary's replica, with the same name: derived there.
  t.export(e.sessionTableName, iff(isPrimary, ref('SessionTable'), resourceName(Names.sessionTable)), {
    description: 'Session table (global table replica) in this region',
  });
  t.export(e.sessionTableArn, iff(isPrimary, getAtt('SessionTable', 'Arn'), sub(arnPattern('dynamodb', `table/${namePattern(Names.sessionTable)}`))), {
    description: 'ARN of the session table replica in this region',
  });
  t.export(e.sessionKeyArn, sessionKey.arn, { description: 'KMS key of the session table replica in this region' });
  return t;
}

/**
 * The role S3 assumes to replicate, primary region only, least privilege
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
 * With S3 Bucket Keys the KMS encryption context is the bucket ARN rather than
 * the object ARN, so each KMS condition admits both.
 */
function replicationRole(t: TemplateBuilder, condition: string, sourceKeyArn: Intrinsic): void {
  const source = auditBucketArn('AWS::Region');
  const destination = auditBucketArn('SecondaryRegion');
  t.serviceRole(
    'ReplicationRole',
    {
      service: 's3.amazonaws.com',
      trustCondition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') }, ArnLike: { 'aws:SourceArn': sub(source) } },
      Description: sub(`S3 replication of ${globalNamePattern(Names.auditBucket)} to the secondary region`),
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
    },
    { condition },
  );
}

export const StorageStack: NestedStackDefinition = { templateName: 'StorageStack', build };
