/**
 * TapStack.json, the root template the StackSet deploys in each region. It
 * declares the union of the nested stacks' parameters (each passed through by
 * Ref), decides the deployment order with DependsOn, and owns only what spans
 * stacks: the schema migration (it needs the database and the migration
 * function) and the deployment gate (it runs after everything else).
 *
 * Deployment waves (synth prints them):
 *   1. NetworkStack, StorageStack
 *   2. ComputeStack, DatabaseStack      (Compute needs nothing from Database)
 *   3. DnsStack, MonitoringStack, SchemaMigration
 *   4. DeploymentGate
 */
import { CloudFormation } from 'cloudform-types';
import { createHash } from 'crypto';
import { canonicalize, TemplateBuilder, JsonObject, renderTemplate } from './lib/template';
import { ParameterDef, SharedParameters, IS_PRIMARY_REGION, IS_PRIMARY_REGION_CONDITION } from './lib/params';
import { and, equals, Fn, getAtt, iff, noValue, not, ref, sub } from './lib/intrinsics';
import { DATABASE_NAME, Exports, GATED_ALARM_NAMES_OUTPUT, Names, SsmPaths, exportNamePattern, globalNamePattern } from './lib/names';
import { templateUrlParameter } from './lib/stack';
import { tags } from './lib/tags';
import { GATE_TIMEOUT_SECONDS, MIGRATION_TIMEOUT_SECONDS } from './compute';
import { DNS_DOMAIN_OUTPUT, DNS_HEALTH_CHECK_OUTPUT } from './dns';

/**
 * Nested stack -> the siblings it waits for. Every Fn::ImportValue edge has one,
 * because CloudFormation resolves an import only once the export exists.
 */
export const NESTED_STACK_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  NetworkStack: [],
  StorageStack: [],
  DatabaseStack: ['NetworkStack'],
  // Network only: compute finds database-owned things by derived names and SSM
  // paths at run time, so it deploys in parallel with the database.
  ComputeStack: ['NetworkStack'],
  MonitoringStack: ['DatabaseStack', 'ComputeStack'],
  DnsStack: ['ComputeStack'],
};

/**
 * Nested-stack timeouts in minutes: a ceiling so a stuck create fails and rolls
 * back instead of waiting CloudFormation's default of hours. Generous where AWS
 * is slow: Aurora writer plus readers and the DynamoDB global-table replica;
 * ACM's DNS validation; Lambda's VPC network interfaces.
 */
