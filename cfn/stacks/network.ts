/**
 * NetworkStack: the core of a private-only VPC across three AZs: subnets, their
 * route table and the security groups. Nothing in tap needs the internet, so
 * there is no internet or NAT gateway. This is all Aurora waits for, so it holds
 * nothing else: the VPC endpoints (minutes to create) and the flow logs are in
 * EndpointsStack, which nothing waits for at deploy time.
 */
import { TemplateBuilder, NestedStackDefinition } from '../lib/template';
import { shared, ParameterDef } from '../lib/sharedParameters';
import { az, getAtt, ref, Fn, resourceName } from '../lib/intrinsics';
import { Exports } from '../contract/names';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/** RFC 1918 blocks with exactly four octets, prefix /16 to /28 (the VPC and subnet limits). */
const CIDR_PATTERN =
  `^(10(\\.${OCTET}){3}|172\\.(1[6-9]|2[0-9]|3[01])(\\.${OCTET}){2}|192\\.168(\\.${OCTET}){2})/(1[6-9]|2[0-8])$`;

const cidrParameter = (what: string, defaultCidr: string): ParameterDef => ({
  Type: 'String',
  Description: `IPv4 CIDR block of ${what}.`,
  AllowedPattern: CIDR_PATTERN,
  Default: defaultCidr,
  ConstraintDescription: 'Must be a private (RFC 1918) IPv4 CIDR block with a prefix length from /16 to /28.',
});

export const AZ_COUNT = 3;

export const NetworkParameters = {
  VpcCidr: cidrParameter('the VPC', '10.40.0.0/16'),
  PrivateSubnet1Cidr: cidrParameter('the private subnet in the first availability zone', '10.40.0.0/20'),
  PrivateSubnet2Cidr: cidrParameter('the private subnet in the second availability zone', '10.40.16.0/20'),
  PrivateSubnet3Cidr: cidrParameter('the private subnet in the third availability zone', '10.40.32.0/20'),
} as const satisfies Record<string, ParameterDef>;

export const subnetIds = [1, 2, 3].map((i) => `PrivateSubnet${i}`);

function build(): TemplateBuilder {
  const t = new TemplateBuilder('NetworkStack', 'tap network core: private VPC across three AZs, subnets, route table, security groups.');
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter'), ...NetworkParameters });

  t.resource(
    'Vpc',
    'AWS::EC2::VPC',
    {
      CidrBlock: ref('VpcCidr'),
      EnableDnsHostnames: true, // interface endpoints with private DNS need both
      EnableDnsSupport: true,
    },
    { tags: { Name: resourceName('tap-vpc') } },
  );

  t.resource('PrivateRouteTable', 'AWS::EC2::RouteTable', { VpcId: ref('Vpc') }, { tags: { Name: resourceName('tap-private') } });

  subnetIds.forEach((id, i) => {
    t.resource(
      id,
      'AWS::EC2::Subnet',
      {
        VpcId: ref('Vpc'),
        CidrBlock: ref(`${id}Cidr`),
        AvailabilityZone: az(i),
        MapPublicIpOnLaunch: false,
      },
      { tags: { Name: resourceName(`tap-private-${i + 1}`) } },
    );
    t.resource(`${id}RouteTableAssociation`, 'AWS::EC2::SubnetRouteTableAssociation', { SubnetId: ref(id), RouteTableId: ref('PrivateRouteTable') });
  });

  // Security groups: the database admits MySQL from the functions only (the
  // endpoints' group is EndpointsStack's). Egress is explicit, which removes the
  // default allow-all rule.
  t.resource(
    'LambdaSecurityGroup',
    'AWS::EC2::SecurityGroup',
    {
      GroupDescription: 'tap Lambda functions: egress to Aurora and HTTPS to VPC endpoints only',
      GroupName: resourceName('tap-lambda'),
      VpcId: ref('Vpc'),
      // HTTPS egress goes to the VPC CIDR (interface endpoints) and, for the S3 and
      // DynamoDB gateway endpoints, to AWS prefix lists whose IDs CloudFormation cannot
      // look up; without an internet or NAT gateway no other destination is routable.
      SecurityGroupEgress: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0', Description: 'HTTPS to VPC endpoints (no internet route exists)' },
      ],
    },
    { tags: { Name: resourceName('tap-lambda') } },
  );
  t.resource(
    'LambdaToDatabaseEgress',
    'AWS::EC2::SecurityGroupEgress',
    {
      GroupId: getAtt('LambdaSecurityGroup', 'GroupId'),
      IpProtocol: 'tcp',
      FromPort: 3306,
      ToPort: 3306,
      DestinationSecurityGroupId: getAtt('DatabaseSecurityGroup', 'GroupId'),
      Description: 'MySQL to Aurora',
    },
  );
  t.resource(
    'DatabaseSecurityGroup',
    'AWS::EC2::SecurityGroup',
    {
      GroupDescription: 'tap Aurora cluster: MySQL from the Lambda security group only',
      GroupName: resourceName('tap-database'),
      VpcId: ref('Vpc'),
      SecurityGroupIngress: [
        {
          IpProtocol: 'tcp',
          FromPort: 3306,
          ToPort: 3306,
          SourceSecurityGroupId: getAtt('LambdaSecurityGroup', 'GroupId'),
          Description: 'MySQL from tap Lambda functions',
        },
      ],
      // Aurora initiates no connections outside the VPC; an explicit rule replaces the default allow-all egress.
      SecurityGroupEgress: [
        { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, CidrIp: ref('VpcCidr'), Description: 'Aurora replication inside the VPC' },
      ],
    },
    { tags: { Name: resourceName('tap-database') } },
  );
  const e = Exports.network;
  t.export(e.vpcId, ref('Vpc'), { description: 'VPC ID' });
  t.export(e.vpcCidr, ref('VpcCidr'), { description: 'VPC CIDR block' });
  subnetIds.forEach((id, i) => {
    const key = [e.privateSubnet1Id, e.privateSubnet2Id, e.privateSubnet3Id][i];
    t.export(key, ref(id), { description: `Private subnet in availability zone ${i + 1}` });
  });
  t.export(e.privateRouteTableId, ref('PrivateRouteTable'), { description: 'Route table of the private subnets (gateway endpoints add their routes here)' });
  t.export(e.privateSubnetIds, Fn.Join(',', subnetIds.map(ref)), { description: 'Comma-separated private subnet IDs' });
  t.export(e.lambdaSecurityGroupId, getAtt('LambdaSecurityGroup', 'GroupId'), { description: 'Security group of the VPC functions' });
  t.export(e.databaseSecurityGroupId, getAtt('DatabaseSecurityGroup', 'GroupId'), { description: 'Security group of the Aurora cluster' });
  return t;
}

export const NetworkStack: NestedStackDefinition = { templateName: 'NetworkStack', build };
