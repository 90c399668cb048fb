/**
 * TapStack.json, the root template the StackSet deploys in each region. It
 * declares the union of the nested stacks' parameters (each passed through by
 * Ref, except the few the root computes per region), decides the deployment
 * order with DependsOn, and owns only what spans stacks: the wait for the
 * secondary region's replication targets (primary only), the schema migration
 * (it needs the database and the migration function) and the deployment gate
 * (it runs after everything else).
 *
 * One root template and one parameter set serve both regions (one StackSet
 * operation deploys them in parallel, with no instance overrides): each region
 * picks its own values here, from AWS::Region. Nested TemplateURLs point into the
 * deploying region's template bucket under each template's content-addressed
 * key, and ComputeStack's image is PrimaryImageUri or SecondaryImageUri.
 *
 * Deployment order (synth and `npm run plan` print the waves): Aurora is the
 * critical path of a first deployment, so DatabaseStack waits for NetworkStack's
 * subnets and security group alone, and nothing waits for DatabaseStack but the
 * migration and the gate.
 */
import { TemplateBuilder, JsonObject, renderTemplate } from '../lib/template';
import { ParameterDef, parameterDefinitions, SharedParameters, IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION } from '../lib/sharedParameters';
import { objectAt } from '../lib/value';
import { and, equals, Fn, getAtt, iff, Intrinsic, not, noValue, ref, sub, resourceName } from '../lib/intrinsics';
import { DATABASE_NAME, Exports, GATED_ALARM_NAMES_OUTPUT, Names, SsmPaths, globalNamePattern, keyAliasPattern } from '../contract/names';
import { templateUrlPattern } from '../contract/layout';
import { ComputeParameters, GATE_TIMEOUT_SECONDS, MIGRATION_TIMEOUT_SECONDS, PREREQUISITES_MAX_WAIT_SECONDS, PREREQUISITES_TIMEOUT_SECONDS } from './compute/parameters';
import { DNS_DOMAIN_OUTPUT, DNS_HEALTH_CHECK_OUTPUT } from './dns';

/**
 * Nested stack -> the siblings it waits for. Every Fn::ImportValue edge has one,
 * because CloudFormation resolves an import only once the export exists; nothing
 * else is here, so each stack starts as early as its inputs allow.
 */
export const NESTED_STACK_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  NetworkStack: [],
  // The endpoints and flow logs need the VPC; only the migration (it reads its settings through
  // them) and the gate (it runs after everything) wait for them, never a nested stack.
  EndpointsStack: ['NetworkStack'],
  // In the primary, the audit bucket and the global table also wait for the secondary
  // region's prerequisites, through StorageStack's parameters (see ROOT_COMPUTED_PARAMETERS).
  StorageStack: [],
  // Only what the cluster uses: the private subnets and the database security group.
  DatabaseStack: ['NetworkStack'],
  ApiStack: [],
  // Compute finds database- and storage-owned things by derived names and SSM paths
  // at run time, so it deploys in parallel with the database.
  ComputeStack: ['NetworkStack', 'ApiStack'],
  // Alarm dimensions are derived names, except the HTTP API's ID.
  MonitoringStack: ['ApiStack'],
  DnsStack: ['ApiStack'],
};

/**
 * Nested-stack timeouts in minutes: a ceiling so a stuck create fails and rolls
 * back instead of waiting CloudFormation's default of hours. Generous where AWS
 * is slow: Aurora writer plus readers (AWS: 10-20 minutes for cluster and
 * instance, longer on a bad day); the DynamoDB global-table replica and the
 * cross-region wait; ACM's DNS validation; interface endpoints and Lambda's VPC
 * network interfaces.
 */
export const NESTED_STACK_TIMEOUTS: Readonly<Record<string, number>> = {
  NetworkStack: 10,
  EndpointsStack: 15,
  StorageStack: 30,
  DatabaseStack: 60,
  ApiStack: 10,
  ComputeStack: 20,
  MonitoringStack: 15,
  DnsStack: 45,
};

/** Nested stacks the root creates only under a condition. */
export const NESTED_STACK_CONDITIONS: Readonly<Record<string, string>> = {
  DnsStack: 'EnableDnsFailover',
};

export const SCHEMA_MIGRATION = 'SchemaMigration';
export const DEPLOYMENT_GATE = 'DeploymentGate';
/** Primary only: waits until the secondary region's replica bucket and keys exist. */
export const REGION_PREREQUISITES = 'SecondaryRegionPrerequisites';
export const REGION_PREREQUISITES_TYPE = 'Custom::CrossRegionPrerequisites';

