/**
 * Runs the Pulumi program (index.ts) as `npm install --omit=dev` would leave it:
 * every package the lock file marks dev-only (`"dev": true`) is refused when
 * anything resolves it, and hidden from the TypeScript compiler. The program is
 * compiled as `pulumi up` compiles it (node_modules/@pulumi/pulumi/cmd/run/run.js):
 * the ts-node and TypeScript Pulumi's own tsutils picks (its vendored ts-node,
 * the project's `typescript`), type-checking (its default), with the project's
 * tsconfig.json (`typescript` is a runtime dependency:
 * Pulumi's vendored TypeScript 3.8 cannot compile this code). So a type error,
 * or a type library that only a dev install has (TS2688), fails here as it
 * would fail `pulumi up`. Pulumi runs under mocks; prints one JSON line:
 * {"types": [...registered resource types]} or {"error": "..."}.
 *
 * Usage: node runtimeOnly.js   (TAP_CONFIG: JSON of the stack's config, TAP_STACK, TAP_SECONDARY: JSON outputs)
 */
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const ROOT = path.join(__dirname, '..', '..', '..');
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages;

/** `node_modules/a/node_modules/@b/c` for a file inside that package, or undefined outside node_modules. */
function lockKey(file) {
  const rel = path.relative(ROOT, file).split(path.sep);
  let end = -1;
  for (let i = 0; i < rel.length; i++) if (rel[i] === 'node_modules') end = i + (rel[i + 1] !== undefined && rel[i + 1].startsWith('@') ? 2 : 1);
  return end < 0 ? undefined : rel.slice(0, end + 1).join('/');
}

const isDevOnly = (file) => {
  const key = path.isAbsolute(file) ? lockKey(file) : undefined;
  return key !== undefined && lock[key] !== undefined && lock[key].dev === true;
};

const refused = new Set();
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const file = resolve.call(this, request, parent, ...rest);
  if (isDevOnly(file)) {
    refused.add(lockKey(file));
    throw new Error(`${request} (${lockKey(file)}) is a devDependency-only package: npm install --omit=dev leaves it out (required from ${parent && parent.filename})`);
  }
  return file;
};

// The compiler reads type libraries from disk, not through require: hide the dev-only ones from it.
const ts = require('typescript');
const sys = ts.sys;
for (const name of ['fileExists', 'directoryExists']) {
  const original = sys[name];
  sys[name] = (p) => !isDevOnly(path.resolve(p)) && original(p);
}
const readFile = sys.readFile;
sys.readFile = (p, encoding) => (isDevOnly(path.resolve(p)) ? undefined : readFile(p, encoding));
const getDirectories = sys.getDirectories;
sys.getDirectories = (p) => getDirectories(p).filter((d) => !isDevOnly(path.resolve(p, d)));
const readDirectory = sys.readDirectory;
sys.readDirectory = (...args) => readDirectory(...args).filter((f) => !isDevOnly(path.resolve(f)));

// The ts-node and TypeScript `pulumi up` picks (its own choice, with the dev-only packages refused above).
const { tsnodeRequire, typescriptRequire } = require('@pulumi/pulumi/tsutils').typeScriptRequireStrings();
require(tsnodeRequire).register({ compiler: typescriptRequire, project: path.join(ROOT, 'tsconfig.json'), transpileOnly: false, compilerOptions: {}, cache: false });

async function main() {
  const pulumi = require('@pulumi/pulumi');
  const config = JSON.parse(process.env.TAP_CONFIG);
  const secondary = JSON.parse(process.env.TAP_SECONDARY ?? '{}');
  const account = '210987654321';
  const types = [];
  pulumi.runtime.setAllConfig(config, []);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        types.push(args.type);
        if (args.type === 'pulumi:pulumi:StackReference') return { id: args.inputs.name, state: { name: args.inputs.name, outputs: secondary, secretOutputNames: [] } };
        const region = config['aws:region'];
        const name = args.inputs.repositoryName ?? args.inputs.name ?? args.name;
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, repositoryUri: `${account}.dkr.ecr.${region}.amazonaws.com/${name}`, arn: `arn:aws:mock:${region}:${account}:${name}`, repoDigest: `x@sha256:${'a'.repeat(64)}` },
        };
      },
      call() {
        return { accountId: account, region: config['aws:region'], userName: 'AWS', password: 'p', proxyEndpoint: 'https://x' };
      },
    },
    'tap',
    process.env.TAP_STACK,
    false,
  );
  const main = require(path.join(ROOT, 'index.ts'));
  const outputs = await main();
  await Promise.all(Object.values(outputs).map((o) => (pulumi.Output.isInstance(o) ? o.promise() : o)));
  await pulumi.runtime.disconnect();
  process.stdout.write(`${JSON.stringify({ types: [...new Set(types)].sort(), refused: [...refused] })}\n`);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: String(e && e.message ? e.message : e), refused: [...refused] })}\n`);
  process.exitCode = 1;
});
