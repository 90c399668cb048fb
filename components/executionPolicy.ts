/**
 * Pure derivation of the StackSet execution role's permissions from the
 * resource types in the generated templates, so the policy follows the
 * templates instead of going stale beside them.
 *
 * What could not be narrowed, and why:
 * - Actions are service-level (`rds:*`), not per API call: CloudFormation's
 *   resource handlers call APIs AWS does not list per resource type in a form
 *   that stays current, and a missing action fails a deployment halfway.
 * - Resources are `*` for those services: CloudFormation generates most
 *   physical names at create time (no name is known before), and many of the
 *   calls (Describe*, List*, Create* of a new resource) support no resource-level
 *   permissions. Requests are limited to the deployment regions instead.
 * What is narrowed: CloudFormation itself to this StackSet's stacks, template
 * reads to this environment's artifact buckets, image pulls to its repositories,
 * and IAM identities the templates never create (users, groups, access keys) are denied.
 */

/**
 * CloudFormation service namespace (AWS::<Namespace>::Type) -> IAM service
 * prefix (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 * An unknown namespace fails the deployment with a message: add it here.
 */
export const SERVICE_PREFIXES: Readonly<Record<string, string>> = {
  ApiGateway: 'apigateway',
  ApiGatewayV2: 'apigateway',
  ApplicationAutoScaling: 'application-autoscaling',
  Backup: 'backup',
  CertificateManager: 'acm',
  CloudFormation: 'cloudformation',
  CloudWatch: 'cloudwatch',
  DynamoDB: 'dynamodb',
  EC2: 'ec2',
  ECR: 'ecr',
  Events: 'events',
  IAM: 'iam',
  KMS: 'kms',
  KinesisFirehose: 'firehose',
  Lambda: 'lambda',
  Logs: 'logs',
  RDS: 'rds',
  Route53: 'route53',
  S3: 's3',
  SNS: 'sns',
  SQS: 'sqs',
  SSM: 'ssm',
  SecretsManager: 'secretsmanager',
  StepFunctions: 'states',
  WAFv2: 'wafv2',
  XRay: 'xray',
};

/**
 * Services a resource's handler calls beyond its own, documented by AWS:
 * a function in a VPC makes CloudFormation describe subnets and security groups
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions);
 * ManageMasterUserPassword makes RDS create a secret under a KMS key
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions);
 * global tables manage auto scaling (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_reqs_bestpractices.html).
 */
export const IMPLIED_SERVICES: Readonly<Record<string, readonly string[]>> = {
  'AWS::Lambda::Function': ['ec2'],
  'AWS::RDS::DBCluster': ['secretsmanager', 'kms'],
  'AWS::DynamoDB::GlobalTable': ['application-autoscaling'],
};

/** A custom resource is a Lambda invocation by CloudFormation, on the deploying role's credentials. */
const CUSTOM_RESOURCE_SERVICE = 'lambda';

/** IAM service prefix for one resource type; throws for a namespace without a mapping. */
export function servicePrefix(resourceType: string): string {
  if (resourceType.startsWith('Custom::') || resourceType === 'AWS::CloudFormation::CustomResource') return CUSTOM_RESOURCE_SERVICE;
  const match = /^AWS::([A-Za-z0-9]+)::[A-Za-z0-9]+$/.exec(resourceType);
  const prefix = match === null ? undefined : SERVICE_PREFIXES[match[1]];
  if (prefix === undefined) {
    throw new Error(`${resourceType}: no IAM service prefix is known for it; add its namespace to SERVICE_PREFIXES in components/executionPolicy.ts`);
  }
  return prefix;
}

/** Every IAM service the templates' resources need, sorted and unique. */
export const requiredServices = (resourceTypes: readonly string[]): string[] =>
  [...new Set(resourceTypes.flatMap((t) => [servicePrefix(t), ...(IMPLIED_SERVICES[t] ?? [])]))].sort();

/** IAM identity types whose creation is denied unless a template declares one. */
const IAM_IDENTITY_TYPES = ['AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::AccessKey', 'AWS::IAM::UserToGroupAddition'];
export const DENIED_IDENTITY_ACTIONS = [
  'iam:AddUserToGroup',
  'iam:CreateAccessKey',
  'iam:CreateGroup',
  'iam:CreateLoginProfile',
  'iam:CreateUser',
  'iam:UpdateLoginProfile',
];