/** The migration function's own timeout (ComputeStack): CloudFormation waits no longer for its answer. */
export const MIGRATION_SERVICE_TIMEOUT_SECONDS = MIGRATION_TIMEOUT_SECONDS;
/**
 * The gate function's timeout (ComputeStack) and the longest bake: BakeMinutes
 * is at most 10 (600 s); the gate answers 20 s before its 900 s timeout, so
 * CloudFormation never waits for an answer that cannot come.
 */
export const GATE_SERVICE_TIMEOUT_SECONDS = GATE_TIMEOUT_SECONDS;
export const MAX_BAKE_MINUTES = 10;
/** The prerequisites function's timeout: its wait (PREREQUISITES_MAX_WAIT_SECONDS) ends before it. */
export const PREREQUISITES_SERVICE_TIMEOUT_SECONDS = PREREQUISITES_TIMEOUT_SECONDS;

/**
 * Seconds between the end of a metric's minute and the moment an alarm can see its
 * datapoint. AWS documents that Lambda, API Gateway, RDS and DynamoDB send their
 * metrics every minute (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/monitoring-cloudwatch.html)
 * and that alarms evaluate every minute, but gives no figure for the delay: one
 * minute is an estimate of the typical case (late datapoints take longer, which a
 * longer BakeMinutes covers). The gate adds it to the alarms' window when BakeMinutes is auto.
 */
export const METRIC_PUBLISH_DELAY_SECONDS = 60;
/** BakeMinutes' value for "derived from the gated alarms' evaluation windows". */
export const AUTO_BAKE = 'auto';

/** Parameters only the root declares: the deployment gate's inputs and the two regions' images. */
export const RootParameters = {
  PrimaryImageUri: {
    ...ComputeParameters.ImageUri,
    Description: "Lambda container image in the primary region's registry, pinned by digest (the primary's ComputeStack runs it).",
  },
  SecondaryImageUri: {
    ...ComputeParameters.ImageUri,
    Description: "Lambda container image in the secondary region's registry, pinned by digest (the secondary's ComputeStack runs it).",
  },
  BakeMinutes: {
    Type: 'String',
    Description: `Minutes the deployment gate watches the alarms on an update (0 looks once); ${AUTO_BAKE}: the gated alarms' evaluation window plus the metric delay.`,
    AllowedPattern: `^(${AUTO_BAKE}|[0-9]|${MAX_BAKE_MINUTES})$`,
    Default: AUTO_BAKE,
    ConstraintDescription: `Must be ${AUTO_BAKE} or a whole number of minutes from 0 to ${MAX_BAKE_MINUTES}.`,
  },
} as const satisfies Record<string, ParameterDef>;

/** Gate property holding everything a release consists of ({@link releaseInputs}). */
export const RELEASE_INPUTS_PROPERTY = 'ReleaseInputs';

/**
 * Nested stacks whose changes a bake cannot see: they change what is watched, not
 * what runs. A change to them alone (an alarm threshold, the alarm e-mail) does not
 * run the gate; a change to which alarms are gated still does, through AlarmNames.
 */
export const UNBAKED_STACKS: readonly string[] = ['MonitoringStack'];

/**
 * What a release consists of, as the gate's ReleaseInputs property: the content-addressed
 * TemplateURL of every nested stack that runs something, every root parameter one of them
 * takes, both images, and the migrations' hash. CloudFormation sends the gate an Update
 * exactly when one of these changes, so the gate bakes where a bake can see something
 * and on no other update.
 */
export function releaseInputs(t: TemplateBuilder, nested: ReadonlyMap<string, JsonObject>, migrationsHash: string): JsonObject {
  const released = [...nested.keys()].filter((n) => !UNBAKED_STACKS.includes(n));
  const templates = Object.fromEntries(released.map((n) => [n, t.resourceProperties(n).TemplateURL]));
  const parameters = new Set<string>([...Object.keys(RootParameters).filter((p) => p.endsWith('ImageUri'))]);
  for (const n of released) {
    for (const id of Object.keys(objectAt(nested.get(n)?.Parameters, `${n} Parameters`))) if (!(id in (ROOT_COMPUTED_PARAMETERS[n] ?? {}))) parameters.add(id);
  }
  return {
    Templates: templates,
    Parameters: Object.fromEntries([...parameters].sort().map((p) => [p, { Ref: p }])),
    MigrationsHash: migrationsHash,
  };
}

/** Data attributes of the prerequisites wait: the secondary's key ARNs, by the StorageStack parameter they feed. */
export const REPLICA_KEYS = {
  AuditReplicaKeyArn: Names.auditKeyAlias,
  SessionReplicaKeyArn: Names.sessionKeyAlias,
} as const;

