/**
 * ComputeStack's parameters and the fixed contracts of its functions: image
 * URI form, memory and timeouts, handler entry points, architecture.
 */
import { ParameterDef } from '../../lib/sharedParameters';

/**
 * An ECR image pinned by digest. A tag is refused: CloudFormation updates a
 * function only when ImageUri changes, so a re-pushed tag would never deploy,
 * and a digest is what was reviewed. Lambda pulls from the function's own region
 * (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html); the Pulumi
 * program passes each region its own repository's URI.
 */
export const IMAGE_URI_PATTERN =
  '^[0-9]{12}\\.dkr\\.ecr\\.[a-z]{2}(-gov)?-[a-z]+-[0-9]\\.amazonaws\\.com(\\.cn)?/(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*@sha256:[a-f0-9]{64}$';

const memory = (fn: string, defaultMb: number): ParameterDef => ({
  Type: 'Number',
  Description: `Memory of the ${fn} function in MB (CPU scales with it).`,
  MinValue: 128,
  MaxValue: 10240,
  Default: defaultMb,
  ConstraintDescription: 'Must be 128 to 10240 MB (Lambda limits).',
});

export const ComputeParameters = {
  ImageUri: {
    Type: 'String',
    Description: 'Lambda container image of this region, pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>.',
    AllowedPattern: IMAGE_URI_PATTERN,
    ConstraintDescription: 'Must be an ECR image URI pinned by a sha256 digest; a tag is refused (CloudFormation only updates a function when the URI changes).',
  },
  ValidatorMemorySize: memory('transaction validator', 1024),
  MigrationMemorySize: memory('schema-migration', 512),
  GateMemorySize: memory('deployment gate', 256),
  ValidatorTimeoutSeconds: {
    Type: 'Number',
    Description: 'Timeout of the transaction validator in seconds; below the HTTP API integration limit of 30 s, after which the client gets 503 anyway.',
    // At least 8 s: the validator starts a dependency call only when its worst case fits
    // (an AWS call up to 3 s, a new database connection up to 6 s: lambda/tap/aws.py, db.py),
    // so below 8 s a request with one slow dependency would answer 503 far more often.
    MinValue: 8,
    MaxValue: 29,
    Default: 10,
    ConstraintDescription: 'Must be 8 to 29 seconds (the validator needs room for a few dependency calls of up to 3 s each before it answers; the HTTP API waits at most 30 s for an integration).',
  },
  ValidatorReservedConcurrency: {
    Type: 'Number',
    Description: 'Concurrency reserved for the validator: guaranteed capacity, and a ceiling that protects Aurora connections. The account quota must keep 100 unreserved.',
    MinValue: 1,
    MaxValue: 5000,
    Default: 100,
    ConstraintDescription: 'Must be 1 to 5000 (and fit the account concurrency quota, which keeps 100 unreserved).',
  },
  MaxTransactionAmount: {
    Type: 'String',
    Description: 'Largest amount the validator accepts, as a decimal string.',
    AllowedPattern: '^[1-9][0-9]{0,11}(\\.[0-9]{1,3})?$',
    Default: '10000.00',
    ConstraintDescription: 'Must be a positive decimal number without sign or exponent, at most 12 integer digits and 3 decimals.',
  },
  ClockSkewSeconds: {
    Type: 'Number',
    Description: 'Largest accepted distance between a transaction timestamp and the server clock, in seconds.',
    MinValue: 1,
    MaxValue: 3600,
    Default: 300,
    ConstraintDescription: 'Must be 1 to 3600 seconds.',
  },
  ConfigTtlSeconds: {
    Type: 'Number',
    Description: 'Longest time a warm function reuses the database settings read from SSM and Secrets Manager, in seconds.',
    MinValue: 30,
    MaxValue: 3600,
    Default: 300,
    ConstraintDescription: 'Must be 30 to 3600 seconds.',
  },
  LogLevel: {
    Type: 'String',
    Description: 'Log level of the functions.',
    AllowedValues: ['DEBUG', 'INFO', 'WARNING', 'ERROR'],
    Default: 'INFO',
    ConstraintDescription: 'Must be DEBUG, INFO, WARNING or ERROR.',
  },
} as const satisfies Record<string, ParameterDef>;

/** Fixed by the requirements and the handlers' contracts, not tunable. */
export const MIGRATION_TIMEOUT_SECONDS = 300; // "5-minute timeout for migration operations"
export const GATE_TIMEOUT_SECONDS = 900; // the gate bakes up to 10 minutes and answers before this (lambda/tap/deploy_gate.py)
/**
 * The prerequisites wait polls for at most PREREQUISITES_MAX_WAIT_SECONDS (both regions
 * are created together; the secondary's bucket and keys take a minute or two) and answers
 * before its function's timeout, which is also the custom resource's ServiceTimeout.
 */
export const PREREQUISITES_MAX_WAIT_SECONDS = 300;
export const PREREQUISITES_TIMEOUT_SECONDS = 360;
/** The wait only reads two APIs: the smallest memory size is enough. */
export const PREREQUISITES_MEMORY_MB = 256;
export const ARCHITECTURE = 'x86_64'; // the image is built for linux/amd64 (lambda/Dockerfile)

export const HANDLERS = {
  validator: 'validator.handler',
  migration: 'migrate.handler',
  gate: 'gate.handler',
  prerequisites: 'prerequisites.handler',
} as const;