/**
 * Global services sign their requests for us-east-1 (IAM, Route 53), so the
 * region condition always admits it besides the deployment regions.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
 */
export const GLOBAL_ENDPOINT_REGION = 'us-east-1';

export interface ExecutionPolicyArgs {
  /** Every resource type in the templates. */
  readonly resourceTypes: readonly string[];
  readonly accountId: string;
  readonly regions: readonly string[];
  /** The StackSet's name: its stack instances are named `StackSet-<name>-<uuid>`. */
  readonly stackSetName: string;
  /** Artifact buckets the nested TemplateURLs point into. */
  readonly templateBuckets: readonly string[];
  /** ECR repositories the functions' images come from. */
  readonly imageRepositories: readonly string[];
}

export type PolicyStatement = {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[] | string;
  Condition?: Record<string, Record<string, string[]>>;
};
export type PolicyDocument = { Version: '2012-10-17'; Statement: PolicyStatement[] };

/** The execution role's identity policy for these templates. */
export function executionRolePolicy(args: ExecutionPolicyArgs): PolicyDocument {
  const services = requiredServices(args.resourceTypes).filter((s) => s !== 'cloudformation');
  const regions = [...new Set([...args.regions, GLOBAL_ENDPOINT_REGION])].sort();
  const statements: PolicyStatement[] = [
    {
      Sid: 'StackSetStacks',
      Effect: 'Allow',
      Action: ['cloudformation:*'],
      // Stack instances are `StackSet-<name>-<uuid>`; nested stacks prefix their parent's name.
      Resource: args.regions.map((r) => `arn:aws:cloudformation:${r}:${args.accountId}:stack/StackSet-${args.stackSetName}-*/*`),
    },
    {
      Sid: 'CloudFormationReadOnly',
      Effect: 'Allow',
      // Fn::ImportValue resolution and template checks; these actions support no resource-level permissions.
      Action: ['cloudformation:GetTemplateSummary', 'cloudformation:ListExports', 'cloudformation:ListImports', 'cloudformation:ValidateTemplate'],
      Resource: '*',
    },
    {
      Sid: 'TemplateArtifacts',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: args.templateBuckets.map((b) => `arn:aws:s3:::${b}/templates/*`),
    },
  ];
  if (args.resourceTypes.includes('AWS::Lambda::Function') && args.imageRepositories.length > 0) {
    statements.push({
      Sid: 'FunctionImages',
      Effect: 'Allow',
      // The creator of an image function needs these on the repository (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#configuration-images-permissions).
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:GetRepositoryPolicy', 'ecr:SetRepositoryPolicy'],
      Resource: args.regions.flatMap((r) => args.imageRepositories.map((repo) => `arn:aws:ecr:${r}:${args.accountId}:repository/${repo}`)),
    });
  }
  if (services.length > 0) {
    statements.push({
      Sid: 'TemplateServices',
      Effect: 'Allow',
      Action: services.map((s) => `${s}:*`),
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': regions } },
    });
  }
  if (!args.resourceTypes.some((t) => IAM_IDENTITY_TYPES.includes(t))) {
    statements.push({ Sid: 'NoIamIdentities', Effect: 'Deny', Action: DENIED_IDENTITY_ACTIONS, Resource: '*' });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** Trust policy of the administration role: CloudFormation, for this account's StackSet only. */
export function administrationTrustPolicy(accountId: string, stackSetName: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudformation.amazonaws.com' },
        Action: 'sts:AssumeRole',
        // Confused-deputy protection (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html).
        Condition: {
          StringEquals: { 'aws:SourceAccount': accountId },
          StringLike: { 'aws:SourceArn': `arn:aws:cloudformation:*:${accountId}:stackset/${stackSetName}:*` },
        },
      },
    ],
  };
}

/** The administration role may assume the execution role and nothing else. */
export const administrationPolicy = (executionRoleArn: string): object => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: executionRoleArn }],
});

/** Trust policy of the execution role: the administration role only. */
export const executionTrustPolicy = (administrationRoleArn: string): object => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: administrationRoleArn }, Action: 'sts:AssumeRole' }],
});
