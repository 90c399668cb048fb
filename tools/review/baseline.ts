/**
 * Where `npm run diff` reads its baseline (and, optionally, its head): the
 * committed cfn/templates at a git ref, or a directory of <Name>.json files,
 * for example templates fetched from a deployed stack. Errors name the option
 * and the bad value; the CLI prints them without a stack trace.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TemplateTexts } from './templateDiff';

export const REPO = path.join(__dirname, '..', '..');
export const TEMPLATES_PATH = 'cfn/templates';

function git(args: readonly string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return undefined;
  }
}

const isCommit = (ref: string, cwd: string): boolean => !ref.startsWith('-') && git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd) !== undefined;

/** origin/main when the repository has it, else HEAD. */
export function defaultRef(cwd: string = REPO): string {
  if (isCommit('origin/main', cwd)) return 'origin/main';
  if (isCommit('HEAD', cwd)) return 'HEAD';
  throw new Error('no baseline: this repository has no origin/main and no commit yet; pass --base-dir <dir>');
}

/** cfn/templates/*.json as committed at `ref`; a template absent there is "new" in the review. */
export function templatesAtRef(ref: string, cwd: string = REPO): TemplateTexts {
  if (!isCommit(ref, cwd)) throw new Error(`--base ${ref}: not a commit in this repository (try HEAD, HEAD~1, origin/main or a commit hash)`);
  const listing = git(['ls-tree', '--name-only', `${ref}:${TEMPLATES_PATH}`], cwd) ?? '';
  const out = new Map<string, string>();
  for (const file of listing.split('\n').filter((f) => f.endsWith('.json'))) {
    const text = git(['show', `${ref}:${TEMPLATES_PATH}/${file}`], cwd);
    if (text === undefined) throw new Error(`--base ${ref}: cannot read ${TEMPLATES_PATH}/${file}`);
    out.set(path.basename(file, '.json'), text);
  }
  return out;
}

/** Every <Name>.json in `dir`; `option` names the flag in error messages. */
export function templatesInDir(option: string, dir: string): TemplateTexts {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) throw new Error(`${option} ${dir}: no such directory`);
  if (!stat.isDirectory()) throw new Error(`${option} ${dir}: not a directory`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`${option} ${dir}: no <Name>.json templates in it`);
  return new Map(files.map((f) => [path.basename(f, '.json'), fs.readFileSync(path.join(dir, f), 'utf8')]));
}
