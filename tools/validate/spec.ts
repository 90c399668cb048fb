/**
 * What AWS's resource specification says about a resource type, read from
 * @aws-cdk/aws-service-spec (the database the AWS CDK generates its L1 classes
 * from): taggable and how, stateful, and which property is the resource's name.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';

export type TagVariant = 'standard' | 'asg' | 'map';

export interface ResourceFacts {
  /** Tag property and its shape: `[{Key, Value}]` (standard, asg) or `{key: value}` (map). Undefined: not taggable. */
  readonly tags?: { readonly property: string; readonly variant: TagVariant };
  /** Holds data that a replacement or deletion destroys (CDK warns about its RemovalPolicy). */
  readonly stateful: boolean;
  /** Properties that set the physical name of the resource. */
  readonly nameProperties: readonly string[];
}

/**
 * Names the spec does not mark: it identifies these resources by an ID or ARN
 * (primaryIdentifier) and its ARN template uses a different placeholder than
 * the property, yet the property sets the physical name AWS shows and that must
 * be unique per account and region.
 */
export const NAME_SUPPLEMENT: Readonly<Record<string, readonly string[]>> = {
  'AWS::EC2::SecurityGroup': ['GroupName'], // identified by GroupId; GroupName is unique per VPC
  'AWS::ApiGatewayV2::Api': ['Name'], // identified by ApiId
  'AWS::SecretsManager::Secret': ['Name'], // identified by its ARN; the name is unique per account and region
  'AWS::Events::Rule': ['Name'], // ARN template calls it ${RuleName}
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName'], // ARN template calls it ${PolicyNameWithPath}
  'AWS::Lambda::LayerVersion': ['LayerName'], // identified by the version ARN
};

/**
 * Stateful types the spec does not flag (its isStateful list follows CDK's
 * RemovalPolicy defaults and misses newer or data-holding types).
 */
export const STATEFUL_SUPPLEMENT: Readonly<Record<string, string>> = {
  'AWS::ECR::Repository': 'holds container images; CloudFormation cannot delete a non-empty repository',
  'AWS::S3Express::DirectoryBucket': 'holds objects like AWS::S3::Bucket',
};

let facts: Map<string, ResourceFacts> | undefined;

/** Facts for every resource type in the spec, loaded once per process (~1 s). */
export function resourceFacts(): ReadonlyMap<string, ResourceFacts> {
  facts ??= buildFacts();
  return facts;
}

/** Facts of one type; undefined for types the spec does not know (Custom::..., typos: cfn-lint reports those). */
export const factsFor = (type: string): ResourceFacts | undefined => resourceFacts().get(type);

function buildFacts(): Map<string, ResourceFacts> {
  const db = loadAwsServiceSpecSync();
  const out = new Map<string, ResourceFacts>();
  for (const r of db.all('resource')) {
    const type = r.cloudFormationType;
    // A name is a settable string property that is the resource's sole primary
    // identifier, or the name placeholder in its ARN template; properties that
    // point at another resource (relationshipRefs) are references, not names.
    const isOwnString = (p: string): boolean => {
      const prop = r.properties[p];
      return prop !== undefined && prop.type.type === 'string' && (prop.relationshipRefs ?? []).length === 0;
    };
    const identifier = r.primaryIdentifier ?? [];
    const arnPlaceholders = [...(r.arnTemplate ?? '').matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]);
    const names = new Set([...(identifier.length === 1 ? identifier : []), ...arnPlaceholders].filter(isOwnString));
    for (const p of NAME_SUPPLEMENT[type] ?? []) names.add(p);
    out.set(type, {
      tags: r.tagInformation === undefined ? undefined : { property: r.tagInformation.tagPropertyName, variant: r.tagInformation.variant },
      stateful: r.isStateful === true || type in STATEFUL_SUPPLEMENT,
      nameProperties: [...names].sort(),
    });
  }
  return out;
}
