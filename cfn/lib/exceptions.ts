/**
 * Every exception tap takes from cfn-lint or cfn-guard (the Control Tower
 * proactive controls), in one typed registry: the rule, the resources it
 * applies to, the reason, and the AWS document that defines the rule.
 * TemplateBuilder.resource writes the matching entries into the resource's
 * Metadata (cfn-lint's own `cfn-lint.config.ignore_checks` plus the reasons,
 * or tap's guard-suppression key), so no stack builder writes one by hand and a
 * reader of the JSON finds the reason on the resource it excuses. A reason
 * states the requirement or the rule-engine limit that forces the exception.
 */
import { Json } from './value';

export type RuleEngine = 'cfn-lint' | 'cfn-guard';

/** The resources an exception covers: logical IDs in one template, or every resource of a type whose properties include `where`. */
export type ExceptionScope =
  | { readonly template: string; readonly resources: readonly string[] }
  | { readonly type: string; readonly where: { readonly [property: string]: Json } };

export interface RuleException {
  readonly engine: RuleEngine;
  /** cfn-lint rule ID (E3002) or cfn-guard rule name (lambda_inside_vpc_check). */
  readonly rule: string;
  /** Control Tower control the guard rule implements (CT.LAMBDA.PR.3); absent for cfn-lint. */
  readonly control?: string;
  readonly scope: ExceptionScope;
  readonly reason: string;
  /** The AWS document that defines the rule. */
  readonly link: string;
}

const CONTROL_REFERENCE = 'https://docs.aws.amazon.com/controltower/latest/controlreference';
const controlLink = (page: string, control: string): string => `${CONTROL_REFERENCE}/${page}#${control.toLowerCase().replace(/\./g, '-')}-description`;
const CFN_LINT_RULES = 'https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md';

const guard = (rule: string, control: string, page: string, scope: ExceptionScope, reason: string): RuleException => ({
  engine: 'cfn-guard',
  rule,
  control,
  scope,
  reason,
  link: controlLink(page, control),
});
const lint = (rule: string, scope: ExceptionScope, reason: string): RuleException => ({ engine: 'cfn-lint', rule, scope, reason, link: CFN_LINT_RULES });

const TEARDOWN_OBJECT_LOCK =
  'Teardown requirement: every tap environment must delete cleanly, and Object Lock retention would keep objects undeletable; versioning plus cross-region replication protect the audit trail instead.';

