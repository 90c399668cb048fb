/**
 * Pure derivation of the StackSet execution role's permissions from the
 * resource types in the generated templates, so the policy follows the
 * templates instead of going stale beside them.
 *
 * What is narrowed:
 * - IAM, by path. IAM is global (its requests count as us-east-1), so the
 *   region condition never limited it. Every AWS::IAM::Role the templates
 *   declare has the path `/tap/<suffix>/` and a name CloudFormation generates
 *   (cfn/contract/names.ts iamRolePath; a test keeps it so), so role management and
 *   iam:PassRole are allowed on `role/tap/<suffix>/*` only
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns);
 *   service-linked roles only for the services whose resources need one; IAM
 *   users, groups and access keys are denied, and any IAM type but a role fails
 *   the policy's derivation.
 * - Services whose every resource the templates name before deployment and whose
 *   CloudFormation handlers act on that resource alone (NAME_SCOPES): SSM
 *   parameters under `/tap/<suffix>/`, the DynamoDB table `sessions-<suffix>`.
 * - CloudFormation to this StackSet's stacks, template reads to this
 *   environment's artifact buckets, image pulls to its repositories.
 *
 * What is not narrowed, and why:
 * - Actions are service-level (`rds:*`), not per API call: CloudFormation's
 *   resource handlers call APIs AWS does not list per resource type in a form
 *   that stays current, and a missing action fails a deployment halfway.
 * - Resources are `*` for the other services, limited to the deployment regions
 *   (and us-east-1, for Route 53).
 *   Many names are known before deployment (`<purpose>-<suffix>`: functions, log
 *   groups, the secret, the topic, alarms, buckets), but not enough to scope a
 *   whole service: KMS keys, the VPC, subnets, security groups, RDS instances and
 *   parameter groups and APIs are identified by IDs AWS generates; many calls
 *   support no resource-level permissions (ec2:Describe*, kms:CreateKey,
 *   logs:CreateLogDelivery, secretsmanager:GetRandomPassword); and some handlers
 *   reach beyond the named resource (RDS names the secret it creates for a
 *   managed master password `rds!cluster-...`; a rotation schedule invokes the
 *   function its parameter names).
 * - iam:PassRole has no iam:PassedToService condition: which service principal
 *   a handler passes a role to is not documented for every resource type (RDS
 *   enhanced monitoring, flow logs, S3 replication), and only tap roles can be passed.
 * - What the tap roles themselves may do is whatever the templates' inline
 *   policies say: the execution role can write any policy onto a role under the
 *   path (a permissions boundary would bound that; the templates set none).
 */
import { isCustomResourceType } from '../cfn/lib/graph';
import { Names, PROJECT, iamRolePath } from '../cfn/contract/names';

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
  if (isCustomResourceType(resourceType)) return CUSTOM_RESOURCE_SERVICE;
  const match = /^AWS::([A-Za-z0-9]+)::[A-Za-z0-9]+$/.exec(resourceType);
  const prefix = match === null ? undefined : SERVICE_PREFIXES[match[1]];
  if (prefix === undefined) {
    throw new Error(`${resourceType}: no IAM service prefix is known for it; add its namespace to SERVICE_PREFIXES in components/executionPolicy.ts`);
  }
  return prefix;
}

/** The IAM services one resource type's handlers call: its own and those IMPLIED_SERVICES adds. */
const servicesOf = (resourceType: string): string[] => [servicePrefix(resourceType), ...(IMPLIED_SERVICES[resourceType] ?? [])];

/** Every IAM service the templates' resources need, sorted and unique. */
export const requiredServices = (resourceTypes: readonly string[]): string[] => [...new Set(resourceTypes.flatMap(servicesOf))].sort();

/** What a name scope is built from. */
export interface NameScopeArgs {
  readonly accountId: string;
  readonly regions: readonly string[];
  /** The `<suffix>` of `<purpose>-<suffix>` and `/tap/<suffix>/`. */
  readonly environmentSuffix: string;
}

/** A service whose actions are allowed on the resources the templates name, instead of on `*`. */
export interface NameScope {
  /**
   * The resource types whose handlers this scope is known to cover. The service
   * is scoped only when every resource type that needs it is one of these; any
   * other type that needs it puts it back on `*`.
   */
  readonly resourceTypes: readonly string[];
  /** ARNs of everything those handlers create, change or read. */
  readonly resources: (args: NameScopeArgs) => string[];
  /**
   * Read-only actions the handlers call that support no resource-level
   * permissions: allowed on `*`, in the deployment regions.
   */
  readonly unscopedActions: readonly string[];
}

