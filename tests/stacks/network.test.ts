import { template, hasResourceProperties, importOf, resourcesOfType, findValues } from '../support/assertions';
import { NetworkParameters } from '../../cfn/stacks/network';
import { INTERFACE_ENDPOINT_SERVICES, GATEWAY_ENDPOINT_SERVICES } from '../../cfn/stacks/endpoints';
import { Exports } from '../../cfn/contract/names';
import { JsonObject } from '../../cfn/lib/template';

const t = template('NetworkStack');
const endpoints = template('EndpointsStack');
const outputs = t.Outputs as Record<string, JsonObject>;

describe('NetworkStack: the VPC core Aurora waits for', () => {
  test('GIVEN the core WHEN built THEN it holds the VPC, subnets, route table and security groups only: no endpoint, flow log or key delays the database', () => {
    const types = [...new Set(Object.values(t.Resources as Record<string, JsonObject>).map((r) => String(r.Type)))].sort();
    expect(types).toEqual(['AWS::EC2::RouteTable', 'AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupEgress', 'AWS::EC2::Subnet', 'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::VPC']);
  });

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

  test('GIVEN the database security group WHEN built THEN it admits 3306 from the Lambda group only', () => {
    hasResourceProperties(t, 'AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, SourceSecurityGroupId: { 'Fn::GetAtt': ['LambdaSecurityGroup', 'GroupId'] } }],
    });
  });

  test.each([
    ['NetworkStack', t],
    ['EndpointsStack', endpoints],
  ])('GIVEN every ingress rule of %s WHEN inspected THEN none is open to 0.0.0.0/0 or ::/0', (_name, tpl) => {
    const ingress = findValues(tpl, (_v, path) => /SecurityGroupIngress\/\d+$/.test(path) || /AWS::EC2::SecurityGroupIngress/.test(path));
    expect(ingress.length).toBeGreaterThan(0);
    for (const { value } of ingress) {
      expect((value as JsonObject).CidrIp).not.toBe('0.0.0.0/0');
      expect((value as JsonObject).CidrIpv6).not.toBe('::/0');
    }
    expect(Object.keys(resourcesOfType(tpl, 'AWS::EC2::SecurityGroupIngress'))).toEqual([]);
  });

  test('GIVEN the Lambda security group WHEN built THEN MySQL egress goes only to the database group', () => {
    hasResourceProperties(t, 'AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': ['LambdaSecurityGroup', 'GroupId'] },
      FromPort: 3306,
      DestinationSecurityGroupId: { 'Fn::GetAtt': ['DatabaseSecurityGroup', 'GroupId'] },
    });
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

describe('EndpointsStack: what the VPC offers at run time', () => {
  test.each(GATEWAY_ENDPOINT_SERVICES.map((s) => [s]))('GIVEN %s WHEN built THEN a gateway endpoint serves the private route table of NetworkStack', (service) => {
    hasResourceProperties(endpoints, 'AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      VpcId: importOf(Exports.network.vpcId),
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      RouteTableIds: [importOf(Exports.network.privateRouteTableId)],
    });
  });

  test.each(INTERFACE_ENDPOINT_SERVICES.map((s) => [s]))('GIVEN %s WHEN built THEN an interface endpoint with private DNS sits in all three subnets', (service) => {
    hasResourceProperties(endpoints, 'AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
      ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
      SubnetIds: [Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id].map(importOf),
      SecurityGroupIds: [{ Ref: 'EndpointSecurityGroup' }],
    });
  });

  test('GIVEN the endpoint security group WHEN built THEN it admits 443 from the VPC CIDR only', () => {
    hasResourceProperties(endpoints, 'AWS::EC2::SecurityGroup', {
      VpcId: importOf(Exports.network.vpcId),
      SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: { Ref: 'VpcCidr' } }],
    });
  });

  test('GIVEN flow logs WHEN built THEN all traffic of the VPC goes to a KMS-encrypted log group with retention from a parameter', () => {
    hasResourceProperties(endpoints, 'AWS::EC2::FlowLog', { ResourceId: importOf(Exports.network.vpcId), ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    hasResourceProperties(endpoints, 'AWS::Logs::LogGroup', {
      RetentionInDays: { Ref: 'LogRetentionDays' },
      KmsKeyId: { 'Fn::GetAtt': ['NetworkKey', 'Arn'] },
    });
    hasResourceProperties(endpoints, 'AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('GIVEN the endpoints WHEN exported THEN their security group is the one export', () => {
    const exported = Object.values((endpoints.Outputs ?? {}) as Record<string, JsonObject>).map((o) => JSON.stringify(o.Export));
    expect(exported).toEqual([JSON.stringify({ Name: { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${Exports.endpoints.endpointSecurityGroupId}` } })]);
  });
});
