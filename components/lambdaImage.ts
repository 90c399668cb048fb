import * as path from 'path';
import * as aws from '@pulumi/aws';
import * as awsnative from '@pulumi/aws-native';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { contextHash } from './contextHash';
import { repositoryName } from '../cfn/contract/names';

/** lambda/, the build context of the functions' image. */
export const LAMBDA_DIR = path.join(__dirname, '..', 'lambda');
/** The functions run on x86_64 (cfn/stacks/compute/stack.ts ARCHITECTURE), so the image is linux/amd64 on any build machine. */
export const IMAGE_PLATFORM = 'linux/amd64';

export interface LambdaImageArgs {
  /** Suffix of the repository name `tap-lambda-<suffix>`. */
  readonly environmentSuffix: string;
  /**
   * Images the lifecycle policy keeps; older ones expire. A rollback needs the
   * previous image, so keep more than a handful.
   * @default 10
   */
  readonly retainCount?: number;
  /**
   * An image already pushed (for example by CI), pinned by digest. When set, no
   * Docker resource is declared (preview and up need no Docker daemon) and this
   * is the output `imageUri`; the repository is still declared so CI has a
   * place to push to, and so teardown removes it.
   * @default undefined: build lambda/ and push it
   */
  readonly imageUri?: string;
  /**
   * Build context of the image.
   * @default lambda/
   */
  readonly context?: string;
  /** Tags of the repository. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/** ECR's lifecycle policy: expire all but the last `retainCount` images. */
export const lifecyclePolicy = (retainCount: number): object => ({
  rules: [
    {
      rulePriority: 1,
      description: `Keep the last ${retainCount} images`,
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: retainCount },
      action: { type: 'expire' },
    },
  ],
});

/**
 * The functions' container image: an ECR repository and, unless one is given, the
 * image built from lambda/.
 *
 * The repository is an `aws-native` resource (Cloud Control, the resource handlers
 * and the AWS::ECR::Repository schema CloudFormation itself uses): the lifecycle
 * policy is a property of the repository, so no repository ever exists without it
 * (the classic provider needs a second resource, created after), and `emptyOnDelete`
 * is CloudFormation's own teardown switch. The child resources therefore need an
 * `aws-native` provider for the stack's region (index.ts passes one).
 */
export class LambdaImage extends pulumi.ComponentResource {
  /** The image pinned by digest: `<account>.dkr.ecr.<region>.amazonaws.com/tap-lambda-<suffix>@sha256:<digest>`. */
  readonly imageUri: pulumi.Output<string>;
  readonly repositoryUrl: pulumi.Output<string>;
  readonly repositoryName: pulumi.Output<string>;
  /** The Docker build, when no imageUri was given. */
  readonly image?: docker.Image;

  constructor(name: string, args: LambdaImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('tap:image:LambdaImage', name, {}, opts);
    const retainCount = args.retainCount ?? 10;
    const context = args.context ?? LAMBDA_DIR;
    const tags = Object.entries(args.tags ?? {}).map(([key, value]) => ({ key, value }));

    const repository = new awsnative.ecr.Repository(
      `${name}-repository`,
      {
        repositoryName: repositoryName(args.environmentSuffix),
        // A digest is what CloudFormation deploys; immutable tags keep a tag from meaning two images.
        imageTagMutability: awsnative.ecr.RepositoryImageTagMutability.Immutable,
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: awsnative.ecr.RepositoryEncryptionType.Kms },
        lifecyclePolicy: { lifecyclePolicyText: JSON.stringify(lifecyclePolicy(retainCount)) },
        // Teardown leaves nothing behind, images included.
        emptyOnDelete: true,
        tags,
      },
      { parent: this },
    );
    const repositoryUrl = repository.repositoryUri;
    // The registry is the account: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    const registryId = repositoryUrl.apply((url) => url.split('.')[0]);

    if (args.imageUri !== undefined) {
      this.imageUri = pulumi.output(args.imageUri);
    } else {
      const credentials = aws.ecr.getAuthorizationTokenOutput({ registryId }, { parent: this });
      this.image = new docker.Image(
        `${name}-image`,
        {
          // A new tag per content: ECR tags are immutable, and unchanged content keeps its tag.
          imageName: pulumi.interpolate`${repositoryUrl}:${contextHash(context)}`,
          build: { context, dockerfile: path.join(context, 'Dockerfile'), platform: IMAGE_PLATFORM, builderVersion: docker.BuilderVersion.BuilderBuildKit },
          // Build and push on `up` only; a preview shows the digest as unknown (the docker provider still needs a daemon: see imageUri).
          buildOnPreview: false,
          registry: {
            server: repositoryUrl.apply((url) => url.split('/')[0]),
            username: credentials.userName,
            password: pulumi.secret(credentials.password),
          },
        },
        { parent: this },
      );
      this.imageUri = pulumi.all([repositoryUrl, this.image.repoDigest]).apply(([url, repoDigest]) => pinnedImageUri(url, repoDigest));
    }
    this.repositoryUrl = repositoryUrl;
    this.repositoryName = repository.repositoryName.apply((n) => n ?? repositoryName(args.environmentSuffix));
    this.registerOutputs({ imageUri: this.imageUri, repositoryUrl: this.repositoryUrl, repositoryName: this.repositoryName });
  }
}

/** `repo@sha256:...` (docker's repoDigest) -> the repository URL pinned by that digest. */
export function pinnedImageUri(repositoryUrl: string, repoDigest: string): string {
  const digest = /@(sha256:[a-f0-9]{64})$/.exec(repoDigest)?.[1];
  if (digest === undefined) throw new Error(`LambdaImage: the pushed image's repoDigest ${JSON.stringify(repoDigest)} has no sha256 digest`);
  return `${repositoryUrl}@${digest}`;
}