/**
 * Services the execution role gets by name, with the resource schemas' handler
 * permissions as evidence (`aws cloudformation describe-type --type RESOURCE --type-name <type>`;
 * https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers).
 * Tests keep every name the committed templates give these resources inside the scope.
 */
export const NAME_SCOPES: Readonly<Record<string, NameScope>> = {
  // Every parameter the templates write is under /tap/<suffix>/ (cfn/contract/names.ts SsmPaths);
  // the handlers act on the parameter alone, except the list handler's DescribeParameters.
  ssm: {
    resourceTypes: ['AWS::SSM::Parameter'],
    resources: ({ accountId, regions, environmentSuffix }) => regions.map((r) => `arn:aws:ssm:${r}:${accountId}:parameter/${PROJECT}/${environmentSuffix}/*`),
    unscopedActions: ['ssm:DescribeParameters'],
  },
  // The one table, `sessions-<suffix>`, with its indexes and streams (`table/<name>/...`), in every
  // region it has a replica; the handlers' `dynamodb:Describe*` includes DescribeLimits, which has no resource.
  dynamodb: {
    resourceTypes: ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table'],
    resources: ({ accountId, regions, environmentSuffix }) =>
      regions.flatMap((r) => {
        const table = `arn:aws:dynamodb:${r}:${accountId}:table/${Names.sessionTable}-${environmentSuffix}`;
        return [table, `${table}/*`];
      }),
    unscopedActions: ['dynamodb:Describe*', 'dynamodb:List*'],
  },
};

/** The services of NAME_SCOPES these resource types need for covered types only, sorted. */
export function nameScopedServices(resourceTypes: readonly string[]): string[] {
  return Object.entries(NAME_SCOPES)
    .filter(([service, scope]) => {
      const needing = resourceTypes.filter((t) => servicesOf(t).includes(service));
      return needing.length > 0 && needing.every((t) => scope.resourceTypes.includes(t));
    })
    .map(([service]) => service)
    .sort();
}

/**
 * What CloudFormation's AWS::IAM::Role handlers call (the resource schema's
 * create, read, update and delete permissions), plus the read-only
 * iam:ListRoleTags. Not iam:PutRolePermissionsBoundary or
 * iam:DeleteRolePermissionsBoundary: no template role sets PermissionsBoundary
 * (a test keeps it so), and without them nothing can remove a boundary later.
 */
export const ROLE_MANAGEMENT_ACTIONS = [
  'iam:AttachRolePolicy',
  'iam:CreateRole',
  'iam:DeleteRole',
  'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy',
  'iam:GetRole',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:ListRolePolicies',
  'iam:ListRoleTags',
  'iam:PutRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
];

/** The only IAM resource type the policy grants; any other fails the derivation (add it here, scoped). */
const GRANTED_IAM_TYPES = ['AWS::IAM::Role'];

/**
 * Services that create their service-linked role on first use, as the caller,
 * when CloudFormation creates one of these resources (the handlers list
 * iam:CreateServiceLinkedRole; https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html#service-linked-role-permissions):
 * RDS (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAM.ServiceLinkedRoles.html),
 * DynamoDB global table replication and its auto scaling (IMPLIED_SERVICES)
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html),
 * API Gateway for custom domain names (https://docs.aws.amazon.com/apigateway/latest/developerguide/using-service-linked-roles.html).
 * None of the templates' other resources uses one (Lambda, VPC endpoints, flow
 * logs and S3 replication are given tap roles instead).
 */
export const SERVICE_LINKED_ROLES: Readonly<Record<string, readonly string[]>> = {
  'AWS::ApiGateway::DomainName': ['ops.apigateway.amazonaws.com'],
  'AWS::ApiGatewayV2::DomainName': ['ops.apigateway.amazonaws.com'],
  'AWS::DynamoDB::GlobalTable': ['replication.dynamodb.amazonaws.com', 'dynamodb.application-autoscaling.amazonaws.com'],
  'AWS::RDS::DBCluster': ['rds.amazonaws.com'],
  'AWS::RDS::DBInstance': ['rds.amazonaws.com'],
};

/** Service names whose service-linked role these resource types may create, sorted and unique. */
export const serviceLinkedRoleServices = (resourceTypes: readonly string[]): string[] =>
  [...new Set(resourceTypes.flatMap((t) => SERVICE_LINKED_ROLES[t] ?? []))].sort();

