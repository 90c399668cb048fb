/**
 * Compile-time checks of TemplateBuilder's signatures: `npm run typecheck` (tsc)
 * fails if a stack builder could write by hand what the builder owns (tags, a
 * role's trust policy) or pass properties of the wrong type. Not a test suite
 * (jest only transpiles); an unused @ts-expect-error is itself an error.
 */
import { TemplateBuilder } from '../../cfn/lib/template';
import { ref, sub } from '../../cfn/lib/intrinsics';

const t = new TemplateBuilder('TypeCheck', 'compile-time checks', []);

export const accepted = [
  t.resource('Vpc', 'AWS::EC2::VPC', { CidrBlock: ref('VpcCidr') }, { tags: { Name: sub('tap-${EnvironmentSuffix}') } }),
  t.serviceRole('Role', { service: 'lambda.amazonaws.com', ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/x')] }),
  t.customResource('Gate', 'Custom::DeploymentGate', { ServiceToken: ref('GateArn'), BakeMinutes: 'auto' }),
  t.export('VpcId', ref('Vpc'), { description: 'VPC ID' }),
];

// @ts-expect-error tags are the builder's: Tags is not a property a generator may write
t.resource('Topic', 'AWS::SNS::Topic', { Tags: [{ Key: 'Project', Value: 'tap' }] });
// @ts-expect-error a health check's tags are the builder's too
t.resource('Check', 'AWS::Route53::HealthCheck', { HealthCheckConfig: { Type: 'HTTPS' }, HealthCheckTags: [] });
// @ts-expect-error roles go through serviceRole(), which writes the trust policy and the path
t.resource('Role2', 'AWS::IAM::Role', { AssumeRolePolicyDocument: {} });
// @ts-expect-error serviceRole() writes the trust policy itself
t.serviceRole('Role3', { service: 'lambda.amazonaws.com', AssumeRolePolicyDocument: {} });
// @ts-expect-error serviceRole() writes the path itself
t.serviceRole('Role4', { service: 'lambda.amazonaws.com', Path: '/' });
// @ts-expect-error a misspelt property of the type is rejected
t.resource('Vpc2', 'AWS::EC2::VPC', { CidrBlok: '10.0.0.0/16' });
// @ts-expect-error a custom resource needs a ServiceToken
t.customResource('Gate2', 'Custom::DeploymentGate', { BakeMinutes: 'auto' });
// @ts-expect-error only Custom:: types are custom resources
t.customResource('Gate3', 'AWS::SNS::Topic', { ServiceToken: 'x' });
