/**
 * TapStack.json, the root template the StackSet deploys in each region. It
 * declares the union of the nested stacks' parameters (each passed through by
 * Ref), decides the deployment order with DependsOn, and nothing else that a
 * nested stack could own.
 */
import { CloudFormation } from 'cloudform-types';
import { TemplateBuilder, JsonObject } from './lib/template';
import { ParameterDef } from './lib/params';
import { ref } from './lib/intrinsics';
import { templateUrlParameter } from './lib/stack';
import { tags } from './lib/tags';

/** Nested stack -> the siblings it waits for (every Fn::ImportValue edge has one). */
export const NESTED_STACK_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  NetworkStack: [],
  StorageStack: [],
  DatabaseStack: ['NetworkStack'],
  ComputeStack: ['NetworkStack'],
  MonitoringStack: ['DatabaseStack', 'ComputeStack'],
  DnsStack: ['ComputeStack'],
};

/** Nested-stack timeouts in minutes: a ceiling so a stuck create fails fast and rolls back. */
export const NESTED_STACK_TIMEOUTS: Readonly<Record<string, number>> = {
  NetworkStack: 10,
  StorageStack: 10,
  DatabaseStack: 30,
  ComputeStack: 15,
  MonitoringStack: 10,
  DnsStack: 30,
};

const TEMPLATE_URL_PATTERN = '^https://[a-z0-9][a-z0-9.-]*\\.amazonaws\\.com(\\.cn)?/[A-Za-z0-9!_.*\'()/-]+\\.json$';

const templateUrlDef = (templateName: string): ParameterDef => ({
  Type: 'String',
  Description: `HTTPS URL of ${templateName}.json in the template artifacts bucket; the key contains the template's content hash, so an unchanged template leaves its stack untouched.`,
  AllowedPattern: TEMPLATE_URL_PATTERN,
  ConstraintDescription: 'Must be an https S3 URL of a .json template.',
});

export function buildRoot(nested: ReadonlyMap<string, JsonObject>): TemplateBuilder {
  const t = new TemplateBuilder('TapStack', 'tap root: nested stacks for network, storage, database, compute, monitoring and DNS failover.');

  for (const [name, template] of nested) {
    const params = (template.Parameters ?? {}) as unknown as Record<string, ParameterDef>;
    const urlParam = templateUrlParameter(name);
    t.parameter(urlParam, templateUrlDef(name));
    for (const [id, def] of Object.entries(params)) t.parameter(id, def);
    const dependsOn = NESTED_STACK_DEPENDENCIES[name];
    if (dependsOn === undefined) throw new Error(`TapStack: no dependency entry for nested stack ${name} in NESTED_STACK_DEPENDENCIES`);
    t.resource(
      name,
      new CloudFormation.Stack({
        TemplateURL: ref(urlParam),
        TimeoutInMinutes: NESTED_STACK_TIMEOUTS[name] ?? 15,
        Parameters: Object.fromEntries(Object.keys(params).map((id) => [id, ref(id)])),
        Tags: tags(),
      }),
      { dependsOn: dependsOn.filter((d) => nested.has(d)), deletionPolicy: 'Delete' },
    );
  }
  return t;
}
