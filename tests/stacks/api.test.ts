/**
 * ApiStack: the HTTP API in front of the transaction validator, which MonitoringStack
 * and DnsStack read without waiting for the functions.
 */
import { template, resources, resourcesOfType, hasResourceProperties, propertiesOf } from '../support/assertions';
import { ROUTES, VALIDATOR_ARN_PATTERN } from '../../cfn/stacks/api';
import { Exports, Names, exportNamePattern } from '../../cfn/contract/names';
import { GUARD_SUPPRESSIONS_KEY, JsonObject } from '../../cfn/lib/template';

const t = template('ApiStack');
const all = resources(t);
const outputs = t.Outputs as Record<string, JsonObject>;
const sub = (pattern: string): JsonObject => ({ 'Fn::Sub': pattern });

describe('ApiStack: the HTTP API', () => {
  test('GIVEN the API WHEN built THEN it is an HTTP API named with the suffix, integrated with the validator by its derived ARN (payload 2.0)', () => {
    hasResourceProperties(t, 'AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', Name: sub(`${Names.httpApi}-\${EnvironmentSuffix}`) });
    hasResourceProperties(t, 'AWS::ApiGatewayV2::Integration', {
      ApiId: { Ref: 'HttpApi' },
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: sub(VALIDATOR_ARN_PATTERN),
      PayloadFormatVersion: '2.0',
    });
    expect(VALIDATOR_ARN_PATTERN).toBe(`arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${Names.validatorFunction}-\${EnvironmentSuffix}`);
  });

  test('GIVEN the validator\'s ARN WHEN ComputeStack names its function THEN the derived ARN names that same function', () => {
    const compute = resources(template('ComputeStack'));
    expect(compute.ValidatorFunction.Properties?.FunctionName).toEqual(sub(`${Names.validatorFunction}-\${EnvironmentSuffix}`));
  });

  test('GIVEN ApiStack WHEN read THEN it imports nothing: the API waits for no other stack', () => {
    expect(JSON.stringify(t)).not.toContain('Fn::ImportValue');
  });

  test.each([
    [ROUTES.transactions, 'POST /transactions', 'AWS_IAM'],
    [ROUTES.health, 'GET /health', 'NONE'],
  ])('GIVEN route %s WHEN built THEN %s goes to the validator with authorization %s', (routeKey, expected, auth) => {
    expect(routeKey).toBe(expected);
    hasResourceProperties(t, 'AWS::ApiGatewayV2::Route', { ApiId: { Ref: 'HttpApi' }, RouteKey: routeKey, AuthorizationType: auth, Target: sub('integrations/${ValidatorIntegration}') });
    expect(Object.keys(resourcesOfType(t, 'AWS::ApiGatewayV2::Route'))).toHaveLength(2);
  });

  test('GIVEN the unauthenticated health route WHEN checked by Control Tower THEN its exception names the Route 53 requirement', () => {
    expect((all.HealthRoute.Metadata?.[GUARD_SUPPRESSIONS_KEY] as JsonObject).api_gw_v2_authorization_type_configured_check).toMatch(/the Route 53 health check probes GET \/health/);
  });

  test('GIVEN the stage WHEN built THEN $default auto-deploys, logs JSON access lines to an encrypted group, and throttles from parameters', () => {
    const stage = propertiesOf(t, 'HttpApiStage');
    expect(stage).toMatchObject({
      ApiId: { Ref: 'HttpApi' },
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': ['ApiAccessLogGroup', 'Arn'] } },
      DefaultRouteSettings: { ThrottlingBurstLimit: { Ref: 'ApiThrottlingBurstLimit' }, ThrottlingRateLimit: { Ref: 'ApiThrottlingRateLimit' } },
    });
    const format = JSON.parse((stage.AccessLogSettings as JsonObject).Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
    expect(Object.values(format).filter((v) => /body|request\.|header/i.test(v))).toEqual([]);
    expect(propertiesOf(t, 'ApiAccessLogGroup')).toMatchObject({ KmsKeyId: { 'Fn::GetAtt': ['ApiKey', 'Arn'] }, RetentionInDays: { Ref: 'LogRetentionDays' } });
  });

  test.each([
    [Exports.api.httpApiId, { Ref: 'HttpApi' }],
    [Exports.api.httpApiEndpoint, sub('https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}')],
  ])('GIVEN export %s WHEN built THEN its output carries the value under the suffixed export name', (key, value) => {
    expect(outputs[key]).toMatchObject({ Value: value, Export: { Name: sub(exportNamePattern(key)) } });
  });
});
