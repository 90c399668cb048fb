/**
 * The value types of typed CloudFormation properties: a literal, or an intrinsic
 * function that CloudFormation resolves at deploy time. Dependency-free, so the
 * generated property types (cfnTypes.generated.ts) and the intrinsics share it.
 */

/** `{ "Fn::Sub": ... }`, `{ "Ref": ... }` and the other intrinsic functions, as a value of their own type. */
export class Intrinsic {
  constructor(
    /** `Ref`, `Fn::Sub`, `Fn::GetAtt`, ... */
    readonly fn: string,
    readonly args: unknown,
  ) {}

  /** The JSON CloudFormation reads: `{ "<fn>": <args> }`. */
  toJSON(): Record<string, unknown> {
    return { [this.fn]: this.args };
  }
}

/** A property value: the literal, or an intrinsic that resolves to one. */
export type Value<T> = T | Intrinsic;

/** Free-form JSON (policy documents, dashboard bodies): any JSON, with intrinsics anywhere in it. */
export type JsonLike = string | number | boolean | null | Intrinsic | readonly JsonLike[] | { readonly [key: string]: JsonLike | undefined };

/** JSON as rendered: what a template becomes once every Intrinsic is written out. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** `value` as a JSON object: {} when absent; throws, naming `what`, when it is anything but an object. */
export function objectAt(value: Json | undefined, what: string): JsonObject {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what} is ${JSON.stringify(value)}, not an object`);
  return value;
}