/**
 * IAM reads a handler makes beyond the tap roles: the AWS::RDS::DBInstance
 * handlers list iam:GetRole (which role is not documented) and iam:ListRoles,
 * which supports no resource-level permissions. Read-only, so allowed on `*`.
 */
export const ROLE_READS: Readonly<Record<string, readonly string[]>> = {
  'AWS::RDS::DBInstance': ['iam:GetRole', 'iam:ListRoles'],
};

/** IAM identities the templates never create: denied, whatever else the role is given. */
export const DENIED_IDENTITY_ACTIONS = [
  'iam:AddUserToGroup',
  'iam:CreateAccessKey',
  'iam:CreateGroup',
  'iam:CreateLoginProfile',
  'iam:CreateUser',
  'iam:UpdateLoginProfile',
];

/**
 * Route 53 is global and signs its requests for us-east-1, so the region
 * condition always admits it besides the deployment regions (IAM is global too,
 * but is scoped by path, not region).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
 */
export const GLOBAL_ENDPOINT_REGION = 'us-east-1';

export interface ExecutionPolicyArgs {
  /** Every resource type in the templates. */
  readonly resourceTypes: readonly string[];
  readonly accountId: string;
  readonly regions: readonly string[];
  /** The environment's suffix: roles are under `/tap/<suffix>/`, named resources end in `-<suffix>`. */
  readonly environmentSuffix: string;
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

/** `ssm` -> `Ssm`, for statement IDs (alphanumeric only). */
const sidOf = (service: string): string => service.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

/** The execution role's identity policy for these templates. */
export function executionRolePolicy(args: ExecutionPolicyArgs): PolicyDocument {
  const ungranted = args.resourceTypes.filter((t) => t.startsWith('AWS::IAM::') && !GRANTED_IAM_TYPES.includes(t));
  if (ungranted.length > 0) {
    throw new Error(`${ungranted.join(', ')}: the execution role manages IAM roles under ${iamRolePath('<suffix>')} only; grant these, scoped, in components/executionPolicy.ts`);
  }
  const scoped = nameScopedServices(args.resourceTypes);
  const services = requiredServices(args.resourceTypes).filter((s) => s !== 'cloudformation' && s !== 'iam' && !scoped.includes(s));
  const regions = [...new Set([...args.regions, GLOBAL_ENDPOINT_REGION])].sort();
  const inRegions = { StringEquals: { 'aws:RequestedRegion': regions } };
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
    statements.push({ Sid: 'TemplateServices', Effect: 'Allow', Action: services.map((s) => `${s}:*`), Resource: '*', Condition: inRegions });
  }
  for (const service of scoped) {
    const scope = NAME_SCOPES[service];
    statements.push({ Sid: `${sidOf(service)}ByName`, Effect: 'Allow', Action: [`${service}:*`], Resource: scope.resources(args) });
    if (scope.unscopedActions.length > 0) {
      statements.push({ Sid: `${sidOf(service)}Unscoped`, Effect: 'Allow', Action: [...scope.unscopedActions], Resource: '*', Condition: inRegions });
    }
  }
  if (args.resourceTypes.includes('AWS::IAM::Role')) {
    // IAM evaluates CreateRole against the ARN of the role to be created, path included.
    const tapRoles = [`arn:aws:iam::${args.accountId}:role${iamRolePath(args.environmentSuffix)}*`];
    statements.push(
      { Sid: 'TapRoles', Effect: 'Allow', Action: ROLE_MANAGEMENT_ACTIONS, Resource: tapRoles },
      // Lambda, RDS enhanced monitoring, flow logs and S3 replication are given tap roles only.
      { Sid: 'PassTapRoles', Effect: 'Allow', Action: ['iam:PassRole'], Resource: tapRoles },
    );
  }
  const linked = serviceLinkedRoleServices(args.resourceTypes);
  if (linked.length > 0) {
    statements.push({
      Sid: 'ServiceLinkedRoles',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      // A service-linked role's path is /aws-service-role/<service name>/.
      Resource: linked.map((s) => `arn:aws:iam::${args.accountId}:role/aws-service-role/${s}/*`),
      Condition: { StringEquals: { 'iam:AWSServiceName': linked } },
    });
  }
  const reads = [...new Set(args.resourceTypes.flatMap((t) => ROLE_READS[t] ?? []))].sort();
  if (reads.length > 0) statements.push({ Sid: 'RoleReads', Effect: 'Allow', Action: reads, Resource: '*' });
  statements.push({ Sid: 'NoIamIdentities', Effect: 'Deny', Action: DENIED_IDENTITY_ACTIONS, Resource: '*' });
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
