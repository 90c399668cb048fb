/**
 * ARNs and IAM conditions for what other stacks own, derived from the suffix
 * and never imported, so ComputeStack waits for neither DatabaseStack nor
 * StorageStack.
 */
import { iff, Intrinsic, JsonLike, sub } from '../../lib/intrinsics';
import { IS_PRIMARY_REGION_CONDITION } from '../../lib/sharedParameters';
import { Names, arnPattern, bucketArnPattern, keyAliasPattern, SsmPaths, namePattern } from '../../contract/names';

const arn = (service: string, resource: string, region?: string): Intrinsic => sub(arnPattern(service, resource, region));

/** ARNs of things other stacks own, derived from the suffix (never imported). */
/** IAM wildcard for the UUID StackSets append to a stack instance's name (8-4-4-4-12 characters). */
export const STACK_INSTANCE_UUID = [8, 4, 4, 4, 12].map((n) => '?'.repeat(n)).join('-');

export const DerivedArns = {
  dbParameters: arn('ssm', `parameter${SsmPaths.dbPrefix}*`),
  /** Secrets Manager appends a hyphen and 6 random characters to a secret's name. */
  dbSecret: arn('secretsmanager', `secret:${namePattern(Names.dbSecret)}-??????`),
  /**
   * Keys of this account and region. A key's ID lives in the stack that owns it;
   * importing DatabaseStack's would recreate the deploy-time dependency ComputeStack
   * exists to avoid, so statements on keys are narrowed by conditions instead: the
   * key's alias (kms:ResourceAliases, derived from the suffix) and the service
   * acting for this role (kms:ViaService).
   * https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html
   */
  accountKeys: arn('kms', 'key/*'),
  sessionTable: arn('dynamodb', `table/${namePattern(Names.sessionTable)}`),
  /** The global table's replica in the other region (tap deploys to PrimaryRegion and SecondaryRegion). */
  sessionTableReplica: iff(
    IS_PRIMARY_REGION_CONDITION,
    arn('dynamodb', `table/${namePattern(Names.sessionTable)}`, '${SecondaryRegion}'),
    arn('dynamodb', `table/${namePattern(Names.sessionTable)}`, '${PrimaryRegion}'),
  ),
  auditBucket: sub(bucketArnPattern(Names.auditBucket)),
  /** The secondary region's audit bucket, the primary's replication target. */
  auditReplicaBucket: sub(bucketArnPattern(Names.auditBucket, 'SecondaryRegion')),
  /** Keys of this account in the secondary region (narrowed by the alias in the request). */
  secondaryRegionKeys: arn('kms', 'key/*', '${SecondaryRegion}'),
  auditObjects: sub(`${bucketArnPattern(Names.auditBucket)}/audit/*`),
  /**
   * The StackSet `tap-<suffix>` names its stack instance `StackSet-tap-<suffix>-<uuid>`;
   * the gate reads the status of that (root) stack, whose ID comes in the event. The UUID
   * is matched character by character, so `tap-prod` cannot read `tap-prod-eu`'s stacks.
   */
  deploymentStacks: arn('cloudformation', `stack/StackSet-${namePattern(Names.stackSet)}-${STACK_INSTANCE_UUID}/*`),
  /** The same StackSet's stack instance in the other region, where the other deployment gate runs. */
  peerDeploymentStacks: iff(
    IS_PRIMARY_REGION_CONDITION,
    arn('cloudformation', `stack/StackSet-${namePattern(Names.stackSet)}-${STACK_INSTANCE_UUID}/*`, '${SecondaryRegion}'),
    arn('cloudformation', `stack/StackSet-${namePattern(Names.stackSet)}-${STACK_INSTANCE_UUID}/*`, '${PrimaryRegion}'),
  ),
  /** ENIs, subnets and security groups of this account and region (the form the Lambda guide gives). */
  accountEc2: arn('ec2', '*/*'),
} as const;

export const viaService = (...services: string[]): { [operator: string]: JsonLike } => ({
  StringEquals: { 'kms:ViaService': services.map((s) => sub(`${s}.\${AWS::Region}.amazonaws.com`)) },
});

/** Only the key that carries this alias (`alias/<purpose>-${EnvironmentSuffix}`, set by its owning stack). */
export const keyAliased = (purpose: string): { [operator: string]: JsonLike } => ({
  'ForAnyValue:StringEquals': { 'kms:ResourceAliases': sub(keyAliasPattern(purpose)) },
});