export const NESTED_STACK_TIMEOUTS: Readonly<Record<string, number>> = {
  NetworkStack: 15,
  StorageStack: 10,
  DatabaseStack: 60,
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

/** The migration function's own timeout (ComputeStack): CloudFormation waits no longer for its answer. */
export const MIGRATION_SERVICE_TIMEOUT_SECONDS = MIGRATION_TIMEOUT_SECONDS;
/**
 * The gate function's timeout (ComputeStack) and the longest bake: BakeMinutes
 * is at most 10 (600 s); the gate answers 20 s before its 900 s timeout, so
 * CloudFormation never waits for an answer that cannot come.
 */
export const GATE_SERVICE_TIMEOUT_SECONDS = GATE_TIMEOUT_SECONDS;
export const MAX_BAKE_MINUTES = 10;

const TEMPLATE_URL_PATTERN = '^https://[a-z0-9][a-z0-9.-]*\\.amazonaws\\.com(\\.cn)?/[A-Za-z0-9!_.*\'()/-]+\\.json$';

const templateUrlDef = (templateName: string): ParameterDef => ({
  Type: 'String',
  Description: `S3 URL of ${templateName}.json; its key holds the content hash, so an unchanged template leaves its stack alone.`,
  AllowedPattern: TEMPLATE_URL_PATTERN,
  ConstraintDescription: 'Must be an https S3 URL of a .json template.',
});

/** Parameters only the root declares: the deployment gate's inputs. */
export const RootParameters = {
  BakeMinutes: {
    Type: 'Number',
    Description: 'Minutes the deployment gate watches the deployment-health alarm before the update may complete (0 skips the bake).',
    MinValue: 0,
    MaxValue: MAX_BAKE_MINUTES,
    Default: 3,
    ConstraintDescription: `Must be a whole or decimal number of minutes from 0 to ${MAX_BAKE_MINUTES}.`,
  },
  DeploymentStamp: {
    Type: 'String',
    Description: 'SHA-256 of every template and parameter value, set by the Pulumi program: a new value re-runs the deployment gate.',
    AllowedPattern: '^[a-f0-9]{64}$',
    ConstraintDescription: 'Must be 64 lowercase hexadecimal characters (a SHA-256 digest).',
  },
} as const satisfies Record<string, ParameterDef>;

export interface RootOptions {
  /** sha256 over lambda/migrations/*.sql (cfn/lib/migrations.ts), computed by synthesize(). */
  readonly migrationsHash: string;
}

/** Interface groups, in console order; a nested stack's own parameters join its group. */
const GROUP_OF_STACK: Readonly<Record<string, string>> = {
  NetworkStack: 'Network',
  StorageStack: 'Audit storage',
  DatabaseStack: 'Database',
  ComputeStack: 'Compute',
  MonitoringStack: 'Monitoring and alarms',
  DnsStack: 'DNS failover (optional: set both or neither)',
};
const ENVIRONMENT_GROUP = 'Environment';
const GATE_GROUP = 'Deployment gate';
const TEMPLATES_GROUP = 'Nested templates (set by the Pulumi program)';

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
  const t = new TemplateBuilder('TapStack', 'tap root: nested stacks for network, storage, database, compute, monitoring and DNS failover.');
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

  for (const [name, template] of nested) {
    const params = (template.Parameters ?? {}) as unknown as Record<string, ParameterDef>;
    for (const [id, def] of Object.entries(params)) declare(id, def, GROUP_OF_STACK[name] ?? name);
  }
  for (const name of nested.keys()) {
    const urlParam = templateUrlParameter(name);
    declare(urlParam, templateUrlDef(name), TEMPLATES_GROUP);
    const dependsOn = NESTED_STACK_DEPENDENCIES[name];
    if (dependsOn === undefined) throw new Error(`TapStack: no dependency entry for nested stack ${name} in NESTED_STACK_DEPENDENCIES`);
    const params = Object.keys((nested.get(name)?.Parameters ?? {}) as object);
    t.resource(
      name,
      new CloudFormation.Stack({
        TemplateURL: ref(urlParam),
        TimeoutInMinutes: NESTED_STACK_TIMEOUTS[name] ?? 15,
        Parameters: Object.fromEntries(params.map((id) => [id, ref(id)])),
        Tags: tags(),
      }),
      { condition: NESTED_STACK_CONDITIONS[name], dependsOn: dependsOn.filter(has), deletionPolicy: 'Delete' },
    );
  }

  /** `Fn::GetAtt <stack>.Outputs.<id>` of the output that exports `key`. */
  const output = (stack: string, key: string): unknown => getAtt(stack, `Outputs.${outputExporting(nested, stack, key)}`);

  // Wave 3: the schema migration, once the database and the migration function exist.
  if (has('DatabaseStack') && has('ComputeStack')) {
    // The type has no cloudform-types class: custom resource types are named by the template author.
    t.rawResource(
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
      // ComputeStack is implied by the GetAtt; the database is reached through SSM at run time, so order it explicitly.
      { dependsOn: ['DatabaseStack'] },
    );
  }

  // Wave 4: the gate, after everything else.
  if (has('ComputeStack') && has('MonitoringStack')) {
    for (const [id, def] of Object.entries(RootParameters)) declare(id, def, GATE_GROUP);
    const referenced = new Set(['ComputeStack', 'MonitoringStack']);
    const unconditional = [...nested.keys()].filter((n) => NESTED_STACK_CONDITIONS[n] === undefined && !referenced.has(n));
    t.rawResource(
      DEPLOYMENT_GATE,
      // The type has no cloudform-types class: custom resource types are named by the template author.
      `Custom::${DEPLOYMENT_GATE}`,
      {
        ServiceToken: output('ComputeStack', Exports.compute.gateFunctionArn),
        ServiceTimeout: GATE_SERVICE_TIMEOUT_SECONDS,
        // The composite and its members, so a FAILED answer names the member alarm that fired and
        // its reason (the composite's own reason does not). Not an export: only the root reads it.
        AlarmNames: Fn.Split(',', getAtt('MonitoringStack', `Outputs.${GATED_ALARM_NAMES_OUTPUT}`)),
        BakeMinutes: ref('BakeMinutes'),
        DeploymentStamp: ref('DeploymentStamp'),
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
function rootOutputs(t: TemplateBuilder, nested: ReadonlyMap<string, JsonObject>, output: (stack: string, key: string) => unknown): void {
  if (nested.has('ComputeStack')) {
    t.output('ApiEndpoint', output('ComputeStack', Exports.compute.httpApiEndpoint), { description: "This region's HTTPS endpoint of the transactions API" });
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
    t.condition(IS_PRIMARY_REGION_CONDITION, IS_PRIMARY_REGION);
    t.output('AuditReplicaBucketName', sub(globalNamePattern(Names.auditBucket).replace('${AWS::Region}', '${SecondaryRegion}')), {
      description: 'Bucket in the secondary region that receives the audit-log replicas',
      condition: IS_PRIMARY_REGION_CONDITION,
    });
  }
  if (nested.has('MonitoringStack')) {
    t.output('AlarmTopicArn', output('MonitoringStack', Exports.monitoring.alarmTopicArn), { description: 'SNS topic every alarm notifies (subscribe operators here)' });
  }
}

/** The output of `stack` whose export is `key`; throws naming both when there is none. */
export function outputExporting(nested: ReadonlyMap<string, JsonObject>, stack: string, key: string): string {
  const outputs = (nested.get(stack)?.Outputs ?? {}) as Record<string, JsonObject>;
  const wanted = exportNamePattern(key);
  const found = Object.entries(outputs).find(([, o]) => {
    const exported = o.Export as JsonObject | undefined;
    const name = exported?.Name as JsonObject | undefined;
    return name !== undefined && name['Fn::Sub'] === wanted; // exportName() in names.ts writes exactly this form
  });
  if (found === undefined) throw new Error(`TapStack: ${stack} has no output exporting ${wanted}`);
  return found[0];
}

function parameterInterface(groups: ReadonlyMap<string, readonly string[]>): JsonObject {
  const order = [ENVIRONMENT_GROUP, ...Object.values(GROUP_OF_STACK), GATE_GROUP, TEMPLATES_GROUP];
  const rank = (g: string): number => (order.includes(g) ? order.indexOf(g) : order.length);
  const sorted = [...groups].filter(([, ids]) => ids.length > 0).sort(([a], [b]) => rank(a) - rank(b));
  return {
    ParameterGroups: sorted.map(([label, ids]) => ({ Label: { default: label }, Parameters: [...ids] })),
    ParameterLabels: Object.fromEntries(sorted.flatMap(([, ids]) => ids.map((id) => [id, { default: parameterLabel(id) }]))),
  };
}

/** Gate property holding the hash of the root template itself ({@link withRootTemplateHash}). */
export const ROOT_TEMPLATE_HASH_PROPERTY = 'RootTemplateHash';

/**
 * Sets the gate's RootTemplateHash to the SHA-256 of the root template as rendered with that
 * property empty. Why: the per-region values (ImageUri, TemplateUrls, DeploymentStamp) are
 * StackSet instance overrides, so a change of the root template reaches the regions first in a
 * StackSet-level operation in which DeploymentStamp is unchanged; without a property of its own
 * that changes, the gate would not run there and the change would reach the primary ungated.
 */
export function withRootTemplateHash(root: JsonObject): JsonObject {
  const copy = JSON.parse(JSON.stringify(root)) as JsonObject;
  const gate = (copy.Resources as Record<string, JsonObject> | undefined)?.[DEPLOYMENT_GATE];
  if (gate === undefined) return copy;
  const props = gate.Properties as JsonObject;
  props[ROOT_TEMPLATE_HASH_PROPERTY] = '';
  const hash = createHash('sha256').update(renderTemplate(canonicalize(copy) as JsonObject)).digest('hex');
  props[ROOT_TEMPLATE_HASH_PROPERTY] = hash;
  return canonicalize(copy) as JsonObject;
}
