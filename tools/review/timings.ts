/**
 * Typical CloudFormation creation and update times per resource type, for the
 * deployment plan (deploymentPlan.ts). Each row models the typical case of a range and
 * shows the range, and says where the figures come from:
 *
 * - "AWS docs": AWS documentation states the figure (or the behaviour it follows from);
 * - "AWS source": AWS's public CloudFormation resource-handler code shows the waits;
 * - "public log": timestamps or durations in a public issue or pull request;
 * - "estimate": nothing published; an engineering estimate, labelled as such.
 *
 * A URL in the source column is where the figure was read. Terraform acceptance-test
 * durations cover create, checks and delete, so they are upper bounds on a create.
 * Change a figure here and `npm run synth` rewrites docs/deployment-plan.md.
 */
import { Json, JsonObject } from '../../cfn/lib/template';

export type Basis = 'AWS docs' | 'AWS source' | 'public log' | 'estimate';

export interface ResourceTiming {
  /** Typical seconds from CREATE_IN_PROGRESS to CREATE_COMPLETE. */
  readonly createSeconds: number;
  /** [shortest, longest] create seen or documented. */
  readonly createRange: readonly [number, number];
  /** Typical seconds for an in-place update (UPDATE_IN_PROGRESS to UPDATE_COMPLETE). */
  readonly updateSeconds: number;
  readonly updateRange: readonly [number, number];
  readonly basis: Basis;
  /** Why the figure is what it is, with the URL it was read from, or "estimate: <why>". */
  readonly source: string;
}

type Range = readonly [number, number];
const row = (basis: Basis, create: number, createRange: Range, update: number, updateRange: Range, source: string): ResourceTiming => ({
  createSeconds: create,
  createRange,
  updateSeconds: update,
  updateRange,
  basis,
  source,
});
const estimate = (create: number, createRange: Range, update: number, updateRange: Range, why: string): ResourceTiming =>
  row('estimate', create, createRange, update, updateRange, `estimate: ${why}`);

const CONTROL_PLANE = 'a control-plane call CloudFormation adds no wait to; no timing published';

/**
 * Aurora. AWS: "Aurora cluster and instance creation can take 10-20 minutes"
 * (https://github.com/aws/agent-toolkit-for-aws, skill creating-amazon-aurora-db-cluster-with-instances)
 * and "it can take up to 20 minutes before the new DB cluster is available"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.CreateInstance.html).
 * Public deploy logs put the cluster alone at about a minute and an instance at 6-12 minutes.
 */
export const AURORA_RANGE_NOTE =
  'AWS: 10-20 min for cluster plus instance (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.CreateInstance.html: "up to 20 minutes"); public logs: cluster alone about 1 min, an instance 6-12 min';

/**
 * Per-type figures. A type missing here gets {@link DEFAULT_TIMING} and the
 * plan lists it under its assumptions, so a new resource type is never silently free.
 */
