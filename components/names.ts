/**
 * Physical names of what the Pulumi program creates, in one place: the
 * components and the execution role's policy must agree on them.
 */

/** ECR repository of the functions' image. */
export const repositoryName = (suffix: string): string => `tap-lambda-${suffix}`;

/** Template artifacts bucket; bucket names are global and both regions deploy one. */
export const templateBucketName = (suffix: string, accountId: string, region: string): string => `tap-templates-${suffix}-${accountId}-${region}`;

/**
 * The StackSet: `tap-<suffix>` (cfn/lib/names.ts Names.stackSet is the prefix the
 * templates scope to; a test keeps the two equal). Its stack instances are named
 * `StackSet-tap-<suffix>-<uuid>`.
 */
export const stackSetName = (suffix: string): string => `tap-${suffix}`;

export const administrationRoleName = (suffix: string): string => `tap-stackset-admin-${suffix}`;
export const executionRoleName = (suffix: string): string => `tap-stackset-execution-${suffix}`;
