import {
  DENIED_IDENTITY_ACTIONS,
  GLOBAL_ENDPOINT_REGION,
  PolicyStatement,
  administrationPolicy,
  administrationTrustPolicy,
  executionRolePolicy,
  executionTrustPolicy,
  requiredServices,
  servicePrefix,
} from '../../components/executionPolicy';
import { readTemplates, templateResourceTypes } from '../../components/templates';

const ACCOUNT = '210987654321';
const policyFor = (resourceTypes: string[]) =>
  executionRolePolicy({
    resourceTypes,
    accountId: ACCOUNT,
    regions: ['eu-west-1', 'us-west-2'],
    stackSetName: 'tap-prod',
    templateBuckets: ['tap-templates-prod-210987654321-eu-west-1', 'tap-templates-prod-210987654321-us-west-2'],
    imageRepositories: ['tap-lambda-prod'],
  });
const statement = (statements: PolicyStatement[], sid: string): PolicyStatement | undefined => statements.find((s) => s.Sid === sid);

describe('execution role: services from resource types', () => {
  test.each([
    ['AWS::RDS::DBCluster', 'rds'],
    ['AWS::ApiGatewayV2::Api', 'apigateway'],
    ['AWS::CertificateManager::Certificate', 'acm'],
    ['AWS::Logs::LogGroup', 'logs'],
    ['AWS::EC2::VPCEndpoint', 'ec2'],
    ['AWS::SecretsManager::RotationSchedule', 'secretsmanager'],
    ['Custom::DeploymentGate', 'lambda'],
    ['AWS::CloudFormation::CustomResource', 'lambda'],
  ])('GIVEN %s WHEN mapped THEN the IAM service is %s', (type, prefix) => {
    expect(servicePrefix(type)).toBe(prefix);
  });

  test('GIVEN a namespace without a mapping WHEN mapped THEN the error says where to add it', () => {
    expect(() => servicePrefix('AWS::Kendra::Index')).toThrow(/AWS::Kendra::Index: no IAM service prefix is known for it; add its namespace to SERVICE_PREFIXES in components\/executionPolicy\.ts/);
  });

  test('GIVEN every resource type in the committed templates WHEN mapped THEN each has a service (the policy cannot go stale silently)', () => {
    const types = templateResourceTypes(readTemplates());
    expect(types.length).toBeGreaterThan(0);
    expect(() => requiredServices(types)).not.toThrow();
  });

  test('GIVEN resources whose handlers call other services WHEN mapped THEN those services are added', () => {
    expect(requiredServices(['AWS::Lambda::Function'])).toEqual(['ec2', 'lambda']);
    expect(requiredServices(['AWS::RDS::DBCluster'])).toEqual(['kms', 'rds', 'secretsmanager']);
    expect(requiredServices(['AWS::DynamoDB::GlobalTable'])).toEqual(['application-autoscaling', 'dynamodb']);
  });
});

describe('execution role: policy', () => {
  const types = ['AWS::CloudFormation::Stack', 'AWS::RDS::DBCluster', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'Custom::SchemaMigration'];
  const { Statement: statements } = policyFor(types);

  test('GIVEN the templates WHEN the policy is built THEN no statement allows every action', () => {
    expect(statements.flatMap((s) => s.Action).filter((a) => a === '*' || a === '*:*')).toEqual([]);
  });

  test('GIVEN the templates WHEN the policy is built THEN the service-level actions are those of the templates and limited to the deployment regions', () => {
    expect(statement(statements, 'TemplateServices')).toEqual({
      Sid: 'TemplateServices',
      Effect: 'Allow',
      Action: ['ec2:*', 'iam:*', 'kms:*', 'lambda:*', 'rds:*', 'secretsmanager:*'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': ['eu-west-1', GLOBAL_ENDPOINT_REGION, 'us-west-2'].sort() } },
    });
  });

  test('GIVEN the StackSet WHEN the policy is built THEN CloudFormation is limited to its stack instances and their nested stacks', () => {
    expect(statement(statements, 'StackSetStacks')?.Resource).toEqual([
      `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/StackSet-tap-prod-*/*`,
      `arn:aws:cloudformation:us-west-2:${ACCOUNT}:stack/StackSet-tap-prod-*/*`,
    ]);
    expect(statements.filter((s) => s.Action.includes('cloudformation:*') && s.Resource === '*')).toEqual([]);
  });

  test('GIVEN nested templates WHEN the policy is built THEN they are readable from the artifact buckets only', () => {
    expect(statement(statements, 'TemplateArtifacts')).toMatchObject({
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: ['arn:aws:s3:::tap-templates-prod-210987654321-eu-west-1/templates/*', 'arn:aws:s3:::tap-templates-prod-210987654321-us-west-2/templates/*'],
    });
  });

  test('GIVEN image functions WHEN the policy is built THEN the image can be pulled from the tap repositories only', () => {
    expect(statement(statements, 'FunctionImages')?.Resource).toEqual([
      `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/tap-lambda-prod`,
      `arn:aws:ecr:us-west-2:${ACCOUNT}:repository/tap-lambda-prod`,
    ]);
    expect(statement(policyFor(['AWS::S3::Bucket']).Statement, 'FunctionImages')).toBeUndefined();
  });

  test('GIVEN templates without IAM users or groups WHEN the policy is built THEN creating them is denied, and allowed when a template has one', () => {
    expect(statement(statements, 'NoIamIdentities')).toEqual({ Sid: 'NoIamIdentities', Effect: 'Deny', Action: DENIED_IDENTITY_ACTIONS, Resource: '*' });
    expect(statement(policyFor([...types, 'AWS::IAM::User']).Statement, 'NoIamIdentities')).toBeUndefined();
  });
});

describe('StackSet roles: trust', () => {
  test('GIVEN the administration role WHEN trusted THEN only CloudFormation may assume it, for this account and StackSet', () => {
    expect(administrationTrustPolicy(ACCOUNT, 'tap-prod')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'cloudformation.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, StringLike: { 'aws:SourceArn': `arn:aws:cloudformation:*:${ACCOUNT}:stackset/tap-prod:*` } },
        },
      ],
    });
  });

  test('GIVEN the two roles WHEN linked THEN the administration role may assume the execution role only, and only it may', () => {
    const admin = `arn:aws:iam::${ACCOUNT}:role/a`;
    const exec = `arn:aws:iam::${ACCOUNT}:role/e`;
    expect(administrationPolicy(exec)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: exec }] });
    expect(executionTrustPolicy(admin)).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: admin }, Action: 'sts:AssumeRole' }] });
  });
});
