/**
 * Cost-allocation tags, the same on every taggable resource. Values come from
 * parameters so one template serves every environment.
 * https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/cost-alloc-tags.html
 */
import { ResourceTag } from 'cloudform-types';
import { PROJECT, SUFFIX } from '../contract/names';
import { ref, IntrinsicFunction } from './intrinsics';

export const TAG_KEYS = ['Project', 'Environment', 'EnvironmentType', 'CostCenter'] as const;
export type TagKey = (typeof TAG_KEYS)[number];

const tagValues = (): Record<TagKey, string | IntrinsicFunction> => ({
  Project: PROJECT,
  Environment: ref(SUFFIX),
  EnvironmentType: ref('EnvironmentType'),
  CostCenter: ref('CostCenter'),
});

/** Tags as the common `[{Key, Value}]` list, plus any extra (for example Name). */
export const tags = (extra: Record<string, string | IntrinsicFunction> = {}): ResourceTag[] =>
  Object.entries({ ...tagValues(), ...extra }).map(([k, v]) => new ResourceTag(k, v));

/** Tags as a `{Key: Value}` map, for the resource types that take one (SSM Parameter, API Gateway v2). */
export const tagMap = (extra: Record<string, string | IntrinsicFunction> = {}): Record<string, string | IntrinsicFunction> => ({
  ...tagValues(),
  ...extra,
});
