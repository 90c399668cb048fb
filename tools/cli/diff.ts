/**
 * `npm run diff`: what CloudFormation will do when the freshly synthesized
 * templates replace a baseline, stack by stack (tools/review/templateDiff.ts).
 *
 *   npm run diff                              # base: origin/main if it exists, else HEAD
 *   npm run diff -- --base HEAD~1             # committed cfn/templates at any git ref
 *   npm run diff -- --base-dir /tmp/deployed  # templates fetched from a deployed stack
 *   npm run diff -- --fail-on-replacement     # exit 2 if a stateful resource is replaced or removed
 *   npm run diff -- --base-dir a --head-dir b # two template directories, no synth (e.g. two fetched sets)
 *
 * Exit codes: 0 reviewed; 2 --fail-on-replacement and data at risk; 1 bad usage or unreadable input.
 */
import { renderAll, synthesize } from '../../cfn/build';
import { exitCode, formatReview, reviewDiff, TemplateTexts } from '../review/templateDiff';
import { defaultRef, templatesAtRef, templatesInDir, TEMPLATES_PATH } from '../review/baseline';

const USAGE = `usage: npm run diff -- [--base <git ref> | --base-dir <dir>] [--head-dir <dir>] [--fail-on-replacement] [--no-color]
  --base <ref>           compare with cfn/templates/*.json at a git ref (default: origin/main if it exists, else HEAD)
  --base-dir <dir>       compare with <Name>.json files in a directory (for example fetched from a deployed stack)
  --head-dir <dir>       compare against <Name>.json files in a directory instead of a fresh synth
  --fail-on-replacement  exit 2 when a stateful resource would be replaced or removed
  --no-color             plain output even on a terminal`;

class UsageError extends Error {}

interface Args {
  readonly base?: string;
  readonly baseDir?: string;
  readonly headDir?: string;
  readonly failOnReplacement: boolean;
  readonly color: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let base: string | undefined;
  let baseDir: string | undefined;
  let headDir: string | undefined;
  let failOnReplacement = false;
  let color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--base') base = value();
    else if (a === '--base-dir') baseDir = value();
    else if (a === '--head-dir') headDir = value();
    else if (a === '--fail-on-replacement') failOnReplacement = true;
    else if (a === '--no-color') color = false;
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else throw new UsageError(`unknown option ${a}`);
  }
  if (base !== undefined && baseDir !== undefined) throw new UsageError('--base and --base-dir exclude each other');
  return { base, baseDir, headDir, failOnReplacement, color };
}

function main(argv: readonly string[]): number {
  const args = parseArgs(argv);
  let base: TemplateTexts;
  let label: string;
  if (args.baseDir !== undefined) {
    base = templatesInDir('--base-dir', args.baseDir);
    label = `${args.baseDir}/`;
  } else {
    const ref = args.base ?? defaultRef();
    base = templatesAtRef(ref);
    label = `${TEMPLATES_PATH} at ${ref}`;
  }
  const head = args.headDir === undefined ? renderAll(synthesize()) : templatesInDir('--head-dir', args.headDir);
  const review = reviewDiff(base, head);
  process.stdout.write(formatReview(review, { color: args.color, baseLabel: label, headLabel: args.headDir === undefined ? 'a fresh synth' : `${args.headDir}/` }));
  return exitCode(review, { failOnReplacement: args.failOnReplacement });
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    if (e.message === '') process.stdout.write(`${USAGE}\n`);
    else process.stderr.write(`diff: ${e.message}\n${USAGE}\n`);
    process.exitCode = e.message === '' ? 0 : 1;
  } else {
    process.stderr.write(`diff: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
