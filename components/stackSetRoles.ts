import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { administrationPolicy, administrationTrustPolicy, executionRolePolicy, executionTrustPolicy } from './executionPolicy';
import * as names from '../cfn/contract/names';
import { TEMPLATES_DIR, readTemplates, templateResourceTypes } from '../program/committedTemplates';

export interface StackSetRolesArgs {
  /**
   * The environment's suffix: part of the role names, and of the scope of the
   * execution role's policy (the templates' roles are under `/tap/<suffix>/`,
   * their named resources end in `-<suffix>`).
   */
  readonly environmentSuffix: string;
  /**
   * Name of the StackSet the roles serve: the trust and the stack ARNs are scoped to it.
   * @default `tap-<suffix>` (cfn/contract/names.ts), the name TransactionStackSet gives it
   */
  readonly stackSetName?: string;
  /** Regions the StackSet deploys to. */
  readonly regions: readonly string[];
  /**
   * Name of the execution role; the StackSet's executionRoleName must be the same.
   * @default `tap-stackset-execution-<suffix>` (cfn/contract/names.ts)
   */
  readonly executionRoleName?: string;
  /**
   * Name of the administration role.
   * @default `tap-stackset-admin-<suffix>` (cfn/contract/names.ts)
   */
  readonly administrationRoleName?: string;
  /**
   * Resource types the execution role must be able to deploy.
   * @default every resource type in cfn/templates/*.json
   */
  readonly resourceTypes?: readonly string[];
  /**
   * Account of the roles and the stack instances.
   * @default the caller's account (aws.getCallerIdentity)
   */
  readonly accountId?: pulumi.Input<string>;
  /** Tags of both roles. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The two roles of the self-managed StackSet permission model
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-prereqs-self-managed.html):
 * CloudFormation assumes the administration role, which may only assume the
 * execution role, which deploys the templates. What the execution role may do
 * is derived from the templates (components/executionPolicy.ts explains what
 * could not be narrowed).
 */
export class StackSetRoles extends pulumi.ComponentResource {
  readonly administrationRoleArn: pulumi.Output<string>;
  readonly executionRoleArn: pulumi.Output<string>;
  readonly executionRoleName: pulumi.Output<string>;

  constructor(name: string, args: StackSetRolesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('tap:stackset:StackSetRoles', name, {}, opts);
    const accountId = pulumi.output(args.accountId ?? aws.getCallerIdentityOutput({}, { parent: this }).accountId);
    const types = args.resourceTypes ?? templateResourceTypes(readTemplates(TEMPLATES_DIR));
    const tags = { ...(args.tags ?? {}) };
    const suffix = args.environmentSuffix;
    const stackSetName = args.stackSetName ?? names.stackSetName(suffix);

    const administration = new aws.iam.Role(
      `${name}-administration`,
      {
        name: args.administrationRoleName ?? names.administrationRoleName(suffix),
        description: `CloudFormation StackSet ${stackSetName}: assumes the execution role`,
        assumeRolePolicy: accountId.apply((id) => JSON.stringify(administrationTrustPolicy(id, stackSetName))),
        tags,
      },
      { parent: this },
    );

    const execution = new aws.iam.Role(
      `${name}-execution`,
      {
        name: args.executionRoleName ?? names.executionRoleName(suffix),
        description: `CloudFormation StackSet ${stackSetName}: deploys the tap templates`,
        assumeRolePolicy: administration.arn.apply((arn) => JSON.stringify(executionTrustPolicy(arn))),
        tags,
      },
      { parent: this },
    );

    const executionPolicy = new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        role: execution.name,
        policy: accountId.apply((id) =>
          JSON.stringify(
            executionRolePolicy({
              resourceTypes: types,
              accountId: id,
              regions: args.regions,
              environmentSuffix: suffix,
              stackSetName,
              templateBuckets: args.regions.map((r) => names.templateBucketName(suffix, id, r)),
              imageRepositories: [names.repositoryName(suffix)],
            }),
          ),
        ),
      },
      { parent: this },
    );

    // A separate policy, so the execution role (whose trust names the administration role) exists first.
    const administrationPolicyResource = new aws.iam.RolePolicy(
      `${name}-administration-policy`,
      { role: administration.name, policy: execution.arn.apply((arn) => JSON.stringify(administrationPolicy(arn))) },
      { parent: this },
    );

    // The outputs resolve only once the policies exist, so a StackSet built from
    // them never starts with a role that cannot yet do its part.
    this.administrationRoleArn = pulumi.all([administration.arn, administrationPolicyResource.id]).apply(([arn]) => arn);
    this.executionRoleArn = execution.arn;
    this.executionRoleName = pulumi.all([execution.name, executionPolicy.id]).apply(([n]) => n);
    this.registerOutputs({
      administrationRoleArn: this.administrationRoleArn,
      executionRoleArn: this.executionRoleArn,
      executionRoleName: this.executionRoleName,
    });
  }
}

