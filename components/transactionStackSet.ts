import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { stackSetName } from '../cfn/contract/names';
import { checkStackSetParameters, planParameters } from '../program/stackSetParameters';
import { TEMPLATES_DIR, parseTemplate, readTemplates, requiredCapabilities } from '../program/committedTemplates';

export interface TransactionStackSetArgs {
  /** The StackSet is named `tap-<suffix>`. */
  readonly environmentSuffix: string;
  /** The primary region (its stack owns the StackSet) and the secondary region. */
  readonly regions: { readonly primary: string; readonly secondary: string };
  /** Each region's function image, pinned by digest, in that region's registry. */
  readonly images: { readonly primary: pulumi.Input<string>; readonly secondary: pulumi.Input<string> };
  /** Root parameter values from configuration; undefined means the template's Default. */
  readonly parameters: Readonly<Record<string, string | undefined>>;
  /** Role CloudFormation assumes to run StackSet operations. */
  readonly administrationRoleArn: pulumi.Input<string>;
  /** Role (in the target account) the administration role assumes to deploy the stacks. */
  readonly executionRoleName: pulumi.Input<string>;
  /**
   * Directory of the generated templates; TapStack.json is the StackSet's body.
   * @default cfn/templates
   */
  readonly templatesDir?: string;
  /**
   * Account of the stack instances.
   * @default the caller's account (aws.getCallerIdentity)
   */
  readonly accountId?: pulumi.Input<string>;
  /**
   * Create/update/delete timeout of one StackSet operation, both regions at once: a first
   * deployment is about 13 minutes (`npm run plan`), Aurora alone up to 20 on a slow day,
   * and the timeouts of the nested stacks (DatabaseStack 60 minutes) bound the rest.
   * @default '60m'
   */
  readonly operationTimeout?: string;
  /** Tags of the StackSet, which CloudFormation propagates to its stacks' resources. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Every operation, both regions at once, and the first failure fails it. Failure
 * tolerance and concurrency count accounts per region (one here); PARALLEL runs the
 * regions together, so a release takes as long as its slower region, and a failure in
 * one cancels what has not started (the other region's gate also fails on it).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-concepts.html#stackset-ops-options
 */
export const OPERATION_PREFERENCES = { regionConcurrencyType: 'PARALLEL', failureToleranceCount: 0, maxConcurrentCount: 1 } as const;

/**
 * TapStack.json as a self-managed StackSet and its two stack instances. Every root
 * parameter is set at StackSet level (each region picks its own values inside the
 * template), so a release, first deployment or update, is one StackSet operation that
 * deploys both regions in parallel.
 *
 * The instances are one StackInstances resource, one CreateStackInstances call for both
 * regions: two StackSetInstance resources would be two operations, and the second waits
 * for the first ("If there are already running or queued operations, CloudFormation
 * queues all incoming operations even if they are non-conflicting",
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ManagedExecution.html;
 * without managed execution it is refused with OperationInProgressException), so the
 * second region's Aurora would only start after the first region's was done.
 */
export class TransactionStackSet extends pulumi.ComponentResource {
  readonly stackSetName: pulumi.Output<string>;
  readonly stackSetId: pulumi.Output<string>;
  /** Region -> stack instance ID (`<stackset>,<account>,<region>`). */
  readonly instanceIds: pulumi.Output<Record<string, string>>;
  readonly stackSet: aws.cloudformation.StackSet;
  readonly instances: aws.cloudformation.StackInstances;

  constructor(name: string, args: TransactionStackSetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Checked before this component registers anything (index.ts checks it before any resource).
    const set = readTemplates(args.templatesDir ?? TEMPLATES_DIR);
    const templates = [set.root, ...set.nested];
    const parameters = checkStackSetParameters(args.parameters, args.templatesDir);
    super('tap:stackset:TransactionStackSet', name, {}, opts);

    const accountId = pulumi.output(args.accountId ?? aws.getCallerIdentityOutput({}, { parent: this }).accountId);
    const { primary, secondary } = args.regions;
    const values = pulumi
      .all([args.images.primary, args.images.secondary])
      .apply(([p, s]) => planParameters({ parameters, shared: args.parameters, images: { primary: p, secondary: s } }));

    this.stackSet = new aws.cloudformation.StackSet(
      name,
      {
        name: stackSetName(args.environmentSuffix),
        description: 'tap transaction processing: TapStack.json and its nested stacks, one instance per region',
        permissionModel: 'SELF_MANAGED',
        administrationRoleArn: args.administrationRoleArn,
        executionRoleName: args.executionRoleName,
        capabilities: requiredCapabilities(templates.map(parseTemplate)),
        templateBody: set.root.body,
        parameters: values,
        // Queue conflicting operations instead of failing them (OperationInProgressException).
        managedExecution: { active: true },
        operationPreferences: OPERATION_PREFERENCES,
        callAs: 'SELF',
        tags: { ...(args.tags ?? {}) },
      },
      { parent: this, customTimeouts: { update: args.operationTimeout ?? '60m' } },
    );

    const timeout = args.operationTimeout ?? '60m';
    this.instances = new aws.cloudformation.StackInstances(
      name,
      {
        stackSetName: this.stackSet.name,
        accounts: [accountId],
        regions: [primary, secondary],
        // None: every value is the StackSet's, so an update is one StackSet-level operation.
        operationPreferences: OPERATION_PREFERENCES,
        callAs: 'SELF',
      },
      { parent: this, customTimeouts: { create: timeout, update: timeout, delete: timeout } },
    );

    this.stackSetName = this.stackSet.name;
    this.stackSetId = this.stackSet.stackSetId;
    this.instanceIds = pulumi
      .all([this.stackSet.name, accountId])
      .apply(([n, a]) => Object.fromEntries([primary, secondary].map((r) => [r, `${n},${a},${r}`])));
    this.registerOutputs({ stackSetName: this.stackSetName, stackSetId: this.stackSetId, instanceIds: this.instanceIds });
  }
}