/**
 * Nested parameters the root computes per region instead of passing a root
 * parameter of the same name: the region's image, and in the primary the
 * secondary's replica keys as the prerequisites wait found them (a GetAtt, so
 * StorageStack waits for the wait there; Fn::If on the same condition, so the
 * secondary, where the wait does not exist, passes empty values).
 */
export const ROOT_COMPUTED_PARAMETERS: Readonly<Record<string, Readonly<Record<string, Intrinsic>>>> = {
  ComputeStack: {
    ImageUri: iff(IS_PRIMARY_REGION_CONDITION, ref('PrimaryImageUri'), ref('SecondaryImageUri')),
  },
  StorageStack: Object.fromEntries(
    Object.keys(REPLICA_KEYS).map((p) => [p, iff(IS_PRIMARY_REGION_CONDITION, getAtt(REGION_PREREQUISITES, p), '')]),
  ),
};

export interface RootOptions {
  /** sha256 over lambda/migrations/*.sql (cfn/lib/migrations.ts), computed by synthesize(). */
  readonly migrationsHash: string;
}

/** Interface groups, in console order; a nested stack's own parameters join its group. */
const GROUP_OF_STACK: Readonly<Record<string, string>> = {
  NetworkStack: 'Network',
  EndpointsStack: 'Network',
  StorageStack: 'Audit storage and sessions',
  DatabaseStack: 'Database',
  ApiStack: 'API',
  ComputeStack: 'Compute',
  MonitoringStack: 'Monitoring and alarms',
  DnsStack: 'DNS failover (optional: set both or neither)',
};
const ENVIRONMENT_GROUP = 'Environment';
const IMAGES_GROUP = 'Function images (set by the Pulumi program)';
const GATE_GROUP = 'Deployment gate';

/** Words that read better as acronyms in console labels. */
const ACRONYMS: Readonly<Record<string, string>> = {
  Api: 'API', Arn: 'ARN', Az: 'AZ', Cidr: 'CIDR', Cpu: 'CPU', Db: 'DB', Dns: 'DNS', Ecr: 'ECR', Id: 'ID', Iops: 'IOPS',
  Kms: 'KMS', Mb: 'MB', Sns: 'SNS', Ssm: 'SSM', Ttl: 'TTL', Url: 'URL', Uri: 'URI', Vpc: 'VPC', P99: 'p99', Acu: 'ACU', Ms: 'ms', MiB: 'MiB', GiB: 'GiB',
};

