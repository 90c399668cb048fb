/**
 * IAM policy statements that keep their justification next to them. A statement
 * on Resource "*" can only be added with the reason AWS offers nothing narrower;
 * the reasons land in the owning resource's Metadata (WILDCARD_REASONS_KEY,
 * `{ <Sid>: <reason> }`), so reviewers and tests see every wildcard explained.
 */
export const WILDCARD_REASONS_KEY = 'tap:wildcard-reasons';

import { JsonLike } from './value';

/** An IAM condition block: operator -> condition key -> value(s). */
export type PolicyCondition = { readonly [operator: string]: JsonLike };

// A type alias, not an interface, so that a statement is JsonLike (aliases have implicit index signatures).
export type PolicyStatement = {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: '*' | readonly JsonLike[];
  readonly Condition?: PolicyCondition;
};

const SID = /^[A-Za-z0-9]+$/;

export class Permissions {
  private readonly list: PolicyStatement[] = [];
  private readonly reasons: Record<string, string> = {};

  /** Allows `actions` on the given resources (ARNs, usually Fn::Sub or Fn::GetAtt). */
  allow(sid: string, actions: readonly string[], resources: readonly JsonLike[], condition?: PolicyCondition): this {
    if (resources.length === 0) throw new Error(`statement ${sid}: no resources`);
    if (resources.includes('*')) throw new Error(`statement ${sid}: Resource "*" needs a reason; use allowOnAnyResource()`);
    return this.add({ Sid: sid, Effect: 'Allow', Action: actions, Resource: resources, ...(condition !== undefined ? { Condition: condition } : {}) });
  }

  /**
   * Allows `actions` on Resource "*", for actions that support no resource-level
   * permission (or only with "*"). `reason` says so and names the AWS doc.
   */
  allowOnAnyResource(sid: string, actions: readonly string[], reason: string, condition?: PolicyCondition): this {
    if (reason.trim() === '') throw new Error(`statement ${sid}: Resource "*" without a reason`);
    this.add({ Sid: sid, Effect: 'Allow', Action: actions, Resource: '*', ...(condition !== undefined ? { Condition: condition } : {}) });
    this.reasons[sid] = reason;
    return this;
  }

  get statements(): readonly PolicyStatement[] {
    return this.list;
  }

  /** `{ Sid: reason }` for every Resource "*" statement (empty when there is none). */
  get wildcardReasons(): Readonly<Record<string, string>> {
    return this.reasons;
  }

  /** A policy document of these statements. */
  document(): { Version: '2012-10-17'; Statement: PolicyStatement[] } {
    return { Version: '2012-10-17', Statement: [...this.list] };
  }

  private add(statement: PolicyStatement): this {
    if (!SID.test(statement.Sid)) throw new Error(`statement Sid ${JSON.stringify(statement.Sid)} must be alphanumeric`);
    if (this.list.some((s) => s.Sid === statement.Sid)) throw new Error(`statement Sid ${statement.Sid} used twice`);
    if (statement.Action.length === 0) throw new Error(`statement ${statement.Sid}: no actions`);
    for (const action of statement.Action) {
      if (action === '*' || action.endsWith(':*')) throw new Error(`statement ${statement.Sid}: action ${action} grants a whole service; name the actions`);
    }
    this.list.push(statement);
    return this;
  }
}