export const RESOURCE_TIMINGS: Readonly<Record<string, ResourceTiming>> = {
  'AWS::EC2::VPC': row('public log', 15, [15, 25], 5, [5, 15], 'CloudFormation events: VPC in 16.5 s (https://github.com/aws/aws-cli/issues/3952)'),
  'AWS::EC2::Subnet': row('public log', 5, [1, 20], 5, [1, 10], 'CloudFormation console events of a two-AZ VPC template (https://github.com/widdix/aws-cf-templates/issues/79)'),
  'AWS::EC2::RouteTable': row('public log', 2, [1, 20], 5, [1, 10], 'https://github.com/widdix/aws-cf-templates/issues/79'),
  'AWS::EC2::SubnetRouteTableAssociation': row('public log', 15, [10, 20], 5, [1, 15], 'associations 02:36:21 -> 02:36:35 (https://github.com/widdix/aws-cf-templates/issues/79)'),
  'AWS::EC2::SecurityGroup': estimate(5, [1, 10], 5, [1, 10], CONTROL_PLANE),
  'AWS::EC2::SecurityGroupIngress': estimate(5, [1, 10], 5, [1, 10], CONTROL_PLANE),
  'AWS::EC2::SecurityGroupEgress': estimate(5, [1, 10], 5, [1, 10], CONTROL_PLANE),
  'AWS::EC2::FlowLog': estimate(5, [2, 15], 5, [2, 15], CONTROL_PLANE),
  'AWS::EC2::VPCEndpoint': row(
    'public log',
    90,
    [60, 180],
    60,
    [30, 90],
    'interface endpoint with an ENI in each of 3 subnets; Terraform acceptance tests (create + delete, upper bounds) https://github.com/hashicorp/terraform-provider-aws/pull/46800, https://github.com/hashicorp/terraform-provider-aws/issues/44824 (gateway endpoints: see timingFor)',
  ),
  'AWS::Logs::LogGroup': row('AWS source', 2, [1, 5], 2, [1, 5], 'no wait in the handler (https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-logs)'),
  'AWS::IAM::Role': row('public log', 15, [9, 25], 10, [5, 15], 'CloudFormation events: role in 9.3 s (https://github.com/aws/aws-cli/issues/3952)'),
  'AWS::IAM::Policy': row('public log', 15, [14, 20], 15, [14, 20], 'policy 12:42:14 -> 12:42:29 (https://github.com/aws/aws-cdk/issues/5910)'),
  'AWS::IAM::ManagedPolicy': estimate(15, [10, 25], 15, [10, 25], 'as AWS::IAM::Policy'),
  'AWS::KMS::Key': row(
    'AWS source',
    20,
    [15, 90],
    60,
    [5, 70],
    'the handler waits a fixed 15 s after CreateKey since March 2024 (60 s before), and 60 s after a key-policy change (https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-kms, EventualConsistencyHandlerHelper.java)',
  ),
  'AWS::KMS::Alias': estimate(2, [1, 5], 2, [1, 5], CONTROL_PLANE),
  'AWS::SecretsManager::Secret': row('public log', 2, [1, 10], 3, [1, 10], 'DatabaseCluster secret with GenerateSecretString created in under a second (https://github.com/aws/aws-cdk/pull/23703)'),
  'AWS::SecretsManager::SecretTargetAttachment': estimate(5, [1, 20], 5, [1, 20], CONTROL_PLANE),
  'AWS::SecretsManager::RotationSchedule': estimate(60, [10, 120], 60, [10, 120], 'the first rotation runs when the schedule is created (a rotation-function round trip)'),
  'AWS::SecretsManager::ResourcePolicy': estimate(5, [1, 10], 5, [1, 10], CONTROL_PLANE),
  'AWS::RDS::DBSubnetGroup': estimate(5, [2, 15], 5, [2, 15], CONTROL_PLANE),
  'AWS::RDS::DBClusterParameterGroup': estimate(5, [2, 15], 5, [2, 15], CONTROL_PLANE),
  'AWS::RDS::DBParameterGroup': estimate(5, [2, 15], 5, [2, 15], CONTROL_PLANE),
  'AWS::RDS::DBCluster': row(
    'AWS source',
    60,
    [30, 180],
    120,
    [90, 150],
    `the cluster alone, no instance; the handler checks its status every 30 s and an update waits for three stable checks (https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-rds); Terraform cluster tests 148-225 s with delete (https://github.com/hashicorp/terraform-provider-aws/pull/23560). ${AURORA_RANGE_NOTE}`,
  ),
  'AWS::RDS::DBInstance': row(
    'estimate',
    540,
    [360, 720],
    270,
    [180, 360],
    `estimate: an Aurora instance in 9 min, the middle of the 6-12 min that public deploy logs show for one instance (no single published figure; Terraform's cluster-instance acceptance tests take 815-1470 s including the delete: https://github.com/hashicorp/terraform-provider-aws/pull/31112); writer and readers are created in parallel. Update: a reboot for a parameter change (estimate). ${AURORA_RANGE_NOTE}`,
  ),
  'AWS::SSM::Parameter': estimate(5, [1, 10], 5, [1, 10], CONTROL_PLANE),
  'AWS::DynamoDB::Table': estimate(15, [5, 30], 10, [5, 20], 'on-demand table without indexes: CloudFormation waits for ACTIVE'),
  'AWS::DynamoDB::GlobalTable': row(
    'AWS docs',
    240,
    [150, 600],
    60,
    [20, 400],
    'an empty table with one replica: "a few minutes for an empty table" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-globaltable.html); Terraform one-replica tests 273-532 s with delete (https://github.com/hashicorp/terraform-provider-aws/pull/41451)',
  ),
  'AWS::S3::Bucket': row('public log', 20, [5, 40], 10, [5, 35], 'bucket update within 35 s including the change set (https://github.com/aws/aws-cdk/issues/14649); create: estimate'),
  'AWS::S3::BucketPolicy': estimate(5, [1, 10], 5, [1, 10], CONTROL_PLANE),
  'AWS::Lambda::Function': row(
    'AWS docs',
    60,
    [20, 300],
    30,
    [15, 60],
    'a VPC function stays Pending while Lambda creates its network interfaces: "Lambda can require several minutes to create a Hyperplane ENI" (https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html), usually one minute or less when the subnet and security group pair already has one (Terraform VPC function test 66.55 s with delete: https://github.com/hashicorp/terraform-provider-aws/pull/10114). Update: a new image is optimized for "a few seconds" (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html); 30 s is an estimate',
  ),
  'AWS::Lambda::Permission': estimate(2, [1, 10], 2, [1, 10], CONTROL_PLANE),
  'AWS::Lambda::Version': estimate(10, [5, 30], 10, [5, 30], CONTROL_PLANE),
  'AWS::Lambda::EventInvokeConfig': estimate(2, [1, 10], 2, [1, 10], CONTROL_PLANE),
  'AWS::ApiGatewayV2::Api': estimate(2, [1, 10], 2, [1, 10], CONTROL_PLANE),
  'AWS::ApiGatewayV2::Stage': estimate(3, [1, 10], 3, [1, 10], CONTROL_PLANE),
  'AWS::ApiGatewayV2::Route': estimate(1, [1, 10], 1, [1, 10], CONTROL_PLANE),
  'AWS::ApiGatewayV2::Integration': estimate(1, [1, 10], 1, [1, 10], CONTROL_PLANE),
  'AWS::ApiGatewayV2::DomainName': estimate(30, [10, 90], 30, [10, 60], 'regional custom domain: CloudFormation waits for the domain to become available'),
  'AWS::ApiGatewayV2::ApiMapping': estimate(2, [1, 10], 2, [1, 10], CONTROL_PLANE),
  'AWS::SNS::Topic': row('AWS source', 5, [1, 15], 3, [1, 10], 'no wait in the handler (https://github.com/aws-cloudformation/aws-cloudformation-resource-providers-sns)'),
  'AWS::SNS::Subscription': estimate(5, [1, 15], 5, [1, 15], 'e-mail subscriptions complete before the recipient confirms'),
  'AWS::SNS::TopicPolicy': estimate(5, [1, 15], 5, [1, 15], CONTROL_PLANE),
  'AWS::CloudWatch::Alarm': estimate(3, [1, 10], 3, [1, 10], CONTROL_PLANE),
  'AWS::CloudWatch::CompositeAlarm': estimate(3, [1, 10], 3, [1, 10], CONTROL_PLANE),
  'AWS::CloudWatch::Dashboard': estimate(2, [1, 5], 2, [1, 5], CONTROL_PLANE),
  'AWS::CertificateManager::Certificate': row(
    'AWS docs',
    180,
    [60, 600],
    180,
    [60, 600],
    'DNS validation with the record CloudFormation writes into the hosted zone (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html); usually minutes, sometimes far longer (https://github.com/aws/aws-cdk/issues/2914): the least predictable figure',
  ),
  'AWS::Route53::HealthCheck': estimate(5, [2, 15], 5, [2, 15], CONTROL_PLANE),
  'AWS::Route53::RecordSet': row(
    'AWS docs',
    45,
    [30, 90],
    45,
    [30, 90],
    'CloudFormation waits until the change is INSYNC; "changes generally propagate to all Route 53 name servers within 60 seconds" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html)',
  ),
  'Custom::SchemaMigration': estimate(
    30,
    [15, 120],
    30,
    [15, 120],
    'cold start of the image function in the VPC (AWS: cold starts "from under 100 ms to over 1 second", https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), the settings reads, the pending migrations (small DDL on an empty or small schema), the answer through the pre-signed S3 URL',
  ),
  'Custom::CrossRegionPrerequisites': estimate(
    10,
    [5, 300],
    10,
    [5, 300],
    'a few reads in the other region once its StorageStack has created the bucket and keys (the plan starts it no earlier than that); at most its 300 s wait',
  ),
};

