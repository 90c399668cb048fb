import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { stackSetName } from './names';
import {
  StackSetParameterError,
  parameterValueProblem,
  parametersWithoutValue,
  planParameters,
  regionalParameterNames,
} from './stackSetParameters';
import { TEMPLATES_DIR, parseTemplate, readTemplates, requiredCapabilities, templateParameters } from './templates';

/** One region the StackSet deploys to, with the artifacts of that region's own stack. */
export interface StackSetRegion {
  readonly region: string;
  /** That region's function image, pinned by digest. */
  readonly imageUri: pulumi.Input<string>;
  /** Nested template name -> URL in that region's artifacts bucket. */
  readonly templateUrls: pulumi.Input<Record<string, string>>;
  /**
   * The Pulumi stack (org/project/stack) that uploaded these artifacts, when it
   * is not this one: named in the fix when its templates are not the committed ones.
   * @default none: the error names "the region's stack"
   */
  readonly stack?: string;
}

export interface TransactionStackSetArgs {
  /** The StackSet is named `tap-<suffix>`. */
  readonly environmentSuffix: string;
  /** Deployed last; its values are also the StackSet-level parameter values. */
  readonly primary: StackSetRegion;
  /** Deployed first: the primary's audit-log replication needs the secondary's bucket. */
  readonly secondary: StackSetRegion;
  /** Root parameter values that are the same in every region; undefined means the template's Default. */
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
   * Create/update/delete timeout of one stack instance: an Aurora cluster with
   * readers takes 20-40 minutes to create, and the deployment gate bakes up to 10 more.
   * @default '60m'
   */
  readonly instanceTimeout?: string;
  /** Tags of the StackSet, which CloudFormation propagates to its stacks' resources. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Operation preferences shared by the StackSet and its instances: one region at a time, stop at the first failure. */
const SEQUENTIAL_NO_TOLERANCE = { regionConcurrencyType: 'SEQUENTIAL', failureToleranceCount: 0, maxConcurrentCount: 1 } as const;

/**
 * TapStack.json as a self-managed StackSet with one stack instance per region.
 * Per-region values (ImageUri, the nested TemplateUrls, DeploymentStamp) are
 * instance overrides; every other root parameter is set at StackSet level.
 */
export class TransactionStackSet extends pulumi.ComponentResource {
  readonly stackSetName: pulumi.Output<string>;
  readonly stackSetId: pulumi.Output<string>;
  /** Region -> stack instance ID (`<stackset>,<account>,<region>`). */
  readonly instanceIds: pulumi.Output<Record<string, string>>;
  /** Region -> ARN of the instance's root stack. */
  readonly stackIds: pulumi.Output<Record<string, string>>;
  /** Region -> DeploymentStamp: hash of every template and parameter value there. */
  readonly deploymentStamps: pulumi.Output<Record<string, string>>;
  readonly stackSet: aws.cloudformation.StackSet;
  readonly instances: Readonly<Record<string, aws.cloudformation.StackSetInstance>>;

  constructor(name: string, args: TransactionStackSetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Checked before anything is registered: a root parameter nobody fills stops the run here.
    const set = readTemplates(args.templatesDir ?? TEMPLATES_DIR);
    const templates = [set.root, ...set.nested];
    const parameters = templateParameters(parseTemplate(set.root));
    checkStatically(parameters, args.parameters, set.nested.map((t) => t.name));
    super('tap:stackset:TransactionStackSet', name, {}, opts);

    const accountId = args.accountId ?? aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const { primary, secondary } = args;
    // Artifact problems (another region's objects, templates that are not the
    // committed ones) are known only once the regions' outputs resolve: the plan
    // throws then, and the StackSet and its instances, whose inputs wait on it,
    // are never sent to the engine.
    const plan = pulumi
      .all([primary.imageUri, primary.templateUrls, secondary.imageUri, secondary.templateUrls])
      .apply(([primaryImage, primaryUrls, secondaryImage, secondaryUrls]) =>
        planParameters({
          parameters,
          shared: args.parameters,
          regions: [
            { region: primary.region, stack: primary.stack, artifacts: { imageUri: primaryImage, templateUrls: primaryUrls } },
            { region: secondary.region, stack: secondary.stack, artifacts: { imageUri: secondaryImage, templateUrls: secondaryUrls } },
          ],
          templates,
        }),
      );

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
        parameters: plan.apply((p) => p.stackSet),
        // Queue conflicting operations instead of failing them (OperationInProgressException).
        managedExecution: { active: true },
        operationPreferences: { ...SEQUENTIAL_NO_TOLERANCE, regionOrders: [secondary.region, primary.region] },
        callAs: 'SELF',
        tags: { ...(args.tags ?? {}) },
      },
      // A template update rolls through both regions in turn.
      { parent: this, customTimeouts: { update: '120m' } },
    );

    const timeout = args.instanceTimeout ?? '60m';
    const instance = (region: string, dependsOn: pulumi.Resource[]): aws.cloudformation.StackSetInstance =>
      new aws.cloudformation.StackSetInstance(
        `${name}-${region}`,
        {
          stackSetName: this.stackSet.name,
          accountId,
          stackSetInstanceRegion: region,
          parameterOverrides: plan.apply((p) => p.overrides[region]),
          // One region per instance operation, so no region order; the rest as for the StackSet.
          operationPreferences: SEQUENTIAL_NO_TOLERANCE,
          callAs: 'SELF',
        },
        { parent: this, dependsOn, customTimeouts: { create: timeout, update: timeout, delete: timeout } },
      );
    // A StackSet runs one operation at a time, and the primary's replication needs the secondary's bucket.
    const secondaryInstance = instance(secondary.region, [this.stackSet]);
    const primaryInstance = instance(primary.region, [this.stackSet, secondaryInstance]);
    this.instances = { [secondary.region]: secondaryInstance, [primary.region]: primaryInstance };

    this.stackSetName = this.stackSet.name;
    this.stackSetId = this.stackSet.stackSetId;
    this.instanceIds = pulumi.output({ [primary.region]: primaryInstance.id, [secondary.region]: secondaryInstance.id });
    this.stackIds = pulumi.output({ [primary.region]: primaryInstance.stackId, [secondary.region]: secondaryInstance.stackId });
    this.deploymentStamps = plan.apply((p) => p.stamps);
    this.registerOutputs({
      stackSetName: this.stackSetName,
      stackSetId: this.stackSetId,
      instanceIds: this.instanceIds,
      stackIds: this.stackIds,
      deploymentStamps: this.deploymentStamps,
    });
  }
}

/**
 * What can be known before any resource: every root parameter without a Default
 * has a source, and every configured value is one CloudFormation accepts.
 */
function checkStatically(
  parameters: ReturnType<typeof templateParameters>,
  shared: Readonly<Record<string, string | undefined>>,
  nestedNames: readonly string[],
): void {
  const configured = Object.entries(shared).filter((e): e is [string, string] => e[1] !== undefined);
  const available = new Set([...configured.map(([k]) => k), ...regionalParameterNames(nestedNames)]);
  const problems = parametersWithoutValue(parameters, available).map(
    (p) => `${p}: has no Default and the program gives it no value; give it a Default in its generator (cfn/) or set it from configuration (components/stackSetParameters.ts sharedParameterValues)`,
  );
  for (const [name, value] of configured) {
    const p = parameters.find((q) => q.name === name);
    const problem = p === undefined ? undefined : parameterValueProblem(p, value);
    if (problem !== undefined) problems.push(`${name}: ${problem}`);
  }
  if (problems.length > 0) throw new StackSetParameterError(problems);
}
