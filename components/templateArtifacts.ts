import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { templateBucketName } from '../cfn/contract/names';
import { TEMPLATES_DIR, readTemplates, templateObjectKey, templateUrl } from '../program/committedTemplates';

export interface TemplateArtifactsArgs {
  /** Part of the bucket name `tap-templates-<suffix>-<account>-<region>`. */
  readonly environmentSuffix: string;
  /**
   * Directory of the generated templates; every `*.json` except the root is uploaded.
   * @default cfn/templates
   */
  readonly templatesDir?: string;
  /**
   * Days a replaced object version is kept before it expires (the bucket is versioned).
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
  /** Tags of the bucket. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The nested templates of one region in that region's S3 bucket, each under a
 * key that contains its content hash: the bucket and key the root template's
 * TemplateURLs name (`tap-templates-<suffix>-<account>-<region>`, cfn/contract/layout.ts).
 */
export class TemplateArtifacts extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  /** Nested template name (NetworkStack) -> https URL of its current version. */
  readonly templateUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: TemplateArtifactsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('tap:artifacts:TemplateArtifacts', name, {}, opts);
    const templates = readTemplates(args.templatesDir ?? TEMPLATES_DIR).nested;
    const tags = { ...(args.tags ?? {}) };
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const region = aws.getRegionOutput({}, { parent: this }).region;

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        // Bucket names are global and both regions deploy: suffix, account and region make it unique.
        bucket: pulumi.all([account, region]).apply(([a, r]) => templateBucketName(args.environmentSuffix, a, r)),
        // Teardown removes every object version with the bucket.
        forceDestroy: true,
        tags,
      },
      { parent: this },
    );
    const child = { parent: this };
    new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, child);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      // SSE-S3: templates are not secret, and CloudFormation reads them with the
      // execution role's credentials, which then needs no KMS key grant.
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
      child,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: 'expire-replaced-versions',
            status: 'Enabled',
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyPolicy(arn))),
      },
      // S3 refuses a bucket policy while the public-access block is being applied.
      { parent: this, dependsOn: [publicAccess] },
    );

    const urls: Record<string, pulumi.Output<string>> = {};
    for (const file of templates) {
      const key = templateObjectKey(file);
      const object = new aws.s3.BucketObjectv2(
        `${name}-${file.name}`,
        { bucket: bucket.id, key, content: file.body, contentType: 'application/json' },
        // Kept when replaced: the deployed root template names the previous key until the
        // primary stack's update lands, and a rolled-back StackSet operation names it again
        // (see README.md, "Deployment").
        { parent: this, retainOnDelete: true },
      );
      urls[file.name] = pulumi.all([bucket.bucket, region, object.key]).apply(([b, r, k]) => templateUrl(b, r, k));
    }

    this.bucketName = bucket.bucket;
    this.templateUrls = pulumi.output(urls);
    this.registerOutputs({ bucketName: this.bucketName, templateUrls: this.templateUrls });
  }
}

/** Deny any request over plain HTTP (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit). */
export const tlsOnlyPolicy = (bucketArn: string): object => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
});
