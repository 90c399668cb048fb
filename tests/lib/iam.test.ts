import { Permissions } from '../../cfn/lib/iam';
import { IAM_ROLE_PATH_PATTERN } from '../../cfn/contract/names';
import { templates } from '../support/assertions';

const arn = { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::bucket-${EnvironmentSuffix}/*' };

describe('Permissions (cfn/lib/iam.ts)', () => {
  test('GIVEN scoped statements and one wildcard with its reason WHEN rendered THEN the document holds them in order and the reason is keyed by Sid', () => {
    const p = new Permissions().allow('Write', ['s3:PutObject'], [arn]).allowOnAnyResource('Trace', ['xray:PutTraceSegments'], 'no resource-level permissions');
    expect(p.document()).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Write', Effect: 'Allow', Action: ['s3:PutObject'], Resource: [arn] },
        { Sid: 'Trace', Effect: 'Allow', Action: ['xray:PutTraceSegments'], Resource: '*' },
      ],
    });
    expect(p.wildcardReasons).toEqual({ Trace: 'no resource-level permissions' });
  });

  test('GIVEN a condition WHEN allowed THEN it is kept on the statement', () => {
    const condition = { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } };
    expect(new Permissions().allow('Decrypt', ['kms:Decrypt'], [arn], condition).statements[0].Condition).toEqual(condition);
  });

  test.each([
    ['Resource "*" through allow()', (p: Permissions) => p.allow('All', ['s3:PutObject'], ['*']), /needs a reason/],
    ['a wildcard with an empty reason', (p: Permissions) => p.allowOnAnyResource('All', ['xray:PutTraceSegments'], ' '), /without a reason/],
    ['Action "*"', (p: Permissions) => p.allow('Admin', ['*'], [arn]), /action \* grants a whole service/],
    ['a whole service', (p: Permissions) => p.allow('S3', ['s3:*'], [arn]), /action s3:\* grants a whole service/],
    ['no actions', (p: Permissions) => p.allow('None', [], [arn]), /no actions/],
    ['no resources', (p: Permissions) => p.allow('None', ['s3:PutObject'], []), /no resources/],
    ['a Sid with punctuation', (p: Permissions) => p.allow('write-audit', ['s3:PutObject'], [arn]), /must be alphanumeric/],
    ['a repeated Sid', (p: Permissions) => p.allow('A', ['s3:PutObject'], [arn]).allow('A', ['s3:GetObject'], [arn]), /used twice/],
  ])('GIVEN %s WHEN added THEN it is refused with a message naming the statement', (_what, add, message) => {
    expect(() => add(new Permissions())).toThrow(message);
  });
});

describe('IAM roles in the generated templates', () => {
  const roles = [...templates().entries()].flatMap(([name, t]) =>
    Object.entries((t.Resources ?? {}) as Record<string, { Type: string; Properties?: Record<string, unknown> }>)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id, r]) => [`${name}/${id}`, r.Properties ?? {}] as const),
  );

  test('GIVEN the templates WHEN searched THEN they create roles (the path check below is not vacuous)', () => {
    expect(roles.length).toBeGreaterThan(0);
  });

  test.each(roles)('GIVEN %s WHEN built THEN it lives under /tap/<suffix>/, the path the StackSet execution role may manage, and has no fixed name', (_id, props) => {
    expect(props.Path).toEqual({ 'Fn::Sub': IAM_ROLE_PATH_PATTERN });
    expect(props.RoleName).toBeUndefined();
  });
});