/** `PrivateSubnet1Cidr` -> `Private subnet 1 CIDR`: the console label of a parameter. */
export function parameterLabel(id: string): string {
  const words = id.match(/MiB|GiB|P99|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [id];
  return words
    .map((w, i) => ACRONYMS[w] ?? (w.toUpperCase() === w && w.length > 1 ? w : i === 0 ? w : w.toLowerCase()))
    .join(' ');
}

export function buildRoot(nested: ReadonlyMap<string, JsonObject>, options: RootOptions): TemplateBuilder {
  const t = new TemplateBuilder('TapStack', 'tap root: nested stacks for network, endpoints, storage, database, API, compute, monitoring and DNS failover.');
  const groups = new Map<string, string[]>([[ENVIRONMENT_GROUP, []]]);
  const declare = (id: string, def: ParameterDef, group: string): void => {
    t.parameter(id, def);
    const inGroup = [...groups.values()].some((ids) => ids.includes(id));
    if (inGroup) return;
    const target = id in SharedParameters ? ENVIRONMENT_GROUP : group;
    groups.set(target, [...(groups.get(target) ?? []), id]);
  };

  const has = (name: string): boolean => nested.has(name);
  const dnsCondition = NESTED_STACK_CONDITIONS.DnsStack;
  if (has('DnsStack')) {
    // Both are needed for a certificate and a record; either one alone deploys no DnsStack.
    t.condition(dnsCondition, and(not(equals(ref('HostedZoneId'), '')), not(equals(ref('DomainName'), ''))));
  }
  // Each region picks its own image and, in the primary, waits for the secondary.
  t.condition(IS_PRIMARY_REGION_CONDITION, IS_PRIMARY_REGION);

  const computed = (name: string): Readonly<Record<string, Intrinsic>> => ROOT_COMPUTED_PARAMETERS[name] ?? {};
  for (const [name, template] of nested) {
    const params = parameterDefinitions(template);
    for (const [id, def] of Object.entries(params)) if (!(id in computed(name))) declare(id, def, GROUP_OF_STACK[name] ?? name);
  }
  for (const [id, def] of Object.entries(RootParameters)) declare(id, def, id.endsWith('ImageUri') ? IMAGES_GROUP : GATE_GROUP);

  for (const [name, template] of nested) {
    const dependsOn = NESTED_STACK_DEPENDENCIES[name];
    if (dependsOn === undefined) throw new Error(`TapStack: no dependency entry for nested stack ${name} in NESTED_STACK_DEPENDENCIES`);
    const params = Object.keys(objectAt(template.Parameters, `${name} Parameters`));
    t.resource(
      name,
      'AWS::CloudFormation::Stack',
      {
        // The bytes synth writes are the bytes the Pulumi program uploads under this key.
        TemplateURL: sub(templateUrlPattern(name, renderTemplate(template))),
        TimeoutInMinutes: NESTED_STACK_TIMEOUTS[name] ?? 15,
        Parameters: Object.fromEntries(params.map((id) => [id, computed(name)[id] ?? ref(id)])),
      },
      { condition: NESTED_STACK_CONDITIONS[name], dependsOn: dependsOn.filter(has), deletionPolicy: 'Delete' },
    );
  }

  /** `Fn::GetAtt <stack>.Outputs.<key>`: an export's output has the export key as its logical ID (TemplateBuilder.export). */
  const output = (stack: string, key: string): Intrinsic => {
    if (objectAt(nested.get(stack)?.Outputs, `${stack} Outputs`)[key] === undefined) throw new Error(`TapStack: ${stack} has no output ${key}`);
    return getAtt(stack, `Outputs.${key}`);
  };

  // Primary only: the secondary region's replication targets, awaited (both regions deploy at once).
  if (has('StorageStack') && has('ComputeStack')) {
    t.customResource(
      REGION_PREREQUISITES,
      REGION_PREREQUISITES_TYPE,
      {
        ServiceToken: output('ComputeStack', Exports.compute.prerequisitesFunctionArn),
        ServiceTimeout: PREREQUISITES_SERVICE_TIMEOUT_SECONDS,
        Region: ref('SecondaryRegion'),
        // S3 refuses a replication rule whose destination does not exist or is not versioned.
        Bucket: sub(globalNamePattern(Names.auditBucket).replace('${AWS::Region}', '${SecondaryRegion}')),
        // A missing replica key fails silently, object by object (DstKmsKeyNotFound), so both are checked.
        Keys: Object.fromEntries(Object.entries(REPLICA_KEYS).map(([attribute, alias]) => [attribute, sub(keyAliasPattern(alias))])),
        MaxWaitSeconds: PREREQUISITES_MAX_WAIT_SECONDS,
      },
      { condition: IS_PRIMARY_REGION_CONDITION },
    );
  }

  // The schema migration, as soon as the writer takes connections (DatabaseStack complete)
  // and the migration function exists.
  if (has('DatabaseStack') && has('ComputeStack')) {
    t.customResource(
      SCHEMA_MIGRATION,
      `Custom::${SCHEMA_MIGRATION}`,
      {
        ServiceToken: output('ComputeStack', Exports.compute.migrationFunctionArn),
        ServiceTimeout: MIGRATION_SERVICE_TIMEOUT_SECONDS,
        WriterEndpointParameter: sub(SsmPaths.writerEndpoint),
        PortParameter: sub(SsmPaths.port),
        SecretArnParameter: sub(SsmPaths.secretArn),
        DatabaseName: DATABASE_NAME,
        // Only here so that an Update reaches the function exactly when a migration file changes.
        MigrationsHash: options.migrationsHash,
      },
      // ComputeStack is implied by the GetAtt. The database is reached through SSM at run time, so
      // it is ordered explicitly, and so are the endpoints the function reads SSM and Secrets Manager through.
      { dependsOn: ['DatabaseStack', ...(has('EndpointsStack') ? ['EndpointsStack'] : [])] },
    );
  }

  // The gate, after everything else.
  if (has('ComputeStack') && has('MonitoringStack')) {
    const referenced = new Set(['ComputeStack', 'MonitoringStack']);
    const unconditional = [...nested.keys()].filter((n) => NESTED_STACK_CONDITIONS[n] === undefined && !referenced.has(n));
    t.customResource(
      DEPLOYMENT_GATE,
      `Custom::${DEPLOYMENT_GATE}`,
      {
        ServiceToken: output('ComputeStack', Exports.compute.gateFunctionArn),
        ServiceTimeout: GATE_SERVICE_TIMEOUT_SECONDS,
        // The composite and its members, so a FAILED answer names the member alarm that fired and
        // its reason (the composite's own reason does not). Not an export: only the root reads it.
        AlarmNames: Fn.Split(',', getAtt('MonitoringStack', `Outputs.${GATED_ALARM_NAMES_OUTPUT}`)),
        BakeMinutes: ref('BakeMinutes'),
        MetricPublishDelaySeconds: METRIC_PUBLISH_DELAY_SECONDS,
        // Both regions bake together, and each also watches the other's deployment health, so a
        // bad release fails (and rolls back) in both regions, never stays live in one.
        PeerRegion: iff(IS_PRIMARY_REGION_CONDITION, ref('SecondaryRegion'), ref('PrimaryRegion')),
        PeerAlarmNames: [resourceName(Names.deploymentHealthAlarm)],
        // The gates start seconds apart; the one that started first waits for the other's verdict,
        // read from the other region's stack instance of this StackSet (lambda/tap/deploy_gate.py).
        PeerStackSetName: resourceName(Names.stackSet),
        // Only here so that an Update reaches the gate exactly when the release changes.
        [RELEASE_INPUTS_PROPERTY]: releaseInputs(t, nested, options.migrationsHash),
        // DependsOn cannot name a conditional resource (when its condition is false
        // CloudFormation rejects the template: "Unresolved resource dependencies",
        // cfn-lint E3005) and takes no intrinsic function. A GetAtt inside Fn::If on
        // the same condition is legal and orders the gate after DnsStack when it exists.
        ...(has('DnsStack') ? { DnsHealthCheckId: iff(dnsCondition, getAtt('DnsStack', `Outputs.${DNS_HEALTH_CHECK_OUTPUT}`), noValue()) } : {}),
      },
      { dependsOn: [...unconditional, ...(t.hasResource(SCHEMA_MIGRATION) ? [SCHEMA_MIGRATION] : [])] },
    );
  }

  rootOutputs(t, nested, output);

  t.addMetadata('AWS::CloudFormation::Interface', parameterInterface(groups));
  return t;
}

/** What an operator looks for after a deployment; nothing is exported (the nested stacks export). */
function rootOutputs(t: TemplateBuilder, nested: ReadonlyMap<string, JsonObject>, output: (stack: string, key: string) => Intrinsic): void {
  if (nested.has('ApiStack')) {
    t.output('ApiEndpoint', output('ApiStack', Exports.api.httpApiEndpoint), { description: "This region's HTTPS endpoint of the transactions API" });
  }
  if (nested.has('DnsStack')) {
    t.output('ApiDomainName', getAtt('DnsStack', `Outputs.${DNS_DOMAIN_OUTPUT}`), {
      description: 'Failover host name of the API (Route 53)',
      condition: NESTED_STACK_CONDITIONS.DnsStack,
    });
  }
  if (nested.has('DatabaseStack')) {
    t.output('DbWriterEndpointParameter', sub(SsmPaths.writerEndpoint), { description: "SSM parameter holding the Aurora writer endpoint" });
  }
  if (nested.has('StorageStack')) {
    t.output('AuditBucketName', output('StorageStack', Exports.storage.auditBucketName), { description: 'Audit-log bucket of this region' });
    t.output('AuditReplicaBucketName', sub(globalNamePattern(Names.auditBucket).replace('${AWS::Region}', '${SecondaryRegion}')), {
      description: 'Bucket in the secondary region that receives the audit-log replicas',
      condition: IS_PRIMARY_REGION_CONDITION,
    });
  }
  if (nested.has('MonitoringStack')) {
    t.output('AlarmTopicArn', output('MonitoringStack', Exports.monitoring.alarmTopicArn), { description: 'SNS topic every alarm notifies (subscribe operators here)' });
  }
}

function parameterInterface(groups: ReadonlyMap<string, readonly string[]>): JsonObject {
  const order = [ENVIRONMENT_GROUP, ...new Set(Object.values(GROUP_OF_STACK)), IMAGES_GROUP, GATE_GROUP];
  const rank = (g: string): number => (order.includes(g) ? order.indexOf(g) : order.length);
  const sorted = [...groups].filter(([, ids]) => ids.length > 0).sort(([a], [b]) => rank(a) - rank(b));
  return {
    ParameterGroups: sorted.map(([label, ids]) => ({ Label: { default: label }, Parameters: [...ids] })),
    ParameterLabels: Object.fromEntries(sorted.flatMap(([, ids]) => ids.map((id) => [id, { default: parameterLabel(id) }]))),
  };
}
