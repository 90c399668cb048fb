/**
 * Physical names of what the Pulumi program creates, in one place: the
 * components and the execution role's policy must agree on them.
 */
import { Names, PROJECT } from '../cfn/lib/names';

/** ECR repository of the functions' image. */
export const repositoryName = (suffix: string): string => `${PROJECT}-lambda-${suffix}`;

/**
 * Template artifacts bucket, `tap-templates-<suffix>-<account>-<region>`: bucket names are
 * global and both regions deploy one. The root template derives the same name
 * (TEMPLATE_BUCKET_PATTERN in cfn/lib/stack.ts) for every nested TemplateURL.
 */
export const templateBucketName = (suffix: string, accountId: string, region: string): string => `${Names.templateBucket}-${suffix}-${accountId}-${region}`;

/**
 * The StackSet: `tap-<suffix>`, after Names.stackSet, the prefix the templates
 * scope to. Its stack instances are named `StackSet-tap-<suffix>-<uuid>`.
 */
export const stackSetName = (suffix: string): string => `${Names.stackSet}-${suffix}`;

export const administrationRoleName = (suffix: string): string => `${PROJECT}-stackset-admin-${suffix}`;
export const executionRoleName = (suffix: string): string => `${PROJECT}-stackset-execution-${suffix}`;
