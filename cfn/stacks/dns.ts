/**
 * DnsStack (the root creates it only when EnableDnsFailover holds): one public
 * host name for the API that Route 53 fails over between the regions. Each
 * region's instance adds its own certificate, regional custom domain, health
 * check on its own regional endpoint and failover alias record: PRIMARY in the
 * primary region, SECONDARY in the other
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html).
 */
import { TemplateBuilder, NestedStackDefinition } from '../lib/template';
import { IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION, ParameterDef, SUFFIX_MAX_LENGTH, shared } from '../lib/sharedParameters';
import { Fn, getAtt, iff, Intrinsic, ref, sub, importValue } from '../lib/intrinsics';
import { Exports, SUFFIX, namePattern } from '../contract/names';
import { HTTP_API_STAGE } from './api';

/** Outputs the root reads. */
export const DNS_DOMAIN_OUTPUT = 'ApiDomainName';
export const DNS_HEALTH_CHECK_OUTPUT = 'HealthCheckId';

/**
 * Both parameters may be empty: the root passes them through unchanged and
 * deploys this stack only when both are set (EnableDnsFailover). So they are
 * Strings with patterns, not AWS::Route53::HostedZone::Id, which CloudFormation
 * validates against the account and which therefore cannot be left empty.
 */
/** A DNS name has at most 253 characters; the host adds the suffix and a dot. */
export const DOMAIN_NAME_MAX_LENGTH = 253 - SUFFIX_MAX_LENGTH - 1;

export const DnsParameters = {
  HostedZoneId: {
    Type: 'String',
    Description: 'Route 53 public hosted zone of DomainName; empty disables DNS failover (no DnsStack).',
    AllowedPattern: '^(Z[A-Z0-9]{1,31})?$',
    Default: '',
    ConstraintDescription: 'Empty, or a Route 53 hosted zone ID: Z followed by up to 31 uppercase letters and digits.',
  },
  DomainName: {
    Type: 'String',
    Description: 'Base domain of the API inside HostedZoneId (for example api.example.com): the API answers at <EnvironmentSuffix>.<DomainName>. Empty disables DNS failover.',
    AllowedPattern: '^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9])?$',
    MaxLength: DOMAIN_NAME_MAX_LENGTH,
    Default: '',
    ConstraintDescription: 'Empty, or a lowercase fully qualified host name such as api.example.com (no trailing dot).',
  },
} as const satisfies Record<string, ParameterDef>;

/**
 * The failover host: `<EnvironmentSuffix>.<DomainName>`, for example
 * prod.api.example.com. Custom domain names are unique per account and region,
 * so, like every other name in tap, the host carries the suffix and two
 * environments sharing an account and a zone never collide.
 */
export const apiHostName = (): Intrinsic => sub(`\${${SUFFIX}}.\${DomainName}`);

export const HEALTH_CHECK_PATH = '/health';
/** Route 53 marks an endpoint unhealthy after 3 failed checks 30 s apart: failover within about 90 s plus the record TTL. */
export const HEALTH_CHECK = { requestInterval: 30, failureThreshold: 3 } as const;

/**
 * The regional execute-api host of the HTTP API, from ApiStack's endpoint
 * export (`https://<api-id>.execute-api.<region>.amazonaws.com`): the part after
 * `https://`.
 */
export const apiHost = (): Intrinsic => Fn.Select(1, Fn.Split('https://', importValue(Exports.api.httpApiEndpoint)));

function build(): TemplateBuilder {
  const t = new TemplateBuilder('DnsStack', 'tap DNS failover: certificate, API custom domain, health check and failover alias record of this region.');
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter', 'PrimaryRegion'), ...DnsParameters });
  const isPrimary = t.condition(IS_PRIMARY_REGION_CONDITION, IS_PRIMARY_REGION);

  t.resource(
    'Certificate',
    'AWS::CertificateManager::Certificate',
    {
      DomainName: apiHostName(),
      ValidationMethod: 'DNS',
      // CloudFormation writes the validation CNAME into the zone and waits for issuance
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html).
      DomainValidationOptions: [{ DomainName: apiHostName(), HostedZoneId: ref('HostedZoneId') }],
    },
    { tags: { Name: sub(namePattern('tap-api')) }, deletionPolicy: 'Delete' },
  );

  t.resource(
    'CustomDomain',
    'AWS::ApiGatewayV2::DomainName',
    {
      DomainName: apiHostName(),
      DomainNameConfigurations: [
        { CertificateArn: ref('Certificate'), EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' },
      ],
    },
  );

  t.resource(
    'ApiMapping',
    'AWS::ApiGatewayV2::ApiMapping',
    {
      DomainName: ref('CustomDomain'),
      ApiId: importValue(Exports.api.httpApiId),
      Stage: HTTP_API_STAGE,
    },
  );

  // The check targets this region's execute-api endpoint, not the custom domain:
  // the failover record must not depend on the record it decides about.
  t.resource(
    'HealthCheck',
    'AWS::Route53::HealthCheck',
    {
      HealthCheckConfig: {
        Type: 'HTTPS',
        FullyQualifiedDomainName: apiHost(),
        Port: 443,
        ResourcePath: HEALTH_CHECK_PATH,
        EnableSNI: true, // API Gateway serves many hosts on one address and needs the server name
        RequestInterval: HEALTH_CHECK.requestInterval,
        FailureThreshold: HEALTH_CHECK.failureThreshold,
      },
    },
    { tags: { Name: sub(`${namePattern('tap-api')}-\${AWS::Region}`) } },
  );

  t.resource(
    'FailoverRecord',
    'AWS::Route53::RecordSet',
    {
      HostedZoneId: ref('HostedZoneId'),
      Name: apiHostName(),
      Type: 'A',
      Failover: iff(isPrimary, 'PRIMARY', 'SECONDARY'),
      SetIdentifier: sub(`${namePattern('tap-api')}-\${AWS::Region}`),
      HealthCheckId: ref('HealthCheck'),
      AliasTarget: {
        DNSName: getAtt('CustomDomain', 'RegionalDomainName'),
        HostedZoneId: getAtt('CustomDomain', 'RegionalHostedZoneId'),
        EvaluateTargetHealth: true,
      },
    },
  );

  t.output(DNS_DOMAIN_OUTPUT, ref('CustomDomain'), { description: 'Public API host name (<EnvironmentSuffix>.<DomainName>), failed over by Route 53' });
  t.output(DNS_HEALTH_CHECK_OUTPUT, ref('HealthCheck'), { description: "Route 53 health check of this region's API endpoint" });
  return t;
}

export const DnsStack: NestedStackDefinition = { templateName: 'DnsStack', build };
