/**
 * Runs the Pulumi program (index.ts) against pulumi.runtime.setMocks with a
 * stack's real configuration, and records every resource, every provider call
 * and every dependency the SDK sends to the engine.
 *
 * The mocks answer only the resource types and calls the program is expected to
 * use, with values computed from the inputs (ARNs, repository URLs, digests),
 * and record anything else as unexpected: a run with unexpected traffic fails.
 * The one AWS account in sight is MOCK_ACCOUNT, returned by getCallerIdentity.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import type * as Pulumi from '@pulumi/pulumi';
import { readTemplates, sha256, templateObjectKey } from '../../../program/committedTemplates';

export const ROOT = path.join(__dirname, '..', '..', '..');
/** The fake account; the program must take every account ID from getCallerIdentity. */
export const MOCK_ACCOUNT = '210987654321';
export const STACKS = ['prod-us', 'prod-eu'] as const;
export type StackName = (typeof STACKS)[number];

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
  /** Resource options as the SDK sent them to the engine. */
  readonly options: RecordedOptions;
}

export interface RecordedOptions {
  /** Names of the resources this one depends on (explicit dependsOn and inputs): what the engine orders by. */
  readonly dependsOn: string[];
  /** Type of the parent resource, if any. */
  readonly parentType?: string;
  readonly customTimeouts?: { create: string; update: string; delete: string };
  readonly retainOnDelete?: boolean;
}

export interface ProgramRun {
  readonly region: string;
  readonly resources: RecordedResource[];
  readonly calls: Array<{ token: string; inputs: Record<string, unknown> }>;
  readonly outputs: Record<string, unknown>;
}

/**
 * What the secondary stack (prod-eu) exports, as the StackReference reads it:
 * up to date, so its template URLs end with the committed templates' keys.
 */
export const secondaryOutputs = (region = 'eu-west-1'): Record<string, unknown> => ({
  imageUri: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/tap-lambda-prod@sha256:${sha('secondary image')}`,
  templateUrls: Object.fromEntries(
    readTemplates().nested.map((f) => [f.name, `https://tap-templates-prod-${MOCK_ACCOUNT}-${region}.s3.${region}.amazonaws.com/${templateObjectKey(f)}`]),
  ),
});

export const sha = sha256;

/** Pulumi config values are strings; objects travel as JSON, as the CLI passes them. */
const asConfigString = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * The configuration the CLI would pass for `stack`: Pulumi.yaml defaults, then
 * Pulumi.<stack>.yaml, then `overrides` (undefined removes a key).
 */
export function stackConfig(stack: StackName, overrides: Record<string, unknown> = {}): Record<string, string> {
  const project = parse(fs.readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')) as { config?: Record<string, { default?: unknown }> };
  const stackFile = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config?: Record<string, unknown> };
  const merged: Record<string, unknown> = {};
  for (const [k, decl] of Object.entries(project.config ?? {})) if (decl.default !== undefined) merged[k] = decl.default;
  Object.assign(merged, stackFile.config ?? {}, overrides);
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined).map(([k, v]) => [k, asConfigString(v)]));
}

