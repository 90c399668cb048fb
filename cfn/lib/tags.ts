/**
 * Cost-allocation tags, the same on every taggable resource. Values come from
 * parameters so one template serves every environment. TemplateBuilder.resource
 * applies them; stack builders never write a Tags property.
 * https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/cost-alloc-tags.html
 */
import { PROJECT, SUFFIX } from '../contract/names';
import { ref } from './intrinsics';
import { Value } from './value';

export const TAG_KEYS = ['Project', 'Environment', 'EnvironmentType', 'CostCenter'] as const;
export type TagKey = (typeof TAG_KEYS)[number];

/** Tags beyond the cost-allocation ones (for example Name), by key. */
export type ExtraTags = { readonly [key: string]: Value<string> };

const tagValues = (): Record<TagKey, Value<string>> => ({
  Project: PROJECT,
  Environment: ref(SUFFIX),
  EnvironmentType: ref('EnvironmentType'),
  CostCenter: ref('CostCenter'),
});

/** The cost-allocation tags, then `extra`, as a `{Key: Value}` map; an extra key may not replace a cost-allocation one. */
export function tagMap(extra: ExtraTags = {}): Record<string, Value<string>> {
  const clash = TAG_KEYS.filter((k) => k in extra);
  if (clash.length > 0) throw new Error(`tag ${clash.join(', ')} is a cost-allocation tag; the builder sets it from the template's parameters`);
  return { ...tagValues(), ...extra };
}

/** The same tags as the common `[{Key, Value}]` list. */
export const tagList = (extra: ExtraTags = {}): Array<{ Key: string; Value: Value<string> }> =>
  Object.entries(tagMap(extra)).map(([Key, Value]) => ({ Key, Value }));
