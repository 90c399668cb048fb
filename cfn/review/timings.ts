/**
 * Typical CloudFormation creation and update times per resource type, for the
 * deployment plan (plan.ts). Every figure names where it comes from and how much
 * it can be trusted:
 *
 * - "AWS docs": the figure (or the behaviour it follows from) is in AWS's documentation;
 * - "AWS guidance": published by AWS outside the reference documentation;
 * - "engineering estimate": typical CloudFormation event timings as seen in practice,
 *   not a documented figure. Most rows are of this kind: AWS documents what
 *   CloudFormation waits for, rarely how long it takes.
 *
 * Change a figure here and `npm run synth` rewrites docs/deployment-plan.md.
 */
import { Json, JsonObject } from '../lib/template';

export type Basis = 'AWS docs' | 'AWS guidance' | 'engineering estimate';

export interface ResourceTiming {
  /** Seconds from CREATE_IN_PROGRESS to CREATE_COMPLETE. */
  readonly createSeconds: number;
  /** Seconds for an in-place update (UPDATE_IN_PROGRESS to UPDATE_COMPLETE). */
  readonly updateSeconds: number;
  readonly basis: Basis;
  /** Why the figure is what it is, with a link where there is one. */
  readonly source: string;
}

const estimate = (createSeconds: number, updateSeconds: number, source: string): ResourceTiming => ({
  createSeconds,
  updateSeconds,
  basis: 'engineering estimate',
  source,
});

const CONTROL_PLANE = 'control-plane call; CloudFormation completes within seconds';
const AURORA_GUIDANCE =
  'AWS: "Aurora cluster and instance creation can take 10-20 minutes" (https://github.com/aws/agent-toolkit-for-aws, skill creating-amazon-aurora-db-cluster-with-instances); ' +
  'tap assumes 12 minutes in total, the lower half of that range, split between cluster and instance by estimate';

/**
 * Per-type figures. A type missing here gets {@link DEFAULT_TIMING} and the
 * plan lists it under its assumptions, so a new resource type is never silently free.
 */
export const RESOURCE_TIMINGS: Readonly<Record<string, ResourceTiming>> = {
  'AWS::EC2::VPC': estimate(20, 5, 'CloudFormation waits for the VPC to become available'),
  'AWS::EC2::Subnet': estimate(10, 5, CONTROL_PLANE),
  'AWS::EC2::RouteTable': estimate(10, 5, CONTROL_PLANE),
  'AWS::EC2::Route': estimate(10, 5, CONTROL_PLANE),
  'AWS::EC2::SubnetRouteTableAssociation': estimate(10, 5, CONTROL_PLANE),
  'AWS::EC2::SecurityGroup': estimate(10, 5, CONTROL_PLANE),
  'AWS::EC2::SecurityGroupIngress': estimate(5, 5, CONTROL_PLANE),
  'AWS::EC2::SecurityGroupEgress': estimate(5, 5, CONTROL_PLANE),
  'AWS::EC2::FlowLog': estimate(15, 5, CONTROL_PLANE),
  'AWS::EC2::VPCEndpoint': estimate(
    120,
    60,
    'interface endpoint: CloudFormation waits until the endpoint is available, with an ENI in every subnet (gateway endpoints: see timingFor)',
  ),
  'AWS::Logs::LogGroup': estimate(5, 5, CONTROL_PLANE),
  'AWS::IAM::Role': estimate(20, 15, 'CloudFormation waits a little after CreateRole for IAM to propagate'),
  'AWS::IAM::Policy': estimate(20, 15, 'CloudFormation waits a little after PutRolePolicy for IAM to propagate'),
  'AWS::IAM::ManagedPolicy': estimate(20, 15, 'CloudFormation waits a little for IAM to propagate'),
  'AWS::KMS::Key': estimate(60, 20, 'key creation plus the key policy; conservative'),
  'AWS::KMS::Alias': estimate(5, 5, CONTROL_PLANE),
  'AWS::SecretsManager::Secret': estimate(10, 10, 'GenerateSecretString runs inside CreateSecret'),
  'AWS::SecretsManager::SecretTargetAttachment': estimate(10, 10, CONTROL_PLANE),
  'AWS::SecretsManager::RotationSchedule': estimate(60, 60, 'the first rotation runs when the schedule is created (rotation function round trip)'),
  'AWS::SecretsManager::ResourcePolicy': estimate(5, 5, CONTROL_PLANE),
  'AWS::RDS::DBSubnetGroup': estimate(10, 10, CONTROL_PLANE),
  'AWS::RDS::DBClusterParameterGroup': estimate(15, 15, CONTROL_PLANE),
  'AWS::RDS::DBParameterGroup': estimate(15, 15, CONTROL_PLANE),
  'AWS::RDS::DBCluster': {
    createSeconds: 180,
    updateSeconds: 120,
    basis: 'AWS guidance',
    source: `${AURORA_GUIDANCE}: 3 minutes for the (empty) cluster`,
  },
  'AWS::RDS::DBInstance': {
    createSeconds: 540,
    updateSeconds: 600,
    basis: 'AWS guidance',
    source: `${AURORA_GUIDANCE}: 9 minutes for an instance (writer and readers are created in parallel)`,
  },
  'AWS::SSM::Parameter': estimate(5, 5, CONTROL_PLANE),
  'AWS::DynamoDB::Table': estimate(30, 10, 'CloudFormation waits for the table to become ACTIVE'),
  'AWS::DynamoDB::GlobalTable': estimate(300, 60, 'table plus a replica in the second region; replica creation takes minutes even for an empty table'),
  'AWS::S3::Bucket': estimate(20, 10, 'bucket with encryption, versioning, lifecycle and replication settings'),
  'AWS::S3::BucketPolicy': estimate(5, 5, CONTROL_PLANE),
  'AWS::Lambda::Function': estimate(
    90,
    60,
    'a VPC function stays Pending until Lambda has set up its VPC network interfaces (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html; the duration is not documented); an image update stays InProgress while Lambda optimizes the new image',
  ),
  'AWS::Lambda::Permission': estimate(5, 5, CONTROL_PLANE),
  'AWS::Lambda::Version': estimate(10, 10, CONTROL_PLANE),
  'AWS::Lambda::EventInvokeConfig': estimate(5, 5, CONTROL_PLANE),
  'AWS::ApiGatewayV2::Api': estimate(10, 10, CONTROL_PLANE),
  'AWS::ApiGatewayV2::Stage': estimate(10, 10, CONTROL_PLANE),
  'AWS::ApiGatewayV2::Route': estimate(5, 5, CONTROL_PLANE),
  'AWS::ApiGatewayV2::Integration': estimate(5, 5, CONTROL_PLANE),
  'AWS::ApiGatewayV2::DomainName': estimate(60, 30, 'regional custom domain: CloudFormation waits for the domain to become available'),
  'AWS::ApiGatewayV2::ApiMapping': estimate(5, 5, CONTROL_PLANE),
  'AWS::SNS::Topic': estimate(10, 5, CONTROL_PLANE),
  'AWS::SNS::Subscription': estimate(5, 5, 'e-mail subscriptions complete before the recipient confirms'),
  'AWS::SNS::TopicPolicy': estimate(5, 5, CONTROL_PLANE),
  'AWS::CloudWatch::Alarm': estimate(5, 5, CONTROL_PLANE),
  'AWS::CloudWatch::CompositeAlarm': estimate(5, 5, CONTROL_PLANE),
  'AWS::CloudWatch::Dashboard': estimate(5, 5, CONTROL_PLANE),
  'AWS::CertificateManager::Certificate': estimate(
    240,
    240,
    'DNS validation with the record written into the hosted zone by CloudFormation; usually minutes, but ACM keeps trying for up to 72 hours, so this is the least predictable figure',
  ),
  'AWS::Route53::HealthCheck': estimate(10, 10, CONTROL_PLANE),
  'AWS::Route53::RecordSet': {
    createSeconds: 60,
    updateSeconds: 60,
    basis: 'AWS docs',
    source:
      'CloudFormation waits until the change is INSYNC; "changes generally propagate to all Route 53 name servers within 60 seconds" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html)',
  },
  'Custom::SchemaMigration': estimate(
    60,
    60,
    'custom resource round trip: cold start of the image function in the VPC, the pending migrations (small DDL on an empty or small schema), the response through the pre-signed S3 URL',
  ),
};

