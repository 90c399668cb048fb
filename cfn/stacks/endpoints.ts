/**
 * EndpointsStack: what the private VPC of NetworkStack offers at run time and
 * nothing waits for at deploy time: the VPC endpoints through which the
 * functions reach AWS (gateway endpoints for S3 and DynamoDB, interface
 * endpoints for SSM and Secrets Manager) and the VPC flow logs. An interface
 * endpoint takes minutes to become available (an ENI in every subnet), and the
 * flow logs need a key and a log group first; kept out of NetworkStack, neither
 * delays Aurora, whose stack waits for the subnets and security groups only.
 *
 * The functions may be created before the endpoints exist: Lambda creates a
 * function without calling SSM or Secrets Manager, and the functions read them
 * only when invoked, by which time the endpoints are up (nothing invokes them
 * before the root's schema migration, which waits for this stack).
 */
import { TemplateBuilder, NestedStackDefinition } from '../lib/template';
import { shared } from '../lib/sharedParameters';
import { getAtt, ref, sub, importValue, resourceName } from '../lib/intrinsics';
import { Exports, namePattern } from '../contract/names';
import { encryptedLogGroup, kmsKey, logsKeyService } from '../lib/patterns';
import { NetworkParameters, subnetIds } from './network';

/**
 * AWS APIs the VPC functions call, reached privately. The validator reads SSM
 * and Secrets Manager; the migration function the same. Lambda delivers logs and
 * X-Ray traces itself, outside the function's ENI, so no endpoint is needed for them.
 */
export const INTERFACE_ENDPOINT_SERVICES = ['ssm', 'secretsmanager'] as const;
export const GATEWAY_ENDPOINT_SERVICES = ['s3', 'dynamodb'] as const;

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function build(): TemplateBuilder {
  const t = new TemplateBuilder('EndpointsStack', 'tap network services: VPC endpoints (S3, DynamoDB, SSM, Secrets Manager) and VPC flow logs of the NetworkStack VPC.');
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter', 'LogRetentionDays'), VpcCidr: NetworkParameters.VpcCidr });
  const vpcId = importValue(Exports.network.vpcId);

  t.resource(
    'EndpointSecurityGroup',
    'AWS::EC2::SecurityGroup',
    {
      GroupDescription: 'tap interface VPC endpoints: HTTPS from inside the VPC only',
      GroupName: resourceName('tap-endpoints'),
      VpcId: vpcId,
      SecurityGroupIngress: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: ref('VpcCidr'), Description: 'HTTPS from inside the VPC' },
      ],
      SecurityGroupEgress: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: ref('VpcCidr'), Description: 'Responses stay inside the VPC' },
      ],
    },
    { tags: { Name: resourceName('tap-endpoints') } },
  );

  for (const service of GATEWAY_ENDPOINT_SERVICES) {
    t.resource(
      `${capitalize(service)}GatewayEndpoint`,
      'AWS::EC2::VPCEndpoint',
      {
        VpcId: vpcId,
        ServiceName: sub(`com.amazonaws.\${AWS::Region}.${service}`),
        VpcEndpointType: 'Gateway',
        RouteTableIds: [importValue(Exports.network.privateRouteTableId)],
      },
      { tags: { Name: resourceName(`tap-${service}`) } },
    );
  }
  const subnetKeys = [Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id];
  if (subnetKeys.length !== subnetIds.length) throw new Error('EndpointsStack: one subnet export per NetworkStack subnet');
  for (const service of INTERFACE_ENDPOINT_SERVICES) {
    t.resource(
      `${capitalize(service)}InterfaceEndpoint`,
      'AWS::EC2::VPCEndpoint',
      {
        VpcId: vpcId,
        ServiceName: sub(`com.amazonaws.\${AWS::Region}.${service}`),
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: subnetKeys.map(importValue),
        SecurityGroupIds: [ref('EndpointSecurityGroup')],
      },
      { tags: { Name: resourceName(`tap-${service}`) } },
    );
  }

  // Flow logs: every accepted and rejected flow, to an encrypted log group.
  const key = kmsKey(t, 'NetworkKey', { description: 'tap network: encrypts VPC flow logs', alias: 'tap-network', services: [logsKeyService()] });
  encryptedLogGroup(t, 'FlowLogGroup', sub(`/tap/${namePattern('vpc-flow-logs')}`), key.arn);
  t.serviceRole(
    'FlowLogRole',
    {
      service: 'vpc-flow-logs.amazonaws.com',
      trustCondition: {
        StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
        ArnLike: { 'aws:SourceArn': sub('arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*') },
      },
      Policies: [
        {
          PolicyName: 'deliver-flow-logs',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
                Resource: [getAtt('FlowLogGroup', 'Arn')],
              },
            ],
          },
        },
      ],
    },
  );
  t.resource(
    'VpcFlowLog',
    'AWS::EC2::FlowLog',
    {
      ResourceId: vpcId,
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: ref('FlowLogGroup'),
      DeliverLogsPermissionArn: getAtt('FlowLogRole', 'Arn'),
      MaxAggregationInterval: 600,
    },
    { tags: { Name: resourceName('tap-vpc-flow-log') } },
  );

  t.export(Exports.endpoints.endpointSecurityGroupId, getAtt('EndpointSecurityGroup', 'GroupId'), {
    description: 'Security group of the interface endpoints',
  });
  return t;
}

export const EndpointsStack: NestedStackDefinition = { templateName: 'EndpointsStack', build };
