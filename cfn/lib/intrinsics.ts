/**
 * Intrinsic functions as typed values (cfn/lib/value.ts's `Intrinsic`), in the
 * short forms hand-written CloudFormation uses (Fn::Sub without a variable map,
 * AWS::NoValue, Condition references), so the generated JSON reads like it.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 */
import { Intrinsic, JsonLike, Value } from './value';
import { exportNamePattern, namePattern } from '../contract/names';

export { Intrinsic };
export type { JsonLike, Value };

/** `{"Condition": name}`: a named condition inside Fn::And, Fn::Or or Fn::Not. */
export interface ConditionRef {
  readonly Condition: string;
}

/** What a condition function takes: another condition function or a named condition. */
export type ConditionExpression = Intrinsic | ConditionRef;

/** `{"Ref": logicalId}` for a parameter, resource or pseudo parameter. */
export const ref = (logicalId: string): Intrinsic => new Intrinsic('Ref', logicalId);

/** `{"Fn::Sub": template}`, or `{"Fn::Sub": [template, variables]}` when variables are given. */
export const sub = (template: string, variables?: { readonly [name: string]: JsonLike }): Intrinsic =>
  new Intrinsic('Fn::Sub', variables === undefined ? template : [template, variables]);

/** `{"Fn::GetAtt": [logicalId, attribute]}` */
export const getAtt = (logicalId: string, attribute: string): Intrinsic => new Intrinsic('Fn::GetAtt', [logicalId, attribute]);

/** `{"Ref": "AWS::NoValue"}`: removes a property, typically inside Fn::If. */
export const noValue = (): Intrinsic => ref('AWS::NoValue');

/** `{"Fn::If": [condition, a, b]}` */
export const iff = (condition: string, whenTrue: JsonLike, whenFalse: JsonLike): Intrinsic => new Intrinsic('Fn::If', [condition, whenTrue, whenFalse]);

/** `{"Condition": name}` for use inside Fn::And / Fn::Or / Fn::Not. */
export const cond = (name: string): ConditionRef => ({ Condition: name });

export const equals = (a: JsonLike, b: JsonLike): Intrinsic => new Intrinsic('Fn::Equals', [a, b]);
export const not = (c: ConditionExpression): Intrinsic => new Intrinsic('Fn::Not', [c]);
export const and = (...cs: ConditionExpression[]): Intrinsic => new Intrinsic('Fn::And', cs);
export const or = (...cs: ConditionExpression[]): Intrinsic => new Intrinsic('Fn::Or', cs);

/** The remaining functions the generators use, named as in the template reference. */
export const Fn = {
  Join: (delimiter: string, values: Value<readonly JsonLike[]>): Intrinsic => new Intrinsic('Fn::Join', [delimiter, values]),
  Split: (delimiter: string, source: Value<string>): Intrinsic => new Intrinsic('Fn::Split', [delimiter, source]),
  Select: (index: Value<number>, list: Value<readonly JsonLike[]>): Intrinsic => new Intrinsic('Fn::Select', [index, list]),
  GetAZs: (region: Value<string>): Intrinsic => new Intrinsic('Fn::GetAZs', region),
  FindInMap: (map: string, topKey: Value<string>, secondKey: Value<string>): Intrinsic => new Intrinsic('Fn::FindInMap', [map, topKey, secondKey]),
  ImportValue: (name: Value<string>): Intrinsic => new Intrinsic('Fn::ImportValue', name),
} as const;

/** The AZ at `index` of the deploying region, never a literal AZ name. */
export const az = (index: number): Intrinsic => Fn.Select(index, Fn.GetAZs(''));

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
export const resourceName = (purpose: string): Intrinsic => sub(namePattern(purpose));

/** `Export: { Name: ... }` value for an output. */
export const exportName = (key: string): Intrinsic => sub(exportNamePattern(key));

/** `Fn::ImportValue` of another stack's export. */
export const importValue = (key: string): Intrinsic => Fn.ImportValue(exportName(key));
