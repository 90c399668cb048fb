/**
 * ApiStack: the HTTP API clients call (POST /transactions, IAM-signed) and Route
 * 53 probes (GET /health). It is a stack of its own, not part of ComputeStack,
 * because the API's ID is the one alarm dimension no name can derive (API
 * Gateway publishes HTTP API metrics by ApiId only): MonitoringStack and
 * DnsStack import it, and with the API here neither waits for the functions,
 * and an image update changes ComputeStack alone.
 *
 * The integration names the validator by its derived ARN, so this stack needs
 * nothing from ComputeStack; API Gateway checks only the ARN's form when the
 * integration is created, and invokes the function (with the permission
 * ComputeStack grants this API) only when a request arrives.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import { TemplateBuilder, NestedStackDefinition } from '../lib/template';
import { ParameterDef, shared } from '../lib/sharedParameters';
import { getAtt, ref, sub, resourceName } from '../lib/intrinsics';
import { Exports, Names, arnPattern, namePattern } from '../contract/names';
import { encryptedLogGroup, kmsKey, logsKeyService } from '../lib/patterns';

/** The HTTP API's auto-deployed stage; MonitoringStack's metrics and DnsStack's mapping name it too. */
export const HTTP_API_STAGE = '$default';

/** Routes of the HTTP API; both go to the validator. */
export const ROUTES = {
  transactions: 'POST /transactions',
  health: 'GET /health',
} as const;

/**
 * Access-log line: one JSON object per request. Request bodies (card numbers)
 * are never logged; the caller's IAM identity is, because the transactions
 * route is IAM-authorized.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
});

export const ApiParameters = {
  ApiThrottlingBurstLimit: {
    Type: 'Number',
    Description: 'Default-route burst limit of the HTTP API (requests).',
    MinValue: 1,
    MaxValue: 5000,
    Default: 200,
    ConstraintDescription: 'Must be 1 to 5000 (the account-level API Gateway burst quota).',
  },
  ApiThrottlingRateLimit: {
    Type: 'Number',
    Description: 'Default-route steady-state rate limit of the HTTP API (requests per second).',
    MinValue: 1,
    MaxValue: 10000,
    Default: 100,
    ConstraintDescription: 'Must be 1 to 10000 requests per second (the account-level API Gateway rate quota).',
  },
} as const satisfies Record<string, ParameterDef>;

/** The validator's ARN, derived from its name (ComputeStack names it so). */
export const VALIDATOR_ARN_PATTERN = arnPattern('lambda', `function:${namePattern(Names.validatorFunction)}`);

function build(): TemplateBuilder {
  const t = new TemplateBuilder('ApiStack', 'tap API: the HTTP API (POST /transactions, GET /health) in front of the transaction validator, with its access log.');
  t.parametersFrom({ ...shared('EnvironmentSuffix', 'EnvironmentType', 'CostCenter', 'LogRetentionDays'), ...ApiParameters });

  const key = kmsKey(t, 'ApiKey', { description: 'tap API: encrypts the HTTP API access log group', alias: 'tap-api', services: [logsKeyService()] });

  t.resource(
    'HttpApi',
    'AWS::ApiGatewayV2::Api',
    {
      Name: resourceName(Names.httpApi),
      ProtocolType: 'HTTP',
      Description: 'tap transactions API',
    },
  );
  t.resource(
    'ValidatorIntegration',
    'AWS::ApiGatewayV2::Integration',
    {
      ApiId: ref('HttpApi'),
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: sub(VALIDATOR_ARN_PATTERN),
      PayloadFormatVersion: '2.0',
    },
  );
  t.resource(
    'TransactionsRoute',
    'AWS::ApiGatewayV2::Route',
    {
      ApiId: ref('HttpApi'),
      RouteKey: ROUTES.transactions,
      // CT.APIGATEWAY.PR.5: callers (merchant back ends) sign with SigV4; card data
      // is never accepted from an anonymous caller.
      AuthorizationType: 'AWS_IAM',
      Target: sub('integrations/${ValidatorIntegration}'),
    },
  );
  // Unauthenticated: the Route 53 health check cannot sign requests (the registry's
  // CT.APIGATEWAY.PR.5 exception, cfn/lib/exceptions.ts); it answers reachability only.
  t.resource('HealthRoute', 'AWS::ApiGatewayV2::Route', {
    ApiId: ref('HttpApi'),
    RouteKey: ROUTES.health,
    AuthorizationType: 'NONE',
    Target: sub('integrations/${ValidatorIntegration}'),
  });
  const accessLogs = encryptedLogGroup(t, 'ApiAccessLogGroup', sub(`/aws/vendedlogs/tap/${namePattern('transactions-api-access')}`), key.arn);
  t.resource(
    'HttpApiStage',
    'AWS::ApiGatewayV2::Stage',
    {
      ApiId: ref('HttpApi'),
      StageName: HTTP_API_STAGE,
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: getAtt(accessLogs, 'Arn'), Format: ACCESS_LOG_FORMAT },
      DefaultRouteSettings: {
        ThrottlingBurstLimit: ref('ApiThrottlingBurstLimit'),
        ThrottlingRateLimit: ref('ApiThrottlingRateLimit'),
      },
    },
  );

  const e = Exports.api;
  t.export(e.httpApiId, ref('HttpApi'), { description: 'ID of the HTTP API' });
  t.export(e.httpApiEndpoint, sub('https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}'), {
    description: 'Regional endpoint of the HTTP API',
  });
  return t;
}

export const ApiStack: NestedStackDefinition = { templateName: 'ApiStack', build };
