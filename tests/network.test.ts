import { template, hasResourceProperties, resourcesOfType, findValues } from './support/template';
import { INTERFACE_ENDPOINT_SERVICES, GATEWAY_ENDPOINT_SERVICES, NetworkParameters } from '../cfn/network';
import { Exports } from '../cfn/lib/names';
import { JsonObject } from '../cfn/lib/template';

const t = template('NetworkStack');
const outputs = t.Outputs as Record<string, JsonObject>;

describe('NetworkStack', () => {
  test('GIVEN the VPC WHEN built THEN its CIDR comes from a parameter and DNS is on for private endpoints', () => {
    hasResourceProperties(t, 'AWS::EC2::VPC', { CidrBlock: { Ref: 'VpcCidr' }, EnableDnsHostnames: true, EnableDnsSupport: true });
  });

  test.each([0, 1, 2])('GIVEN private subnet %i WHEN built THEN its AZ is Fn::Select of Fn::GetAZs, never a literal', (i) => {
    hasResourceProperties(t, 'AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [i, { 'Fn::GetAZs': '' }] },
      CidrBlock: { Ref: `PrivateSubnet${i + 1}Cidr` },
      MapPublicIpOnLaunch: false,
    });
  });

  test('GIVEN the stack WHEN built THEN there is no route to the internet', () => {
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::EgressOnlyInternetGateway', 'AWS::EC2::Route']) {
      expect(Object.keys(resourcesOfType(t, type))).toEqual([]);
    }
  });

  test.each(GATEWAY_ENDPOINT_SERVICES.map((s) => [s]))('GIVEN %s WHEN built THEN a gateway endpoint serves the private route table', (service) => {
    hasResourceProperties(t, 'AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      RouteTableIds: [{ Ref: 'PrivateRouteTable' }],
    });
  });

  test.each(INTERFACE_ENDPOINT_SERVICES.map((s) => [s]))('GIVEN %s WHEN built THEN an interface endpoint with private DNS sits in all three subnets', (service) => {
    hasResourceProperties(t, 'AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      SubnetIds: [{ Ref: 'PrivateSubnet1' }, { Ref: 'PrivateSubnet2' }, { Ref: 'PrivateSubnet3' }],
      SecurityGroupIds: [{ Ref: 'EndpointSecurityGroup' }],
    });
  });

  test('GIVEN the database security group WHEN built THEN it admits 3306 from the Lambda group only', () => {
    hasResourceProperties(t, 'AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, SourceSecurityGroupId: { 'Fn::GetAtt': ['LambdaSecurityGroup', 'GroupId'] } }],
    });
  });

  test('GIVEN the endpoint security group WHEN built THEN it admits 443 from the VPC CIDR only', () => {
    hasResourceProperties(t, 'AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: { Ref: 'VpcCidr' } }],
    });
  });

  test('GIVEN every ingress rule WHEN inspected THEN none is open to 0.0.0.0/0 or ::/0', () => {
    const ingress = findValues(t, (_v, path) => /SecurityGroupIngress\/\d+$/.test(path) || /AWS::EC2::SecurityGroupIngress/.test(path));
    expect(ingress.length).toBeGreaterThan(0);
    for (const { value } of ingress) {
      expect((value as JsonObject).CidrIp).not.toBe('0.0.0.0/0');
      expect((value as JsonObject).CidrIpv6).not.toBe('::/0');
    }
    expect(Object.keys(resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress'))).toEqual([]);
  });

  test('GIVEN the Lambda security group WHEN built THEN MySQL egress goes only to the database group', () => {
    hasResourceProperties(t, 'AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': ['LambdaSecurityGroup', 'GroupId'] },
      FromPort: 3306,
      DestinationSecurityGroupId: { 'Fn::GetAtt': ['DatabaseSecurityGroup', 'GroupId'] },
    });
  });

  test('GIVEN flow logs WHEN built THEN all traffic goes to a KMS-encrypted log group with retention from a parameter', () => {
    hasResourceProperties(t, 'AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    hasResourceProperties(t, 'AWS::Logs::LogGroup', {
      RetentionInDays: { Ref: 'LogRetentionDays' },
      KmsKeyId: { 'Fn::GetAtt': ['NetworkKey', 'Arn'] },
    });
    hasResourceProperties(t, 'AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test.each(Object.keys(NetworkParameters).map((k) => [k]))('GIVEN CIDR parameter %s WHEN validated THEN its pattern admits private blocks and refuses public ones', (name) => {
    const pattern = new RegExp((NetworkParameters as Record<string, { AllowedPattern: string }>)[name].AllowedPattern);
    expect(pattern.test('10.40.0.0/16')).toBe(true);
    expect(pattern.test('172.16.32.0/20')).toBe(true);
    expect(pattern.test('192.168.1.0/24')).toBe(true);
    expect(pattern.test('8.8.8.0/24')).toBe(false);
    expect(pattern.test('10.40.0.0/8')).toBe(false);
    expect(pattern.test('10.400.0.0/16')).toBe(false);
    for (const malformed of ['10.1.2/16', '172.16.1.2.3/20', '192.168.0.0.0/24', '10.0.0.0.0/16', '192.168.1/24', '10.0.0.0/16 ']) {
      expect([malformed, pattern.test(malformed)]).toEqual([malformed, false]);
    }
  });

  test.each(Object.values(Exports.network).map((k) => [k]))('GIVEN export %s WHEN built THEN it is exported under the suffixed name', (key) => {
    const found = Object.values(outputs).filter((o) => JSON.stringify(o.Export) === JSON.stringify({ Name: { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${key}` } }));
    expect(found).toHaveLength(1);
  });
});