const fakeUuid = (seed: string): string => {
  const h = sha(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** Resource inputs as the mocks receive them (only string-valued keys are read). */
type Inputs = Record<string, string>;

/** Mocked state of each resource type the program may declare; anything else is unexpected. */
function resourceState(type: string, name: string, inputs: Inputs, region: string): { id: string; state: Record<string, unknown> } | undefined {
  const id = `${name}-id`;
  switch (type) {
    case 'aws-native:ecr:Repository':
      return {
        id: inputs.repositoryName,
        state: {
          ...inputs,
          arn: `arn:aws:ecr:${region}:${MOCK_ACCOUNT}:repository/${inputs.repositoryName}`,
          repositoryUri: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${inputs.repositoryName}`,
        },
      };
    case 'pulumi:providers:aws-native':
      return { id: `${name}-provider`, state: inputs };
    case 'docker:index/image:Image': {
      const imageName = String(inputs.imageName);
      return { id, state: { ...inputs, repoDigest: `${imageName.replace(/:[^:/]+$/, '')}@sha256:${sha(imageName)}` } };
    }
    case 'aws:s3/bucket:Bucket':
      return { id: inputs.bucket, state: { ...inputs, arn: `arn:aws:s3:::${inputs.bucket}`, region } };
    case 'aws:s3/bucketObjectv2:BucketObjectv2':
      return { id: inputs.key, state: { ...inputs, versionId: sha(String(inputs.content)).slice(0, 32), etag: sha(String(inputs.content)).slice(0, 32) } };
    case 'aws:iam/role:Role':
      return { id: inputs.name, state: { ...inputs, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${inputs.name}`, uniqueId: `AROA${sha(inputs.name).slice(0, 17).toUpperCase()}` } };
    case 'aws:cloudformation/stackSet:StackSet':
      return {
        id: inputs.name,
        state: { ...inputs, arn: `arn:aws:cloudformation:${region}:${MOCK_ACCOUNT}:stackset/${inputs.name}:${fakeUuid(inputs.name)}`, stackSetId: `${inputs.name}:${fakeUuid(inputs.name)}` },
      };
    case 'aws:cloudformation/stackInstances:StackInstances':
      return { id: `${inputs.stackSetName},SELF`, state: { ...inputs, stackSetId: `${inputs.stackSetName}:${fakeUuid(String(inputs.stackSetName))}`, stackInstanceSummaries: [] } };
    case 'aws:ecr/lifecyclePolicy:LifecyclePolicy':
    case 'aws:s3/bucketVersioning:BucketVersioning':
    case 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration':
    case 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock':
    case 'aws:s3/bucketOwnershipControls:BucketOwnershipControls':
    case 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration':
    case 'aws:s3/bucketPolicy:BucketPolicy':
    case 'aws:iam/rolePolicy:RolePolicy':
      return { id, state: inputs };
    default:
      return undefined;
  }
}

const COMPONENT_TYPES = ['tap:image:LambdaImage', 'tap:artifacts:TemplateArtifacts', 'tap:stackset:StackSetRoles', 'tap:stackset:TransactionStackSet'];

function callResult(token: string, inputs: Inputs, region: string): Record<string, unknown> | undefined {
  switch (token) {
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: 'AIDAMOCKUSER', id: MOCK_ACCOUNT };
    case 'aws:index/getRegion:getRegion':
      return { region, name: region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
    case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
      return {
        registryId: inputs.registryId,
        userName: 'AWS',
        password: 'mock-registry-password',
        authorizationToken: Buffer.from('AWS:mock-registry-password').toString('base64'),
        proxyEndpoint: `https://${inputs.registryId}.dkr.ecr.${region}.amazonaws.com`,
        expiresAt: '2030-01-01T00:00:00Z',
        id: region,
      };
    default:
      return undefined;
  }
}

/** The last `::` part of a URN is the resource name. */
const urnName = (urn: string): string => urn.split('::').pop() ?? urn;

/** Loads a module of the project (path relative to the repository root) inside the isolated registry. */
export type Loader = <T extends object>(relativePath: string) => T;

/**
 * Imports index.ts afresh (jest.isolateModules) under mocks with this stack's
 * configuration, waits for every registration, and returns what was declared.
 * A configuration error thrown by the program rejects the promise.
 */
export const runProgram = (stack: StackName, options: RunOptions = {}): Promise<ProgramRun> => runPulumi(stack, options, loadIndex);

/** index.ts exports its main function (`export =`): call it, as the Pulumi runtime does. */
const loadIndex = (load: Loader): Promise<Record<string, unknown>> => {
  const main = load<() => Promise<Record<string, unknown>>>('index');
  if (typeof main !== 'function') throw new Error('index.ts must export its main function (export = async () => ...)');
  return main();
};

/** A run of the program that must fail: its error, and what was sent to the engine before it. */
export interface FailedRun {
  readonly error: Error;
  readonly resources: readonly RecordedResource[];
  readonly calls: ProgramRun['calls'];
}

/** Runs index.ts and expects it to fail; resolves with the error and everything it registered first. */
export async function runProgramExpectingError(stack: StackName, options: RunOptions = {}): Promise<FailedRun> {
  const seen: { resources: RecordedResource[]; calls: ProgramRun['calls'] } = { resources: [], calls: [] };
  try {
    await runPulumi(stack, { ...options, record: seen }, loadIndex);
  } catch (e) {
    return { error: e instanceof Error ? e : new Error(String(e)), resources: seen.resources, calls: seen.calls };
  }
  throw new Error(`${stack}: the program was expected to fail, but it ran to completion`);
}

export interface RunOptions {
  /** Overrides of the stack's configuration (undefined removes a key). */
  readonly config?: Record<string, unknown>;
  /** Outputs of the secondary stack the StackReference reads. @default secondaryOutputs() */
  readonly secondary?: Record<string, unknown>;
  /** Receives every registration and call as it happens (so a failed run can be inspected). */
  readonly record?: { resources: RecordedResource[]; calls: ProgramRun['calls'] };
}

/**
 * Runs `body` (which loads the program or declares components) under the mocks
 * in a fresh module registry; its returned values are resolved like stack outputs.
 */
export async function runPulumi(
  stack: StackName,
  options: RunOptions,
  body: (load: Loader) => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<ProgramRun> {
  const config = stackConfig(stack, options.config);
  const region = config['aws:region'] ?? 'us-east-1';
  const resources: RecordedResource[] = options.record?.resources ?? [];
  const calls: ProgramRun['calls'] = options.record?.calls ?? [];
  const unexpected: string[] = [];
  // Rejects the run as soon as the mocks see something unexpected (its outputs would never settle).
  let failRun: (reason: Error) => void = () => undefined;
  const unexpectedTraffic = new Promise<never>((_, reject) => {
    failRun = reject;
  });
  unexpectedTraffic.catch(() => undefined);
  const requestOptions = new Map<string, RecordedOptions>();
  const stackOutputs = options.secondary ?? secondaryOutputs();

  const mocks: Pulumi.runtime.Mocks = {
    newResource(args) {
      const inputs = args.inputs as Inputs;
      const record = (custom: boolean): void => {
        resources.push({ type: args.type, name: args.name, inputs, custom, options: { dependsOn: [] } });
      };
      if (args.type === 'pulumi:pulumi:StackReference') {
        record(true);
        return { id: inputs.name, state: { name: inputs.name, outputs: stackOutputs, secretOutputNames: [] } };
      }
      if (COMPONENT_TYPES.includes(args.type)) {
        record(false);
        return { id: '', state: {} };
      }
      const result = resourceState(args.type, args.name, inputs, region);
      if (result === undefined) {
        unexpected.push(`resource ${args.type} (${args.name})`);
        failRun(new Error(`the program declared a resource the mocks do not expect: ${args.type} (${args.name})`));
        throw new Error(`unexpected resource type ${args.type}`);
      }
      record(true);
      return result;
    },
    call(args) {
      const result = callResult(args.token, args.inputs as Inputs, region);
      if (result === undefined) {
        unexpected.push(`call ${args.token}`);
        failRun(new Error(`the program made a call the mocks do not expect: ${args.token}`));
        throw new Error(`unexpected call ${args.token}`);
      }
      calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
      return result;
    },
  };

  let pulumi: typeof Pulumi | undefined;
  let returned: Record<string, unknown> | Promise<Record<string, unknown>> = {};
  let loadError: unknown;
  jest.isolateModules(() => {
    pulumi = jest.requireActual<typeof Pulumi>('@pulumi/pulumi');
    pulumi.runtime.setAllConfig(config, []);
    void pulumi.runtime.setMocks(mocks, 'tap', stack, false);
    wrapMonitor(pulumi, requestOptions);
    try {
      returned = body(<T extends object>(relativePath: string) => jest.requireActual<T>(path.join(ROOT, relativePath)));
    } catch (e) {
      loadError = e;
    }
  });
  if (pulumi === undefined) throw new Error('unreachable: @pulumi/pulumi did not load');
  const p = pulumi;
  let completed = false;
  try {
    if (loadError !== undefined) throw loadError;
    const exported = await Promise.race([Promise.resolve(returned), unexpectedTraffic]);
    // All at once, so an output whose apply throws rejects the run at once.
    const entries = await Promise.race([
      Promise.all(
        Object.entries(exported).map(async ([name, value]) => [name, p.Output.isInstance(value) ? await (value as unknown as { promise(): Promise<unknown> }).promise() : value] as const),
      ),
      unexpectedTraffic,
    ]);
    const outputs: Record<string, unknown> = Object.fromEntries(entries);
    // Every registration, including those no output depends on.
    await Promise.race([p.runtime.disconnect(), unexpectedTraffic]);
    completed = true;
    if (unexpected.length > 0) throw new Error(`the program used what the mocks do not expect:\n${unexpected.join('\n')}`);
    const withOptions = resources.map((r) => ({ ...r, options: requestOptions.get(`${r.type}::${r.name}`) ?? r.options }));
    return { region, resources: withOptions, calls, outputs };
  } finally {
    // A failed registration never settles the RPC queue: drop the connection without waiting.
    if (!completed) p.runtime.disconnectSync();
  }
}

/**
 * The mocks' newResource does not see resource options, so they are read from
 * the request the SDK sends the monitor: the dependency list there is what the
 * engine orders creation, update and deletion by.
 */
function wrapMonitor(pulumi: typeof Pulumi, options: Map<string, RecordedOptions>): void {
  type Timeouts = { getCreate(): string; getUpdate(): string; getDelete(): string };
  type Request = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    getCustomtimeouts(): Timeouts | undefined;
    getRetainondelete(): boolean | undefined;
  };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, callback: unknown): void } | undefined;
  if (monitor === undefined) throw new Error('pulumi.runtime.getMonitor() returned no mock monitor');
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const timeouts = req.getCustomtimeouts();
    const parent = req.getParent();
    options.set(`${req.getType()}::${req.getName()}`, {
      dependsOn: req.getDependenciesList().map(urnName),
      ...(parent === '' ? {} : { parentType: urnType(parent) }),
      ...(timeouts === undefined ? {} : { customTimeouts: { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } }),
      ...(req.getRetainondelete() === true ? { retainOnDelete: true } : {}),
    });
    original(req, callback);
  };
}

/** The type of a URN (`...::<parent types $>type::name`), innermost. */
const urnType = (urn: string): string => (urn.split('::')[2] ?? '').split('$').pop() ?? '';

/** Resources of one type. */
export const ofType = (run: ProgramRun, type: string): RecordedResource[] => run.resources.filter((r) => r.type === type);

/** The single resource of a type; fails when there is not exactly one. */
export function only(run: ProgramRun, type: string): RecordedResource {
  const found = ofType(run, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}: ${found.map((r) => r.name).join(', ')}`);
  return found[0];
}
