/**
 * The function pattern every ComputeStack function follows: an encrypted log
 * group that exists before the function, a least-privilege service role (its
 * Resource "*" statements each with the reason AWS offers nothing narrower), and
 * the function from the one image, in the VPC or outside it.
 */
import { TemplateBuilder } from '../../lib/template';
import { getAtt, Intrinsic, ref, sub, Value, importValue, resourceName } from '../../lib/intrinsics';
import { Exports, namePattern } from '../../contract/names';
import { encryptedLogGroup } from '../../lib/patterns';
import { Permissions, WILDCARD_REASONS_KEY } from '../../lib/iam';
import { ARCHITECTURE } from './parameters';
import { DerivedArns } from './arns';

/** Reasons for the statements AWS lets us scope no narrower than "*". */
export const WILDCARD_REASONS = {
  XRayTelemetry:
    'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html); Lambda active tracing needs both (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html).',
  CompositeAlarmReads:
    'cloudwatch:DescribeAlarms returns composite alarms only to a permission scoped to "*" ("You can\'t return information about composite alarms if your cloudwatch:DescribeAlarms permission has a narrower scope", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html), and the gate reads the deployment-health composite alarm; read-only, limited to the two deployment regions.',
  StackInstanceLookup:
    'cloudformation:ListStacks supports no resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html); a StackSet names its stack instances StackSet-<name>-<UUID>, so the gate finds the other region\'s instance by listing; read-only, limited to the two deployment regions.',
  VpcEniDescribe:
    'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions; the Lambda guide says DescribeNetworkInterfaces only works with "Resource": "*" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).',
} as const;

/** Statements every function has: its own log group, and X-Ray. */
function basePermissions(logGroupId: string): Permissions {
  return new Permissions()
    .allow('WriteOwnLogGroup', ['logs:CreateLogStream', 'logs:PutLogEvents'], [getAtt(logGroupId, 'Arn')])
    .allowOnAnyResource('XRayTelemetry', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], WILDCARD_REASONS.XRayTelemetry);
}

/**
 * ENI management for a function in the VPC. Written out instead of the managed
 * policy AWSLambdaVPCAccessExecutionRole, which grants the same EC2 actions and
 * logs:CreateLogGroup/PutLogEvents on every resource of the account; here only
 * the Describe calls are on "*".
 */
function addVpcPermissions(p: Permissions): Permissions {
  return p
    .allowOnAnyResource('VpcEniDescribe', ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], WILDCARD_REASONS.VpcEniDescribe)
    .allow(
      'VpcEniManage',
      ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      [DerivedArns.accountEc2],
    );
}

export interface FunctionSpec {
  /** Logical-ID prefix: <prefix>Function, <prefix>Role, <prefix>LogGroup. */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly command: string;
  /** A parameter name, or a fixed size in MB. */
  readonly memory: string | number;
  /** Condition name, for a function only one region has. */
  readonly condition?: string;
  readonly timeout: number | Intrinsic;
  readonly inVpc: boolean;
  readonly environment: Record<string, Value<string>>;
  readonly reservedConcurrency?: Intrinsic;
  /** Statements beyond logs and X-Ray (and ENIs, for VPC functions). */
  readonly permissions: (p: Permissions) => Permissions;
}

const privateSubnets = [Exports.network.privateSubnet1Id, Exports.network.privateSubnet2Id, Exports.network.privateSubnet3Id];

export function lambdaFunction(t: TemplateBuilder, spec: FunctionSpec, keyArn: Intrinsic): string {
  const logGroupId = encryptedLogGroup(t, `${spec.id}LogGroup`, sub(`/aws/lambda/${namePattern(spec.name)}`), keyArn, spec.condition);
  const permissions = spec.permissions(spec.inVpc ? addVpcPermissions(basePermissions(logGroupId)) : basePermissions(logGroupId));
  const roleId = t.serviceRole(
    `${spec.id}Role`,
    {
      service: 'lambda.amazonaws.com',
      Description: `tap ${spec.description}`,
      Policies: [{ PolicyName: `${spec.id.toLowerCase()}-least-privilege`, PolicyDocument: permissions.document() }],
    },
    {
      condition: spec.condition,
      ...(Object.keys(permissions.wildcardReasons).length > 0 ? { metadata: { [WILDCARD_REASONS_KEY]: permissions.wildcardReasons } } : {}),
    },
  );
  return t.resource(
    `${spec.id}Function`,
    'AWS::Lambda::Function',
    {
      FunctionName: resourceName(spec.name),
      Description: `tap ${spec.description}`,
      PackageType: 'Image',
      Code: { ImageUri: ref('ImageUri') },
      ImageConfig: { Command: [spec.command] },
      Architectures: [ARCHITECTURE],
      MemorySize: typeof spec.memory === 'number' ? spec.memory : ref(spec.memory),
      Timeout: spec.timeout,
      Role: getAtt(roleId, 'Arn'),
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: spec.environment },
      ...(spec.reservedConcurrency !== undefined ? { ReservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      ...(spec.inVpc
        ? { VpcConfig: { SubnetIds: privateSubnets.map(importValue), SecurityGroupIds: [importValue(Exports.network.lambdaSecurityGroupId)] } }
        : {}),
    },
    {
      // Lambda writes to /aws/lambda/<function name>; the group must exist first
      // (with its retention and key) or Lambda would create one without either.
      dependsOn: [logGroupId],
      condition: spec.condition,
    },
  );
}
