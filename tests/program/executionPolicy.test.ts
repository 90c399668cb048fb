import { IAM_ROLE_PATH_PATTERN, Names, PROJECT, SUFFIX, iamRolePath, namePattern } from '../../cfn/contract/names';
import {
  DENIED_IDENTITY_ACTIONS,
  GLOBAL_ENDPOINT_REGION,
  PolicyStatement,
  ROLE_MANAGEMENT_ACTIONS,
  administrationPolicy,
  administrationTrustPolicy,
  executionRolePolicy,
  executionTrustPolicy,
  nameScopedServices,
  requiredServices,
  serviceLinkedRoleServices,
  servicePrefix,
} from '../../components/executionPolicy';
import { parseTemplate, readTemplates, templateResourceTypes } from '../../program/committedTemplates';

const ACCOUNT = '210987654321';
const policyFor = (resourceTypes: string[]) =>
  executionRolePolicy({
    resourceTypes,
    accountId: ACCOUNT,
    regions: ['eu-west-1', 'us-west-2'],
    environmentSuffix: 'prod',
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

  test('GIVEN the templates WHEN the policy is built THEN the service-level actions are those of the templates but IAM, limited to the deployment regions', () => {
    expect(statement(statements, 'TemplateServices')).toEqual({
      Sid: 'TemplateServices',
      Effect: 'Allow',
      Action: ['ec2:*', 'kms:*', 'lambda:*', 'rds:*', 'secretsmanager:*'],
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

  test('GIVEN any templates WHEN the policy is built THEN creating IAM users, groups and access keys is denied', () => {
    expect(statement(statements, 'NoIamIdentities')).toEqual({ Sid: 'NoIamIdentities', Effect: 'Deny', Action: DENIED_IDENTITY_ACTIONS, Resource: '*' });
    expect(statement(policyFor(['AWS::S3::Bucket']).Statement, 'NoIamIdentities')).toBeDefined();
  });
});

describe('execution role: IAM by path', () => {
  const types = ['AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::RDS::DBCluster', 'AWS::RDS::DBInstance'];
  const { Statement: statements } = policyFor(types);
  const tapRoles = [`arn:aws:iam::${ACCOUNT}:role/tap/prod/*`];
  const allowsOf = (action: string): PolicyStatement[] => statements.filter((s) => s.Effect === 'Allow' && s.Action.includes(action));

  test('GIVEN roles in the templates WHEN the policy is built THEN no statement grants iam:* (IAM is global: a region condition would not limit it)', () => {
    expect(statements.filter((s) => s.Action.some((a) => a === 'iam:*'))).toEqual([]);
  });

  test('GIVEN roles in the templates WHEN the policy is built THEN the AWS::IAM::Role handler actions are allowed on roles under /tap/<suffix>/ only', () => {
    expect(tapRoles).toEqual([`arn:aws:iam::${ACCOUNT}:role${iamRolePath('prod')}*`]);
    expect(statement(statements, 'TapRoles')).toEqual({ Sid: 'TapRoles', Effect: 'Allow', Action: ROLE_MANAGEMENT_ACTIONS, Resource: tapRoles });
    expect(ROLE_MANAGEMENT_ACTIONS).toEqual(
      expect.arrayContaining(['iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateAssumeRolePolicy']),
    );
  });

  test('GIVEN roles in the templates WHEN the policy is built THEN iam:PassRole is allowed on roles under /tap/<suffix>/ only, in one statement', () => {
    expect(statement(statements, 'PassTapRoles')).toEqual({ Sid: 'PassTapRoles', Effect: 'Allow', Action: ['iam:PassRole'], Resource: tapRoles });
    expect(allowsOf('iam:PassRole').map((s) => s.Sid)).toEqual(['PassTapRoles']);
  });

  test.each([
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:CreatePolicy',
    'iam:CreatePolicyVersion',
    'iam:CreateInstanceProfile',
    'iam:AddRoleToInstanceProfile',
    'iam:UpdateAccountPasswordPolicy',
  ])('GIVEN roles without a permissions boundary WHEN the policy is built THEN %s is not allowed', (action) => {
    expect(allowsOf(action)).toEqual([]);
  });

  test('GIVEN IAM actions allowed on every resource WHEN listed THEN they are the read-only ones the RDS instance handlers call', () => {
    const onAll = statements.filter((s) => s.Effect === 'Allow' && s.Resource === '*').flatMap((s) => s.Action.filter((a) => a.startsWith('iam:')));
    expect(onAll.sort()).toEqual(['iam:GetRole', 'iam:ListRoles']);
    expect(statement(policyFor(['AWS::IAM::Role']).Statement, 'RoleReads')).toBeUndefined();
  });

  test('GIVEN templates without roles WHEN the policy is built THEN no role may be managed or passed', () => {
    const { Statement: none } = policyFor(['AWS::S3::Bucket']);
    expect(none.filter((s) => s.Effect === 'Allow' && s.Action.some((a) => a.startsWith('iam:')))).toEqual([]);
  });

  test.each(['AWS::IAM::User', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::InstanceProfile'])('GIVEN a template with %s WHEN the policy is built THEN it fails, saying where to grant it', (type) => {
    expect(() => policyFor(['AWS::IAM::Role', type])).toThrow(new RegExp(`^${type}: the execution role manages IAM roles under /tap/<suffix>/ only; grant these, scoped, in components/executionPolicy\\.ts$`));
  });

  test.each<[string, string[], string[]]>([
    ['an Aurora cluster', ['AWS::RDS::DBCluster'], ['rds.amazonaws.com']],
    ['an Aurora cluster and its instances', ['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance'], ['rds.amazonaws.com']],
    ['a global table', ['AWS::DynamoDB::GlobalTable'], ['dynamodb.application-autoscaling.amazonaws.com', 'replication.dynamodb.amazonaws.com']],
    ['an API custom domain', ['AWS::ApiGatewayV2::DomainName'], ['ops.apigateway.amazonaws.com']],
    ['functions, buckets and roles', ['AWS::Lambda::Function', 'AWS::S3::Bucket', 'AWS::IAM::Role'], []],
  ])('GIVEN %s WHEN the policy is built THEN service-linked roles may be created for exactly %j', (_case, resourceTypes, services) => {
    expect(serviceLinkedRoleServices(resourceTypes)).toEqual(services);
    const linked = statement(policyFor(resourceTypes).Statement, 'ServiceLinkedRoles');
    if (services.length === 0) {
      expect(linked).toBeUndefined();
      return;
    }
    expect(linked).toEqual({
      Sid: 'ServiceLinkedRoles',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: services.map((s) => `arn:aws:iam::${ACCOUNT}:role/aws-service-role/${s}/*`),
      Condition: { StringEquals: { 'iam:AWSServiceName': services } },
    });
  });
});

describe('execution role: services by name', () => {
  const types = ['AWS::SSM::Parameter', 'AWS::DynamoDB::GlobalTable', 'AWS::KMS::Key'];
  const { Statement: statements } = policyFor(types);
  const inRegions = { StringEquals: { 'aws:RequestedRegion': ['eu-west-1', GLOBAL_ENDPOINT_REGION, 'us-west-2'].sort() } };

  test.each<[string, string[], string[]]>([
    ['SSM parameters only', ['AWS::SSM::Parameter'], ['ssm']],
    ['a global table and a table', ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table'], ['dynamodb']],
    ['another SSM type besides parameters', ['AWS::SSM::Parameter', 'AWS::SSM::Document'], []],
    ['no scoped service', ['AWS::KMS::Key', 'AWS::Lambda::Function'], []],
  ])('GIVEN %s WHEN scoped THEN the services granted by name are %j', (_case, resourceTypes, expected) => {
    expect(nameScopedServices(resourceTypes)).toEqual(expected);
  });

  test('GIVEN scoped services WHEN the policy is built THEN they are not granted on every resource', () => {
    expect(statement(statements, 'TemplateServices')?.Action).toEqual(['application-autoscaling:*', 'kms:*']);
  });

  test('GIVEN SSM parameters WHEN the policy is built THEN ssm is allowed on /tap/<suffix>/ parameters, and only its list call on *', () => {
    expect(statement(statements, 'SsmByName')).toEqual({
      Sid: 'SsmByName',
      Effect: 'Allow',
      Action: ['ssm:*'],
      Resource: [`arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/tap/prod/*`, `arn:aws:ssm:us-west-2:${ACCOUNT}:parameter/tap/prod/*`],
    });
    expect(statement(statements, 'SsmUnscoped')).toEqual({ Sid: 'SsmUnscoped', Effect: 'Allow', Action: ['ssm:DescribeParameters'], Resource: '*', Condition: inRegions });
  });

  test('GIVEN the session table WHEN the policy is built THEN dynamodb is allowed on sessions-<suffix> and its indexes and streams, and only Describe/List on *', () => {
    expect(statement(statements, 'DynamodbByName')?.Resource).toEqual([
      `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/sessions-prod`,
      `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/sessions-prod/*`,
      `arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/sessions-prod`,
      `arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/sessions-prod/*`,
    ]);
    expect(statement(statements, 'DynamodbUnscoped')).toEqual({ Sid: 'DynamodbUnscoped', Effect: 'Allow', Action: ['dynamodb:Describe*', 'dynamodb:List*'], Resource: '*', Condition: inRegions });
  });

  test('GIVEN another type that needs a scoped service WHEN the policy is built THEN that service is granted on every resource again', () => {
    const { Statement: widened } = policyFor(['AWS::SSM::Parameter', 'AWS::SSM::Document']);
    expect(statement(widened, 'TemplateServices')?.Action).toEqual(['ssm:*']);
    expect(statement(widened, 'SsmByName')).toBeUndefined();
  });
});

describe('execution role: the committed templates stay inside its scopes', () => {
  type Resource = { Type: string; Properties?: Record<string, unknown> };
  const set = readTemplates();
  const resources = [set.root, ...set.nested].flatMap((t) => Object.values((parseTemplate(t).Resources ?? {}) as Record<string, Resource>));
  const ofType = (...wanted: string[]): Resource[] => resources.filter((r) => wanted.includes(r.Type));
  const committed = policyFor(templateResourceTypes(set));

  test('GIVEN every role in the templates WHEN read THEN it is under /tap/${EnvironmentSuffix}/, unnamed, and without a permissions boundary', () => {
    const roles = ofType('AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      expect(role.Properties?.Path).toEqual({ 'Fn::Sub': IAM_ROLE_PATH_PATTERN });
      expect(role.Properties?.RoleName).toBeUndefined();
      expect(role.Properties?.PermissionsBoundary).toBeUndefined();
    }
  });

  test('GIVEN every SSM parameter in the templates WHEN read THEN its name is under /tap/${EnvironmentSuffix}/', () => {
    const names = ofType('AWS::SSM::Parameter').map((p) => (p.Properties?.Name as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub']);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !(n ?? '').startsWith(`/${PROJECT}/\${${SUFFIX}}/`))).toEqual([]);
  });

  test('GIVEN every DynamoDB table in the templates WHEN read THEN it is the session table, sessions-${EnvironmentSuffix}', () => {
    const tables = ofType('AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table');
    expect(tables.map((t) => t.Properties?.TableName)).toEqual(tables.map(() => ({ 'Fn::Sub': namePattern(Names.sessionTable) })));
  });

  test('GIVEN the committed templates WHEN the policy is built THEN IAM, SSM and DynamoDB are not granted on every resource', () => {
    const serviceWide = statement(committed.Statement, 'TemplateServices')?.Action ?? [];
    expect(serviceWide.filter((a) => ['iam:*', 'ssm:*', 'dynamodb:*'].includes(a))).toEqual([]);
    expect(['SsmByName', 'DynamodbByName', 'TapRoles', 'PassTapRoles', 'ServiceLinkedRoles'].filter((sid) => statement(committed.Statement, sid) === undefined)).toEqual([]);
  });

  test('GIVEN the committed templates WHEN the policy is built THEN it fits the 10,240-character quota of a role\'s inline policies', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length (whitespace not counted).
    expect(JSON.stringify(committed).length).toBeLessThan(10240);
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