/** Anything the table does not list. */
export const DEFAULT_TIMING: ResourceTiming = estimate(30, 30, 'default for a resource type the table does not list');

/** Gateway endpoints (S3, DynamoDB) are route-table entries, not ENIs. */
const GATEWAY_ENDPOINT: ResourceTiming = estimate(15, 10, 'gateway endpoint: route-table entries only, no network interfaces');
/** A function outside a VPC has no network interfaces to wait for. */
const NON_VPC_FUNCTION: ResourceTiming = estimate(20, 60, 'no VPC: Active within seconds; an image update still waits for image optimization');

/** The figure for one resource: the type's row, refined where a property changes what CloudFormation waits for. */
export function timingFor(type: string, properties: JsonObject | undefined): ResourceTiming {
  const props = properties ?? {};
  if (type === 'AWS::EC2::VPCEndpoint' && props.VpcEndpointType === 'Gateway') return GATEWAY_ENDPOINT;
  if (type === 'AWS::Lambda::Function' && (props.VpcConfig as Json | undefined) === undefined) return NON_VPC_FUNCTION;
  return RESOURCE_TIMINGS[type] ?? DEFAULT_TIMING;
}

/** True when the table has a row for the type (else the plan reports the default it used). */
export const hasTiming = (type: string): boolean => type in RESOURCE_TIMINGS;

/** Fixed costs that are not a resource, all engineering estimates. */
export const OVERHEADS = {
  /**
   * A nested stack on top of its longest internal chain: CloudFormation creates
   * the child stack, starts its resources, and the parent notices completion.
   */
  nestedStackSeconds: 30,
  /**
   * A nested stack whose template and parameters did not change: CloudFormation
   * still runs an update on it but changes none of its resources
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-stack.html).
   */
  unchangedNestedStackSeconds: 20,
  /** A StackSet operation reaching one stack instance: queueing, then the root stack's own bookkeeping. */
  stackSetInstanceSeconds: 60,
  /** Invoking a custom resource and receiving its answer through the pre-signed S3 URL. */
  customResourceRoundTripSeconds: 15,
} as const;

/** Bake minutes the gate uses when the root template does not say (issue 5: default 3). */
export const DEFAULT_BAKE_MINUTES = 3;