export const RULE_EXCEPTIONS: readonly RuleException[] = [
  guard(
    'cloudwatch_log_group_retention_period_check',
    'CT.CLOUDWATCH.PR.2',
    'cloudwatch-rules.html',
    { type: 'AWS::Logs::LogGroup', where: { RetentionInDays: { Ref: 'LogRetentionDays' } } },
    'RetentionInDays is the LogRetentionDays parameter, whose AllowedValues are all >= 365 days (CT.CLOUDWATCH.PR.2); retention is configurable per environment',
  ),
  guard(
    'api_gw_v2_authorization_type_configured_check',
    'CT.APIGATEWAY.PR.5',
    'api-gateway-rules.html',
    { template: 'ApiStack', resources: ['HealthRoute'] },
    'DNS failover requirement: the Route 53 health check probes GET /health of the regional endpoint and cannot sign requests; the route returns dependency reachability only, no data.',
  ),
  guard(
    'lambda_inside_vpc_check',
    'CT.LAMBDA.PR.3',
    'lambda-rules.html',
    { template: 'ComputeStack', resources: ['ValidatorFunction', 'MigrationFunction'] },
    'The function is in the VPC, but its SubnetIds and SecurityGroupIds are Fn::ImportValue of NetworkStack exports (values pass between sibling stacks only through Export/ImportValue); the rule accepts only literal IDs or a Ref/GetAtt of a resource in the same template.',
  ),
  guard(
    'lambda_inside_vpc_check',
    'CT.LAMBDA.PR.3',
    'lambda-rules.html',
    { template: 'ComputeStack', resources: ['GateFunction'] },
    'The deployment gate needs no VPC: it calls only CloudWatch (DescribeAlarms, in this and the other region) and CloudFormation (DescribeStacks), which the private-only VPC cannot reach (no NAT, no interface endpoints for them), and it touches no data.',
  ),
  guard(
    'lambda_inside_vpc_check',
    'CT.LAMBDA.PR.3',
    'lambda-rules.html',
    { template: 'ComputeStack', resources: ['PrerequisitesFunction'] },
    'The cross-region prerequisites wait needs no VPC: it calls only S3 (GetBucketVersioning) and KMS (DescribeKey) in the other region, which the private-only VPC cannot reach, and it touches no data.',
  ),
  guard(
    'lambda_function_public_access_prohibited_check',
    'CT.LAMBDA.PR.2',
    'lambda-rules.html',
    { template: 'ComputeStack', resources: ['ValidatorInvokePermission'] },
    "SourceArn is set and scoped to this environment's API (Fn::Sub of arn:...:execute-api:<region>:<account>:<api id>/*); the rule accepts only a literal string or a Ref/GetAtt, and the execute-api ARN exists only as a Fn::Sub.",
  ),
  guard(
    'rds_cluster_deletion_protection_enabled_check',
    'CT.RDS.PR.3',
    'rds-rules.html',
    { template: 'DatabaseStack', resources: ['AuroraCluster'] },
    'Teardown requirement: DeletionProtection must be false so that test environments tear down with their stack; DeletionPolicy and UpdateReplacePolicy Snapshot keep a final snapshot instead.',
  ),
  guard(
    'rds_cluster_logging_enabled_check',
    'CT.RDS.PR.25',
    'rds-rules.html',
    { template: 'DatabaseStack', resources: ['AuroraCluster'] },
    'Payment-data requirement: the cluster exports the error, slowquery and audit logs but not the general query log, which would copy every statement with its payment data in clear text to CloudWatch Logs.',
  ),
  guard(
    's3_bucket_default_encryption_kms_check',
    'CT.S3.PR.10',
    's3-rules.html',
    { template: 'StorageStack', resources: ['AccessLogsBucket'] },
    "S3 server access log delivery supports only SSE-S3 on the target bucket; SSE-KMS default encryption would stop the audit bucket's access logs (CT.S3.PR.2 on the audit bucket needs this target).",
  ),
  guard(
    's3_bucket_logging_enabled_check',
    'CT.S3.PR.2',
    's3-rules.html',
    { template: 'StorageStack', resources: ['AccessLogsBucket'] },
    'This is the server access log target of the audit bucket; logging it into itself would loop, and another log bucket would need one in turn.',
  ),
  guard('s3_bucket_object_lock_enabled_check', 'CT.S3.PR.9', 's3-rules.html', { template: 'StorageStack', resources: ['AccessLogsBucket', 'AuditBucket'] }, TEARDOWN_OBJECT_LOCK),
  lint(
    'I1022',
    { template: 'StorageStack', resources: ['AccessLogsBucketPolicy', 'AuditBucketPolicy'] },
    'Fn::Join is the form Control Tower CT.S3.PR.8 (cfn-guard s3_bucket_policy_ssl_requests_only_check) recognises for the bucket-objects ARN; with Fn::Sub that rule fails, and every template must pass the Control Tower rules',
  ),
  lint(
    'E3002',
    { template: 'MonitoringStack', resources: ['Dashboard'] },
    "Tags on AWS::CloudWatch::Dashboard are in the CloudFormation template reference and in AWS's resource specification (@aws-cdk/aws-service-spec), but not yet in the schema bundled with cfn-lint 1.51.0; the cost-allocation tags are required on every taggable resource.",
  ),
];

/** Whether `properties` holds every property of `where` with the same JSON value. */
const matchesWhere = (properties: { readonly [key: string]: Json }, where: { readonly [property: string]: Json }): boolean =>
  Object.entries(where).every(([k, v]) => JSON.stringify(properties[k]) === JSON.stringify(v));

/** Whether `exception` covers the resource `id` of `type` in `template` with the rendered `properties`. */
export function covers(exception: RuleException, template: string, id: string, type: string, properties: { readonly [key: string]: Json }): boolean {
  const s = exception.scope;
  return 'template' in s ? s.template === template && s.resources.includes(id) : s.type === type && matchesWhere(properties, s.where);
}

/** The exceptions of `registry` that cover one resource. */
export const exceptionsFor = (
  template: string,
  id: string,
  type: string,
  properties: { readonly [key: string]: Json },
  registry: readonly RuleException[] = RULE_EXCEPTIONS,
): RuleException[] => registry.filter((e) => covers(e, template, id, type, properties));