/** Anything the table does not list. */
export const DEFAULT_TIMING: ResourceTiming = estimate(30, [10, 120], 30, [10, 120], 'default for a resource type the table does not list');

/** Gateway endpoints (S3, DynamoDB) are route-table entries, not ENIs. */
const GATEWAY_ENDPOINT: ResourceTiming = row(
  'public log',
  10,
  [5, 30],
  10,
  [5, 15],
  'gateway endpoint: route-table entries only, no network interfaces (https://github.com/hashicorp/terraform-provider-aws/pull/46800, upper bound)',
);
/** A function outside a VPC has no network interfaces to wait for. */
const NON_VPC_FUNCTION: ResourceTiming = row(
  'public log',
  20,
  [10, 60],
  30,
  [15, 60],
  'no VPC: Active within seconds (Terraform function tests 22-40 s with the role and delete: https://github.com/hashicorp/terraform-provider-aws/pull/10347); an image update still waits for the image to be optimized (estimate)',
);

/** The figure for one resource: the type's row, refined where a property changes what CloudFormation waits for. */
export function timingFor(type: string, properties: JsonObject | undefined): ResourceTiming {
  const props = properties ?? {};
  if (type === 'AWS::EC2::VPCEndpoint' && props.VpcEndpointType === 'Gateway') return GATEWAY_ENDPOINT;
  if (type === 'AWS::Lambda::Function' && (props.VpcConfig as Json | undefined) === undefined) return NON_VPC_FUNCTION;
  return RESOURCE_TIMINGS[type] ?? DEFAULT_TIMING;
}

