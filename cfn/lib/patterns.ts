/**
 * Building blocks more than one stack needs, so each is written once:
 * a customer-managed KMS key, an encrypted log group.
 */
import { TemplateBuilder } from './template';
import { getAtt, Intrinsic, JsonLike, ref, sub, Value } from './intrinsics';
import { arnPattern, keyAliasPattern } from '../contract/names';

export interface KmsKeyProps {
  readonly description: string;
  /** `alias/<alias>-${EnvironmentSuffix}` */
  readonly alias: string;
  /**
   * Service principals (for example `logs`) allowed to use the key, each limited
   * by the condition that names what they may encrypt.
   */
  readonly services?: ReadonlyArray<{ readonly principal: string; readonly actions: readonly string[]; readonly condition?: { readonly [operator: string]: JsonLike } }>;
}

/**
 * A customer-managed key with rotation on. The account-root statement is the
 * one AWS requires so the key stays manageable through IAM
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html);
 * services get only the actions they need, under a condition.
 */
export function kmsKey(t: TemplateBuilder, id: string, props: KmsKeyProps): { arn: Intrinsic; id: string } {
  const statements: JsonLike[] = [
    {
      Sid: 'AccountAdministration',
      Effect: 'Allow',
      Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
      Action: 'kms:*',
      Resource: '*',
    },
    ...(props.services ?? []).map((s) => ({
      Sid: `Allow${s.principal.replace(/[^A-Za-z0-9]/g, '')}`,
      Effect: 'Allow',
      Principal: { Service: s.principal.includes('.') ? s.principal : sub(`${s.principal}.\${AWS::Region}.amazonaws.com`) },
      Action: s.actions,
      Resource: '*',
      ...(s.condition !== undefined ? { Condition: s.condition } : {}),
    })),
    // Control Tower CT.KMS.PR.3: only AWS services acting for a resource may create grants.
    // https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html#ct-kms-pr-3-description
    {
      Sid: 'DenyGrantsExceptForAwsServices',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    },
  ];
  t.resource(
    id,
    'AWS::KMS::Key',
    {
      Description: props.description,
      EnableKeyRotation: true,
      KeyPolicy: { Version: '2012-10-17', Statement: statements },
    },
    { deletionPolicy: 'Delete' },
  );
  t.resource(`${id}Alias`, 'AWS::KMS::Alias', { AliasName: sub(keyAliasPattern(props.alias)), TargetKeyId: ref(id) });
  return { arn: getAtt(id, 'Arn'), id };
}

/** Key-policy statement letting CloudWatch Logs use a key for the log groups matching `logGroups` (default: this account's). */
export const logsKeyService = (logGroups = '*') => ({
  principal: 'logs',
  actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': sub(arnPattern('logs', `log-group:${logGroups}`)) } },
});

/**
 * A log group encrypted with `keyArn`, retention from the shared LogRetentionDays
 * parameter (the registry's CT.CLOUDWATCH.PR.2 exception covers exactly that
 * form); `condition` as for its owner.
 */
export function encryptedLogGroup(t: TemplateBuilder, id: string, logGroupName: Value<string>, keyArn: Value<string>, condition?: string): string {
  return t.resource(
    id,
    'AWS::Logs::LogGroup',
    { LogGroupName: logGroupName, RetentionInDays: ref('LogRetentionDays'), KmsKeyId: keyArn },
    { condition, deletionPolicy: 'Delete' },
  );
}
