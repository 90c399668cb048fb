/**
 * Project invariants, over every template:
 * - every named resource's name contains ${EnvironmentSuffix};
 * - no DeletionPolicy or UpdateReplacePolicy Retain;
 * - every stateful resource declares DeletionPolicy and UpdateReplacePolicy:
 *   Delete, except the Aurora cluster (AWS::RDS::DBCluster): Snapshot;
 * - every taggable resource carries the cost-allocation tags (TAG_KEYS);
 * - no literal account IDs, ARNs, availability-zone or region names anywhere;
 * - every parameter has a Description and a ConstraintDescription, and an
 *   AllowedPattern, AllowedValues or MinValue/MaxValue where its type allows.
 * "Named", "taggable" and "stateful" come from AWS's resource specification (spec.ts).
 */
import { Json, JsonObject } from '../../cfn/lib/template';
import { SUFFIX } from '../../cfn/contract/names';
import { TAG_KEYS } from '../../cfn/lib/tags';
import { Finding } from './types';
import { isObject, resourcesOf, section, visitStrings } from './json';
import { factsFor, TagVariant } from './spec';

/** The one stateful type whose policy is Snapshot: a deleted or replaced Aurora cluster leaves a final snapshot. */
export const SNAPSHOT_TYPES: ReadonlySet<string> = new Set(['AWS::RDS::DBCluster']);

export function validateInvariants(templates: ReadonlyMap<string, JsonObject>): Finding[] {
  const findings: Finding[] = [];
  for (const [name, t] of templates) {
    const add = (check: string, path: string, message: string): void => {
      findings.push({ check: `invariant:${check}`, template: name, path, message });
    };
    const resourceIds = new Set(resourcesOf(t).map(([id]) => id));
    for (const [id, res] of resourcesOf(t)) {
      const at = `Resources/${id}`;
      const type = typeof res.Type === 'string' ? res.Type : '';
      const properties = isObject(res.Properties) ? res.Properties : {};
      const facts = factsFor(type);

      for (const attr of ['DeletionPolicy', 'UpdateReplacePolicy']) {
        if (res[attr] !== undefined && JSON.stringify(res[attr]).includes('Retain')) {
          add('retain', `${at}/${attr}`, `${attr} ${JSON.stringify(res[attr])}: tap never retains resources (every environment must delete cleanly)`);
        }
      }
      if (facts === undefined) continue;

      for (const p of facts.nameProperties) {
        if (properties[p] !== undefined && !carriesSuffix(properties[p], resourceIds)) {
          add('name-suffix', `${at}/Properties/${p}`, `${type} name ${JSON.stringify(properties[p])} does not contain \${${SUFFIX}} (use resourceName() or namePattern() from cfn/contract/names.ts)`);
        }
      }

      if (facts.stateful) {
        const expected = SNAPSHOT_TYPES.has(type) ? 'Snapshot' : 'Delete';
        for (const attr of ['DeletionPolicy', 'UpdateReplacePolicy']) {
          if (res[attr] === undefined) add('stateful-policy', at, `stateful ${type} declares no ${attr} (expected ${expected}; ResourceOptions.deletionPolicy sets both)`);
          else if (res[attr] !== expected && !JSON.stringify(res[attr]).includes('Retain')) {
            add('stateful-policy', `${at}/${attr}`, `stateful ${type} has ${attr} ${JSON.stringify(res[attr])}, expected ${expected}`);
          }
        }
      }

      if (facts.tags !== undefined) {
        const { property, variant } = facts.tags;
        const keys = tagKeys(properties[property], variant);
        if (keys === undefined) add('tags', `${at}/Properties/${property}`, `${property} is computed by an intrinsic function; the cost-allocation tags must be literal (TemplateBuilder.resource writes them)`);
        else {
          const missing = TAG_KEYS.filter((k) => !keys.has(k));
          if (missing.length > 0) add('tags', `${at}/Properties/${property}`, `taggable ${type} lacks cost-allocation tag(s) ${missing.join(', ')} (declare it with TemplateBuilder.resource, which writes them)`);
        }
      }
    }

    visitStrings(t, (s, path) => {
      for (const problem of literalProblems(s)) add('literal', path, problem);
    });

    for (const [id, def] of Object.entries(section(t, 'Parameters'))) {
      for (const problem of parameterProblems(isObject(def) ? def : {})) add('parameter', `Parameters/${id}`, `${id}: ${problem}`);
    }
  }
  return findings;
}

/**
 * True when a name value contains ${EnvironmentSuffix}, directly or through
 * something already per-environment: a resource of the template (Ref/GetAtt,
 * checked itself) or an import (export names carry the suffix).
 */
