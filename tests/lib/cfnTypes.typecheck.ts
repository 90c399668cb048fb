/**
 * Compile-time checks of the generated property types: `npm run typecheck`
 * (tsc) fails if intrinsics stop being accepted where CloudFormation accepts
 * them, or if a mistake stops being rejected (an unused @ts-expect-error is an
 * error). Jest transpiles without type-checking, so this file is not a test
 * suite; its values are exported only so that they count as used.
 */
import { Intrinsic } from '../../cfn/lib/value';
import {
  ApiGatewayV2ApiProps,
  CloudWatchDashboardProps,
  EC2VPCEndpointProps,
  EC2VPCProps,
  IAMRoleProps,
  LambdaFunctionProps,
  ResourcePropsByType,
  ResourceType,
  S3BucketProps,
  TAG_PROPERTY,
} from '../../cfn/lib/cfnTypes.generated';

const ref = (logicalId: string): Intrinsic => new Intrinsic('Ref', logicalId);
const sub = (template: string): Intrinsic => new Intrinsic('Fn::Sub', template);
const ifPrimary = (whenTrue: unknown, whenFalse: unknown): Intrinsic => new Intrinsic('Fn::If', ['IsPrimaryRegion', whenTrue, whenFalse]);
const NO_VALUE = ref('AWS::NoValue');
const costTags = [{ Key: 'cost-center', Value: ref('CostCenter') }];

export const endpoint: EC2VPCEndpointProps = {
  VpcId: ref('Vpc'),
  ServiceName: sub('com.amazonaws.${AWS::Region}.secretsmanager'),
  VpcEndpointType: 'Interface',
  PrivateDnsEnabled: true,
  SubnetIds: [ref('SubnetA'), ref('SubnetB')],
  SecurityGroupIds: ifPrimary([ref('EndpointSg')], NO_VALUE),
  PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: sub('${Secret}') }] },
  Tags: costTags,
};

export const bucket: S3BucketProps = {
  BucketName: sub('tap-${AWS::AccountId}-${AWS::Region}'),
  // The whole struct as an Fn::If: one template for both regions.
  ReplicationConfiguration: ifPrimary({ Role: ref('ReplicationRole'), Rules: [{ Status: 'Enabled', Destination: { Bucket: ref('ReplicaArn') } }] }, NO_VALUE),
  VersioningConfiguration: { Status: 'Enabled' },
  Tags: [...costTags, { Key: 'region', Value: ref('AWS::Region') }],
};

export const fn: LambdaFunctionProps = {
  Code: { ImageUri: sub('${Repo}:latest') },
  Role: new Intrinsic('Fn::GetAtt', ['Role', 'Arn']),
  MemorySize: ref('MemorySize'),
  LoggingConfig: { LogGroup: ref('LogGroup'), LogFormat: 'JSON' },
  Environment: { Variables: { TABLE: ref('Table'), MODE: 'live' } },
  Tags: costTags,
};

export const role: IAMRoleProps = {
  AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
  ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')],
};

export const dashboard: ResourcePropsByType['AWS::CloudWatch::Dashboard'] = { DashboardBody: sub('{"widgets":[]}'), Tags: costTags };
export const sameDashboard: CloudWatchDashboardProps = dashboard;
export const api: ApiGatewayV2ApiProps = { Name: 'tap', ProtocolType: 'HTTP', Tags: { 'cost-center': ref('CostCenter') } };
export const vpcTagProperty: string | undefined = TAG_PROPERTY['AWS::EC2::VPC']?.property;
export const stackType: ResourceType = 'AWS::CloudFormation::Stack';

// @ts-expect-error VpcId is required
export const missingRequired: EC2VPCEndpointProps = { ServiceName: 'com.amazonaws.us-east-1.s3' };
// @ts-expect-error a misspelt property is not accepted
export const unknownProperty: EC2VPCProps = { CidrBlock: '10.0.0.0/16', CidrBlok: '10.0.0.0/16' };
// @ts-expect-error MemorySize is a number
export const wrongPrimitive: LambdaFunctionProps = { Code: {}, Role: 'arn', MemorySize: '128' };
// @ts-expect-error a tag needs both Key and Value
export const halfTag: EC2VPCProps = { Tags: [{ Key: 'cost-center' }] };
// @ts-expect-error custom resource types are not generated
export const customType: ResourceType = 'Custom::DeploymentGate';