/** True when the table has a row for the type (else the plan reports the default it used). */
export const hasTiming = (type: string): boolean => type in RESOURCE_TIMINGS;

export interface Overhead {
  readonly seconds: number;
  readonly range: readonly [number, number];
  readonly basis: Basis;
  readonly source: string;
}

/** Fixed costs that are not a resource. */
export const OVERHEADS = {
  /**
   * A nested stack on top of its longest internal chain: CloudFormation creates
   * the child stack, starts its resources, and the parent notices completion.
   */
  nestedStack: {
    seconds: 10,
    range: [5, 30],
    basis: 'public log',
    source: '5 s from the parent starting the nested stack to its first resource; a nested stack with a topic and a queue in 23 s (https://github.com/aws/aws-cdk/pull/7805); the 5 s at the end is an estimate',
  },
  /**
   * A nested stack whose template and parameters did not change: CloudFormation
   * still starts an update on it, because its template might have changed, and
   * changes none of its resources.
   */
  unchangedNestedStack: {
    seconds: 20,
    range: [15, 40],
    basis: 'estimate',
    source:
      'estimate; that it happens at all: "CloudFormation updates the resources of modified nested stacks, but doesn\'t update the resources of unmodified nested stacks" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stack.html)',
  },
  /** A StackSet operation: queueing until the instances' stacks start, and its own bookkeeping at the end. */
  stackSetOperation: {
    seconds: 60,
    range: [30, 120],
    basis: 'estimate',
    source: 'estimate (about 30 s until the instances\' stacks start, 30 s to record the result); AWS publishes no figure (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html)',
  },
  /** Invoking a custom resource and receiving its answer through the pre-signed S3 URL. */
  customResourceRoundTrip: {
    seconds: 10,
    range: [3, 60],
    basis: 'estimate',
    source: 'estimate: an invocation and a PUT to the pre-signed S3 URL (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html)',
  },
  /** The gate polls every 30 s: how long it takes to see a change in the other region (lambda/tap/deploy_gate.py). */
  gatePollInterval: {
    seconds: 15,
    range: [0, 30],
    basis: 'estimate',
    source:
      'estimate: the gate reads both regions\' alarms, and while it waits the other region\'s gate, every 30 s (lambda/tap/deploy_gate.py POLL_INTERVAL_SECONDS), so it sees a change there 15 s later on average, 30 s at most',
  },
} as const satisfies Record<string, Overhead>;
