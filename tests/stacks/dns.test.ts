import { template, hasResourceProperties, importOf, resources } from '../support/assertions';
import { render, Deployment } from '../support/conditions';
import { DnsParameters, HEALTH_CHECK, HEALTH_CHECK_PATH } from '../../cfn/stacks/dns';
import { Exports, exportNamePattern } from '../../cfn/contract/names';
import { TAG_KEYS } from '../../cfn/lib/tags';
import { SUFFIX_MAX_LENGTH } from '../../cfn/lib/sharedParameters';
import { Json, JsonObject } from '../../cfn/lib/template';

const t = template('DnsStack');
const res = resources(t);
const host = { 'Fn::Sub': '${EnvironmentSuffix}.${DomainName}' };

const deployment = (region: string): Deployment => ({
  region,
  parameters: { PrimaryRegion: 'us-east-1', EnvironmentSuffix: 'prod', HostedZoneId: 'Z0123456789ABCDEFGHIJ', DomainName: 'api.example.com' },
});

/** Fn::Select / Fn::Split / Fn::ImportValue over known exports: enough to evaluate the health check's host. */
function evaluate(v: Json, exportsByName: Record<string, string>): string {
  if (typeof v === 'string') return v;
  const o = v as JsonObject;
  if (o['Fn::ImportValue'] !== undefined) return exportsByName[((o['Fn::ImportValue'] as JsonObject)['Fn::Sub']) as string];
  if (o['Fn::Split'] !== undefined) throw new Error('Fn::Split yields a list; select from it');
  if (o['Fn::Select'] !== undefined) {
    const [index, list] = o['Fn::Select'] as [number, JsonObject];
    const [delimiter, source] = list['Fn::Split'] as [string, Json];
    return evaluate(source, exportsByName).split(delimiter)[index];
  }
  throw new Error(`cannot evaluate ${JSON.stringify(v)}`);
}

describe('DnsStack', () => {
  test('GIVEN the certificate WHEN built THEN it covers the environment host and validates through the hosted zone', () => {
    hasResourceProperties(t, 'AWS::CertificateManager::Certificate', {
      DomainName: host,
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: host, HostedZoneId: { Ref: 'HostedZoneId' } }],
    });
  });

  test('GIVEN the custom domain WHEN built THEN it is REGIONAL with TLS 1.2 and the certificate', () => {
    hasResourceProperties(t, 'AWS::ApiGatewayV2::DomainName', {
      DomainName: host,
      DomainNameConfigurations: [{ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2', CertificateArn: { Ref: 'Certificate' } }],
    });
  });

  test('GIVEN the API mapping WHEN built THEN it maps the custom domain to ApiStack’s HTTP API $default stage', () => {
    hasResourceProperties(t, 'AWS::ApiGatewayV2::ApiMapping', { DomainName: { Ref: 'CustomDomain' }, ApiId: importOf(Exports.api.httpApiId), Stage: '$default' });
  });

  test('GIVEN the health check WHEN built THEN it probes HTTPS /health with SNI on the regional execute-api host', () => {
    hasResourceProperties(t, 'AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTPS',
        Port: 443,
        ResourcePath: HEALTH_CHECK_PATH,
        EnableSNI: true,
        RequestInterval: HEALTH_CHECK.requestInterval,
        FailureThreshold: HEALTH_CHECK.failureThreshold,
      },
    });
    expect(HEALTH_CHECK_PATH).toBe('/health');
    const fqdn = (res.HealthCheck.Properties?.HealthCheckConfig as JsonObject).FullyQualifiedDomainName as Json;
    const endpoint = { [exportNamePattern(Exports.api.httpApiEndpoint)]: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com' };
    expect(evaluate(fqdn, endpoint)).toBe('a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com');
  });

  test('GIVEN the health check WHEN built THEN its HealthCheckTags carry the cost-allocation tags', () => {
    const keys = (res.HealthCheck.Properties?.HealthCheckTags as Array<{ Key: string }>).map((tag) => tag.Key);
    expect(keys).toEqual(expect.arrayContaining([...TAG_KEYS]));
  });

  test.each([
    ['the primary region', 'us-east-1', 'PRIMARY'],
    ['the secondary region', 'eu-west-1', 'SECONDARY'],
  ])('GIVEN %s (%s) WHEN rendered THEN the alias record fails over as %s', (_what, region, failover) => {
    const record = render(t, deployment(region)).resources.FailoverRecord;
    expect(record.Properties).toEqual({
      HostedZoneId: { Ref: 'HostedZoneId' },
      Name: host,
      Type: 'A',
      Failover: failover,
      SetIdentifier: { 'Fn::Sub': 'tap-api-${EnvironmentSuffix}-${AWS::Region}' },
      HealthCheckId: { Ref: 'HealthCheck' },
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': ['CustomDomain', 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': ['CustomDomain', 'RegionalHostedZoneId'] },
        EvaluateTargetHealth: true,
      },
    });
  });

  const accepts = (id: keyof typeof DnsParameters, value: string): boolean => new RegExp(DnsParameters[id].AllowedPattern).test(value);
  test.each([
    ['HostedZoneId', '', true],
    ['HostedZoneId', 'Z0123456789ABCDEFGHIJ', true],
    ['HostedZoneId', 'z0123', false],
    ['HostedZoneId', '/hostedzone/Z0123', false],
    ['DomainName', '', true],
    ['DomainName', 'api.example.com', true],
    ['DomainName', 'API.example.com', false],
    ['DomainName', 'api.example.com.', false],
    ['DomainName', 'https://api.example.com', false],
  ] as const)('GIVEN %s = %j WHEN checked against its pattern THEN accepted is %s', (id, value, ok) => {
    expect(accepts(id, value)).toBe(ok);
  });

  test('GIVEN the longest suffix WHEN the host is built THEN DomainName’s MaxLength keeps it within 253 characters', () => {
    expect(SUFFIX_MAX_LENGTH + '.'.length + DnsParameters.DomainName.MaxLength).toBeLessThanOrEqual(253);
  });

  test('GIVEN the DNS parameters WHEN read THEN both default to empty, which leaves DNS failover off at the root', () => {
    expect([DnsParameters.HostedZoneId.Default, DnsParameters.DomainName.Default]).toEqual(['', '']);
  });
});