export function carriesSuffix(value: Json | undefined, resourceIds: ReadonlySet<string>): boolean {
  if (Array.isArray(value)) return value.some((v) => carriesSuffix(v, resourceIds));
  if (!isObject(value)) return false;
  const [fn, arg] = Object.entries(value)[0] ?? [];
  switch (fn) {
    case 'Ref':
      return arg === SUFFIX || (typeof arg === 'string' && resourceIds.has(arg));
    case 'Fn::GetAtt':
    case 'Fn::ImportValue':
      return true;
    case 'Fn::Sub': {
      const pattern = Array.isArray(arg) ? arg[0] : arg;
      const vars = Array.isArray(arg) && isObject(arg[1]) ? arg[1] : {};
      if (typeof pattern !== 'string') return false;
      return [...pattern.matchAll(/\$\{([^}!.]+)(\.[^}]+)?\}/g)].some(
        ([, v, attr]) => v === SUFFIX || resourceIds.has(v) || (attr === undefined && v in vars && carriesSuffix(vars[v], resourceIds)),
      );
    }
    case 'Fn::If':
      // Both branches become the name; AWS::NoValue leaves the name to CloudFormation.
      return Array.isArray(arg) && arg.slice(1).every((b) => carriesSuffix(b, resourceIds) || JSON.stringify(b) === '{"Ref":"AWS::NoValue"}');
    default:
      return arg !== undefined && carriesSuffix(arg, resourceIds);
  }
}

/** Tag keys written literally, or undefined when the tag property is an intrinsic function. */
function tagKeys(value: Json | undefined, variant: TagVariant): Set<string> | undefined {
  if (value === undefined) return new Set();
  if (variant === 'map') {
    if (!isObject(value) || Object.keys(value).some((k) => k === 'Ref' || k.startsWith('Fn::'))) return undefined;
    return new Set(Object.keys(value));
  }
  if (!Array.isArray(value)) return undefined;
  return new Set(value.flatMap((tag) => (isObject(tag) && typeof tag.Key === 'string' ? [tag.Key] : [])));
}

const ACCOUNT_ID = /(?<![0-9])[0-9]{12}(?![0-9])/;
const ARN = /(?<![A-Za-z0-9])arn:aws[a-z-]*:/;
/** Region codes (us-east-1, eu-west-1, ap-southeast-2, us-gov-west-1 ...); a trailing letter makes an AZ name (us-east-1a). */
const REGION_OR_AZ = /(?<![A-Za-z0-9])(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-[0-9]{1,2}([a-z])?(?![A-Za-z0-9])/g;
/** Availability-zone IDs (use1-az1). */
const AZ_ID = /(?<![A-Za-z0-9])[a-z]{3,5}[0-9]-az[0-9]{1,2}(?![A-Za-z0-9])/;

/** What is wrong with one string of a template (empty when nothing is). */
export function literalProblems(s: string): string[] {
  const problems: string[] = [];
  const account = ACCOUNT_ID.exec(s);
  if (account !== null) problems.push(`literal account ID ${account[0]} (use \${AWS::AccountId} or a parameter)`);
  if (ARN.test(s)) problems.push(`literal ARN in ${JSON.stringify(s)} (build it with Fn::Sub and \${AWS::Partition}, \${AWS::Region}, \${AWS::AccountId}, or use Fn::GetAtt)`);
  for (const m of s.matchAll(REGION_OR_AZ)) {
    problems.push(
      m[1] === undefined
        ? `literal region name ${m[0]} (use \${AWS::Region} or a parameter)`
        : `literal availability zone ${m[0]} (use Fn::Select over Fn::GetAZs)`,
    );
  }
  const azId = AZ_ID.exec(s);
  if (azId !== null) problems.push(`literal availability zone ID ${azId[0]} (use Fn::Select over Fn::GetAZs)`);
  return problems;
}

const nonEmpty = (v: Json | undefined): boolean => typeof v === 'string' && v.trim() !== '';
const present = (v: Json | undefined): boolean => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);

/** What a parameter definition lacks (empty when nothing). */
export function parameterProblems(def: JsonObject): string[] {
  const problems: string[] = [];
  if (!nonEmpty(def.Description)) problems.push('has no Description');
  if (!nonEmpty(def.ConstraintDescription)) problems.push('has no ConstraintDescription');
  const type = typeof def.Type === 'string' ? def.Type : '';
  // AWS-specific and SSM parameter types are validated by CloudFormation against the account.
  if (type === 'String' || type === 'CommaDelimitedList') {
    if (!present(def.AllowedPattern) && !present(def.AllowedValues)) problems.push(`is a ${type} without AllowedPattern or AllowedValues`);
  } else if (type === 'Number' || type === 'List<Number>') {
    if (!present(def.AllowedValues) && !(present(def.MinValue) && present(def.MaxValue))) problems.push(`is a ${type} without AllowedValues or both MinValue and MaxValue`);
  }
  return problems;
}
