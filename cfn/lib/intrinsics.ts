/**
 * Intrinsic-function helpers. cloudform-types' `Fn` covers most functions; these
 * add the short forms it lacks (Fn::Sub without a variable map, AWS::NoValue,
 * Condition references) so generated JSON reads like hand-written CloudFormation.
 */
import { Fn, IntrinsicFunction, ConditionIntrinsicFunction, Value } from 'cloudform-types';

import { exportNamePattern, namePattern } from '../contract/names';

export { Fn, IntrinsicFunction };
export type { Value };

/** `{"Ref": logicalId}` for a parameter, resource or pseudo parameter. */
export const ref = (logicalId: string): IntrinsicFunction => Fn.Ref(logicalId);

/** `{"Fn::Sub": template}` (the one-argument form). */
export const sub = (template: string): IntrinsicFunction => new IntrinsicFunction('Fn::Sub', template);

/** `{"Fn::GetAtt": [logicalId, attribute]}` */
export const getAtt = (logicalId: string, attribute: string): IntrinsicFunction => Fn.GetAtt(logicalId, attribute);

/** `{"Ref": "AWS::NoValue"}`: removes a property, typically inside Fn::If. */
export const noValue = (): IntrinsicFunction => Fn.Ref('AWS::NoValue');

/** `{"Fn::If": [condition, a, b]}` */
export const iff = (condition: string, whenTrue: unknown, whenFalse: unknown): IntrinsicFunction =>
  Fn.If(condition, whenTrue, whenFalse);

/** `{"Condition": name}` for use inside Fn::And / Fn::Or / Fn::Not. */
export const cond = (name: string): { Condition: string } => ({ Condition: name });

export const equals = (a: unknown, b: unknown): ConditionIntrinsicFunction => Fn.Equals(a, b);
export const not = (c: ConditionIntrinsicFunction | { Condition: string }): ConditionIntrinsicFunction => Fn.Not(c);
export const and = (...cs: Array<ConditionIntrinsicFunction | { Condition: string }>): ConditionIntrinsicFunction =>
  Fn.And(cs);
export const or = (...cs: Array<ConditionIntrinsicFunction | { Condition: string }>): ConditionIntrinsicFunction =>
  Fn.Or(cs);

/** The AZ at `index` of the deploying region, never a literal AZ name. */
export const az = (index: number): IntrinsicFunction => Fn.Select(index, Fn.GetAZs(''));

/** Pseudo parameters, so no template ever names an account, partition or region literally. */
export const Pseudo = {
  accountId: ref('AWS::AccountId'),
  region: ref('AWS::Region'),
  partition: ref('AWS::Partition'),
  stackName: ref('AWS::StackName'),
  stackId: ref('AWS::StackId'),
  urlSuffix: ref('AWS::URLSuffix'),
} as const;

/** `<purpose>-${EnvironmentSuffix}` as Fn::Sub: a resource name. */
export const resourceName = (purpose: string): IntrinsicFunction => sub(namePattern(purpose));

/** `Export: { Name: ... }` value for an output. */
export const exportName = (key: string): IntrinsicFunction => sub(exportNamePattern(key));

/** `Fn::ImportValue` of another stack's export. */
export const importValue = (key: string): IntrinsicFunction => Fn.ImportValue(exportName(key));
