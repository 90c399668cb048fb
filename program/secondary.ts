/**
 * What the secondary region's stack staged, as the primary reads it before it
 * declares anything: its image and its uploads of the committed templates.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ROOT_TEMPLATE, TemplateFile, readTemplates, templateObjectKey, templateUrl } from './committedTemplates';
import { repositoryName, templateBucketName } from '../cfn/contract/names';
import type { PrimaryConfig } from './validateConfig';

/** What the secondary region's stack exports, as its StackReference reads it (anything may be missing). */
export interface SecondaryOutputs {
  readonly imageUri?: unknown;
  readonly templateUrls?: unknown;
}

/** The object name at the end of a URL or key (`NetworkStack-0123456789abcdef.json`). */
const objectName = (urlOrKey: string): string => urlOrKey.slice(urlOrKey.lastIndexOf('/') + 1);

/**
 * One problem that names the fix, or undefined, for what the secondary region's
 * stack staged. The root template reads the secondary's nested templates from the
 * secondary's bucket under the committed templates' keys, and runs the image the
 * secondary pushed; so before anything is registered the primary checks that the
 * secondary has been deployed, that its image lives in its own region's registry of
 * this account, and that it uploaded exactly the committed templates to the bucket
 * the root derives (`tap-templates-<suffix>-<account>-<region>`).
 */
export function secondaryArtifactsProblem(args: {
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  readonly environmentSuffix: string;
  readonly outputs: SecondaryOutputs;
  readonly nested: readonly TemplateFile[];
}): string | undefined {
  const { stack, region, accountId, environmentSuffix, outputs } = args;
  const fix = `run \`pulumi up -s ${stack}\` first, then this stack again`;
  const missing = (['imageUri', 'templateUrls'] as const).filter((k) => outputs[k] === undefined || outputs[k] === null);
  if (missing.length > 0) {
    return `${stack} has not been deployed (its stack exports no ${missing.join(' and no ')}): ${fix}.`;
  }
  const problems: string[] = [];
  const repository = `${accountId}.dkr.ecr.${region}.amazonaws.com/${repositoryName(environmentSuffix)}@sha256:`;
  if (typeof outputs.imageUri !== 'string' || !outputs.imageUri.startsWith(repository)) {
    problems.push(`its imageUri ${JSON.stringify(outputs.imageUri)} is not an image of ${repository.slice(0, -'@sha256:'.length)} pinned by digest`);
  }
  const urls = typeof outputs.templateUrls === 'object' && !Array.isArray(outputs.templateUrls) ? (outputs.templateUrls as Record<string, unknown>) : {};
  const bucket = templateBucketName(environmentSuffix, accountId, region);
  const stale = args.nested.flatMap((file) => {
    const expected = templateUrl(bucket, region, templateObjectKey(file));
    const url = urls[file.name];
    if (typeof url !== 'string') return [`${file.name} (none)`];
    return url === expected ? [] : [`${file.name} (it has ${url.startsWith(`https://${bucket}.`) ? objectName(url) : url}, expected ${objectName(expected)} in ${bucket})`];
  });
  if (stale.length > 0) problems.push(`it has not uploaded the committed version of ${stale.join(', ')}`);
  return problems.length === 0 ? undefined : `Secondary region ${region} (${stack}): ${problems.join('; ')}: ${fix}.`;
}

/** The names the root template reads: every template except the root itself. */
export const nestedTemplates = (files: readonly TemplateFile[]): TemplateFile[] => files.filter((t) => t.name !== ROOT_TEMPLATE);

/**
 * The secondary stack's image, once it is known to be deployed and to have staged
 * the committed templates; otherwise one RunError that names the fix, before the
 * primary declares anything. The StackReference only reads that stack's outputs.
 */
export async function secondaryImage(c: PrimaryConfig): Promise<string> {
  const reference = new pulumi.StackReference(c.secondaryStack);
  const [imageUri, templateUrls, identity] = await Promise.all([
    reference.getOutputDetails('imageUri'),
    reference.getOutputDetails('templateUrls'),
    aws.getCallerIdentity(),
  ]);
  const outputs: SecondaryOutputs = { imageUri: imageUri.value, templateUrls: templateUrls.value };
  const problem = secondaryArtifactsProblem({
    stack: c.secondaryStack,
    region: c.secondaryRegion,
    accountId: identity.accountId,
    environmentSuffix: c.environmentSuffix,
    outputs,
    nested: nestedTemplates(readTemplates().nested),
  });
  if (problem !== undefined) throw new pulumi.RunError(problem);
  return String(outputs.imageUri);
}
